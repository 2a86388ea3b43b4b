"""The admin home's to-do list: {% todo_list as items %} (reminders.todo)."""

from django import template

from reminders.todo import todo_items

register = template.Library()


@register.simple_tag(takes_context=True)
def todo_list(context):
    request = context.get("request")
    return todo_items(request.user) if request is not None else []
