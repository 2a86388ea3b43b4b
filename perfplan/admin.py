from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources

from goals.amendments import AmendmentError, publish
from perfplan.planfiles import views as plan_views
from rollover.views import roll_forward_action, roll_urls

from .admin_base import ChangeLogHistoryMixin, PlanDataAdmin, count_column
from .locking import OptimisticLockAdminMixin
from .models import DECLARED_FIGURES, Department, ImportBatch, ImportFile, Plan
from .numbers import format_amount
from .roles import may_view_plan_tables

admin.site.site_header = _("perfplan performance plan")
admin.site.site_title = _("perfplan")
admin.site.index_title = _("Performance plan administration")


class DepartmentResource(resources.ModelResource):
    """What the department list's export writes."""

    code = fields.Field("code", _("code"))
    name = fields.Field("name", _("name"))

    class Meta:
        model = Department
        fields = ("code", "name")
        import_id_fields = ("name",)


@admin.register(Department)
class DepartmentAdmin(PlanDataAdmin):
    resource_classes = [DepartmentResource]
    list_display = ("name", "code", "plan_count")
    search_fields = ("name", "code")

    def get_queryset(self, request):
        # Counting groups rows, which drops Meta.ordering: keep the list's order explicit.
        return (
            super()
            .get_queryset(request)
            .annotate(n_plans=Count("plan_entries"))
            .order_by(*self.model._meta.ordering)
        )

    plan_count = count_column("n_plans", _("plans"))


@admin.register(Plan)
class PlanAdmin(OptimisticLockAdminMixin, ChangeLogHistoryMixin, admin.ModelAdmin):
    list_display = ("fiscal_year", "title", "published_at", "department_count", "tables_link")
    actions = ["publish_selected", roll_forward_action]
    search_fields = ("title", "fiscal_year")
    fieldsets = (
        (None, {"fields": ("fiscal_year", "title", "year_note")}),
        (
            _("Total row (계) as declared"),
            {"fields": DECLARED_FIGURES},
        ),
        (
            _("Tracking and review"),
            {
                "fields": (
                    "threshold_achieved",
                    "threshold_caution",
                    "entry_deadline_days",
                    "reminder_days",
                    "allow_self_review",
                )
            },
        ),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(n_departments=Count("departments"))
            .order_by(*self.model._meta.ordering)
        )

    department_count = count_column("n_departments", _("departments"))

    @admin.display(description=_("summary tables"))
    def tables_link(self, obj):
        return ""  # replaced for each request by get_list_display, which knows the user

    def get_list_display(self, request):
        # The link is shown exactly where the tables page opens (perfplan.roles).
        user = request.user

        @admin.display(description=_("summary tables"))
        def tables_link(obj):
            if not may_view_plan_tables(user, obj):
                return ""
            return format_html(
                '<a href="{}">{}</a>',
                reverse("admin:perfplan_plan_tables", args=[obj.pk]),
                _("tables 가 and 나"),
            )

        return [tables_link if name == "tables_link" else name for name in self.list_display]

    def get_fieldsets(self, request, obj=None):
        # Table 가's departments, under the same rule as the tables (perfplan.roles): a list
        # of links read in one query, not an inline form per department (250 in a ministry).
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not may_view_plan_tables(request.user, obj):
            return fieldsets
        return [*fieldsets, (_("Departments (table 가)"), {"fields": ["department_list"]})]

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "department_list")

    @admin.display(description=_("departments"))
    def department_list(self, obj):
        if obj is None or obj.pk is None:
            return ""
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td><a href="{}">{}</a></td><td>{}</td></tr>',
            (
                (
                    department.position,
                    reverse("admin:goals_plandepartment_change", args=[department.pk]),
                    department.name,
                    format_amount(department.declared_budget),
                )
                for department in obj.departments.order_by("position", "pk")
            ),
        )
        return format_html(
            '<p><a href="{}?plan__id__exact={}">{}</a></p>'
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            reverse("admin:goals_plandepartment_changelist"),
            obj.pk,
            _("Every department of this plan, with its goals and indicators"),
            _("order"),
            _("department"),
            _("budget (declared)"),
            rows,
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra_context = {
            "show_plan_tables": may_view_plan_tables(request.user, obj),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Publish the selected plans"), permissions=["change"])
    def publish_selected(self, request, queryset):
        # The standard intermediate page: nothing is published until it is confirmed.
        if request.POST.get("post") != "yes":
            return self._publish_confirmation(request, queryset)
        for plan in queryset:
            try:
                publish(request.user, plan)
            except AmendmentError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, _("%(plan)s published.") % {"plan": plan})

    def _publish_confirmation(self, request, queryset):
        plans = list(queryset)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Publish the performance plan?"),
            "opts": self.model._meta,
            "to_publish": [plan for plan in plans if plan.published_at is None],
            "already_published": [plan for plan in plans if plan.published_at is not None],
            "queryset": plans,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/perfplan/plan/publish_confirmation.html", context)

    def get_urls(self):
        site = self.admin_site

        def wrap(view):
            return site.admin_view(lambda request, *a, **kw: view(request, site, *a, **kw))

        return [
            path("import/", wrap(plan_views.plan_import_view), name="perfplan_plan_import"),
            path(
                "import/template/",
                wrap(plan_views.import_template_view),
                name="perfplan_plan_import_template",
            ),
            path(
                "import/<uuid:batch_id>/confirm/",
                wrap(plan_views.plan_import_confirm_view),
                name="perfplan_plan_import_confirm",
            ),
            path(
                "<int:plan_id>/tables/",
                wrap(plan_views.plan_tables_view),
                name="perfplan_plan_tables",
            ),
            path(
                "<int:plan_id>/export/",
                wrap(plan_views.plan_export_view),
                name="perfplan_plan_export",
            ),
            *roll_urls(wrap),
            *super().get_urls(),
        ]


class ImportFileInline(admin.TabularInline):
    model = ImportFile
    fields = ("name", "size")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("created_at", "fiscal_year", "source", "status", "created_by", "applied_at")
    list_filter = ("status", "source", "fiscal_year")
    list_select_related = ("created_by",)
    readonly_fields = (
        "fiscal_year",
        "source",
        "status",
        "created_by",
        "created_at",
        "applied_at",
        "summary_text",
    )
    fields = readonly_fields  # not the raw summary JSON a view-only form would add
    inlines = [ImportFileInline]

    @admin.display(description=_("summary"))
    def summary_text(self, obj):
        """What the stored summary says, in words (it is JSON for the import runner)."""
        lines = import_summary_lines(obj.summary or {})
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines)) or "-"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


IMPORT_KIND_LABELS = {
    "plan": _("plan tables"),
    "plan_text": _("text of a published plan"),
    "results": _("results"),
    "rollover": _("next year's plan from this year's"),
}


def import_summary_lines(summary):
    """An import's kind, reason and counts (by level where the kind counts so) as people
    read them; the file digests, fingerprints and progress are for the runner only."""
    from perfplan.planfiles.importer.changes import LEVEL_LABELS

    from .changelog_display import IMPORT_COUNT_LABELS

    kind = summary.get("kind", "")
    lines = [f"{_('kind')}: {IMPORT_KIND_LABELS.get(kind, kind)}"]
    if summary.get("reason"):
        lines.append(f"{_('reason')}: {summary['reason']}")
    counts = summary.get("counts") or {}
    by_level = {k: v for k, v in counts.items() if isinstance(v, dict)}
    flat = {k: v for k, v in counts.items() if not isinstance(v, dict)}
    for level, actions in by_level.items():
        words = ", ".join(
            f"{IMPORT_COUNT_LABELS.get(action, action)} {number:,}"
            for action, number in actions.items()
            if number
        )
        if words:
            lines.append(f"{LEVEL_LABELS.get(level, level)}: {words}")
    if flat:
        lines.append(
            ", ".join(f"{IMPORT_COUNT_LABELS.get(a, a)} {n:,}" for a, n in flat.items() if n)
        )
    return [line for line in lines if line]


# Users, assignments and role groups; the change log.
from . import admin_changelog, admin_people  # noqa
