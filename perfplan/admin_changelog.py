"""The change log in the admin: read-only, filterable, exportable, fast on a million entries.

Auditors and plan admins (perfplan.view_changelogentry) filter the log by department, user,
object type, action and date range, search it by object, and export what they filtered to
xlsx. Nobody adds, edits or deletes an entry here: the admin grants no such permission to
anyone, superusers included (and on PostgreSQL the database refuses it too, see migration
0004).

Speed: the list never counts. NoCountChangeList fetches per_page + 1 rows, newest first
(previous / next paging); filter choices come from the small tables (departments, users,
content types) and never from DISTINCT over the log; facets and column sorting are off; the
date filter is a range (no date_hierarchy, which aggregates dates over the log). Department,
user and action filters are served by their (…, -sequence) indexes (ChangeLogEntry.Meta), a
date range by the timestamp index (see get_ordering).
"""

from __future__ import annotations

import datetime
import functools
import itertools
import tempfile
from dataclasses import dataclass

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.filters import (
    DateFieldListFilter,
    RelatedFieldListFilter,
)
from django.contrib.admin.options import IncorrectLookupParameters, ShowFacets
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import exports
from .admin_base import restrict_log_entries, scoped_related_queryset
from .changelog import tracked_models
from .changelog_display import ChangeDisplay, local_time, model_of
from .models import ChangeLogEntry, Department
from .paginators import NoCountChangeList
from .xlsx import Table, write_xlsx

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# One sheet holds 1,048,576 rows in Excel; one is the header.
EXPORT_MAX_ROWS = int(getattr(settings, "PERFPLAN_CHANGELOG_EXPORT_MAX_ROWS", 1_048_575))
CHANGES_SUMMARY_LENGTH = 160
# Entries whose related names the export reads in one go (per related model, one query).
EXPORT_DISPLAY_CHUNK = 2000


_CHANGE_URL_PLACEHOLDER = "__object_id__"


@functools.lru_cache(maxsize=256)
def _change_url_template(model):
    try:
        return reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_change",
            args=[_CHANGE_URL_PLACEHOLDER],
        )
    except NoReverseMatch:
        return None


def _object_url(entry):
    """The admin page of the entry's object (none for a deletion or an unknown type)."""
    if not entry.object_id or entry.action == ChangeLogEntry.Action.DELETE:
        return None
    model = model_of(entry.content_type_id)
    template = _change_url_template(model) if model is not None else None
    return template.replace(_CHANGE_URL_PLACEHOLDER, quote(entry.object_id)) if template else None


def _type_label(content_type_id):
    model = model_of(content_type_id)
    return str(capfirst(model._meta.verbose_name)) if model is not None else ""


def _summary(text):
    if len(text) > CHANGES_SUMMARY_LENGTH:
        text = text[: CHANGES_SUMMARY_LENGTH - 1] + "…"
    return text


# ---------------------------------------------------------------- filters


class LogDepartmentFilter(RelatedFieldListFilter):
    """Departments from the departments table (scoped), never DISTINCT over the log."""

    def field_choices(self, field, request, model_admin):
        departments = scoped_related_queryset(Department, request.user).order_by("name")
        return [(pk, name) for pk, name in departments.values_list("pk", "name")]


class LogUserFilter(RelatedFieldListFilter):
    """Users from the users table, by user name."""

    def field_choices(self, field, request, model_admin):
        users = get_user_model()._default_manager.order_by("username")
        return list(users.values_list("pk", "username"))


class LogObjectTypeFilter(RelatedFieldListFilter):
    """The kinds of records the log files entries under (not a scan of the log)."""

    def field_choices(self, field, request, model_admin):
        models = [*tracked_models(), get_user_model()]
        types = ContentType.objects.get_for_models(*models)
        return sorted(
            ((ct.pk, str(capfirst(model._meta.verbose_name))) for model, ct in types.items()),
            key=lambda choice: choice[1],
        )

    @property
    def include_empty_choice(self):
        return False


class LogDateFilter(DateFieldListFilter):
    """A date range (from / until) besides Django's today / 7 days / month / year links.

    Dates typed into the form mean local midnight; the lookups are timestamp__gte and
    timestamp__lt, which the timestamp index serves.
    """

    template = "admin/perfplan/changelogentry/date_range_filter.html"

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        first_of_month = today.replace(day=1)
        last_month = (first_of_month - datetime.timedelta(days=1)).replace(day=1)
        self.links = (
            *self.links[:3],
            (
                _("Past 30 days"),
                {
                    self.lookup_kwarg_since: today - datetime.timedelta(days=30),
                    self.lookup_kwarg_until: today + datetime.timedelta(days=1),
                },
            ),
            *self.links[3:4],
            (
                _("Last month"),
                {self.lookup_kwarg_since: last_month, self.lookup_kwarg_until: first_of_month},
            ),
            *self.links[4:],
        )
        for key, values in list(self.used_parameters.items()):
            values = [v for v in (values if isinstance(values, list) else [values]) if v]
            if not values:  # a half-filled from / until form
                del self.used_parameters[key]
                continue
            self.used_parameters[key] = [self._local_midnight(value) for value in values]
        self.other_params = {}

    @staticmethod
    def _local_midnight(value):
        """A bare date from the form means its local midnight (not a naive datetime)."""
        day = parse_date(value) if isinstance(value, str) and len(value) == 10 else None
        if day is None:
            return value
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

    def choices(self, changelist):
        from django.contrib.admin.views.main import PAGE_VAR

        self.other_params = {
            key: value
            for key, value in changelist.params.items()
            if not key.startswith(self.field_generic) and key != PAGE_VAR
        }
        yield from super().choices(changelist)

    def since_value(self):
        return str(self.date_params.get(self.lookup_kwarg_since, ""))[:10]

    def until_value(self):
        return str(self.date_params.get(self.lookup_kwarg_until, ""))[:10]


class ChangeLogChangeList(NoCountChangeList):
    """The log's list: no counting (NoCountChangeList), and rows prepared for a plain table.

    Django's result_list tag costs about a millisecond per cell; the log's change_list.html
    renders `log_rows` (the columns of list_display, in order) with a simple loop instead.
    """

    def get_results(self, request):
        super().get_results(request)
        admin_ = self.model_admin
        detail = reverse("admin:perfplan_changelogentry_change", args=[_CHANGE_URL_PLACEHOLDER])
        self.log_headers = [
            str(capfirst(label))
            for label in (
                _("sequence"),
                _("time"),
                _("user name"),
                _("action"),
                _("object type"),
                _("object"),
                _("department"),
                _("changes"),
            )
        ]
        actions = {value: str(label) for value, label in ChangeLogEntry.Action.choices}
        type_labels = {}

        def type_label(content_type_id):
            if content_type_id not in type_labels:
                type_labels[content_type_id] = _type_label(content_type_id)
            return type_labels[content_type_id]

        display = ChangeDisplay(self.result_list)
        self.log_rows = [
            {
                "sequence": entry.sequence,
                "url": detail.replace(_CHANGE_URL_PLACEHOLDER, str(entry.pk)),
                "timestamp": local_time(entry.timestamp),
                "username": entry.username,
                "action": actions.get(entry.action, entry.action),
                "object_type": type_label(entry.content_type_id),
                "object": entry.object_repr or entry.object_id,
                "object_url": _object_url(entry),
                "department": admin_.department_name(entry),
                "changes": _summary(display.text(entry)),
            }
            for entry in self.result_list
        ]


# ---------------------------------------------------------------- admin


@admin.register(ChangeLogEntry)
class ChangeLogEntryAdmin(admin.ModelAdmin):
    list_display = (
        "sequence",
        "local_timestamp",
        "username",
        "action",
        "object_type",
        "object_link",
        "department_name",
        "changes_summary",
    )
    list_display_links = ("sequence",)
    list_filter = (
        ("department", LogDepartmentFilter),
        ("user", LogUserFilter),
        ("content_type", LogObjectTypeFilter),
        "action",
        ("timestamp", LogDateFilter),
    )
    search_fields = ("=object_id", "=request_id", "object_repr")
    search_help_text = _(
        "An object's name (or part of it), an object id or a request id. "
        "Searching by name reads many entries: filter first."
    )
    ordering = ("-sequence",)
    # Newest first, always (see get_ordering): a column sort would order a million rows.
    sortable_by = ()
    # Rendering a row costs more than reading it: 50 keep a page well inside 200 ms.
    list_per_page = 50
    list_max_show_all = 0
    show_full_result_count = False
    show_facets = ShowFacets.NEVER
    actions = None
    preserve_filters = True
    fields = (
        "sequence",
        "local_timestamp",
        "username",
        "user",
        "ip_address",
        "request_id",
        "action",
        "object_type",
        "object_link",
        "object_id",
        "department_name",
        "fiscal_year",
        "changes_table",
        "reason",
        "batch",
        "prev_hash",
        "hash",
    )
    readonly_fields = fields
    change_list_template = "admin/perfplan/changelogentry/change_list.html"

    # Nobody writes the log through the application.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        # The import batch only for an entry an import wrote (not an empty "batch" line).
        fields = super().get_fields(request, obj)
        if obj is not None and not obj.batch_id:
            fields = [name for name in fields if name != "batch"]
        return fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("department")
        return restrict_log_entries(queryset, request.user)

    def get_changelist(self, request, **kwargs):
        return ChangeLogChangeList

    def get_ordering(self, request):
        """Newest first: by -sequence, served by the index of each filter (…, -sequence).

        With a date range, by -timestamp (then -sequence): the rows of an old month would
        otherwise be found by reading the sequence index back from today, past every newer
        entry (PostgreSQL cannot know that time and sequence grow together). In time order
        the timestamp index answers directly. The two orders agree but for entries written
        within the same instant by concurrent requests.
        """
        if any(key.startswith("timestamp__") for key in request.GET):
            return ("-timestamp", "-sequence")
        return ("-sequence",)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="{}_{}_export".format(*info),
            ),
            *super().get_urls(),
        ]

    # ---------------------------------------------------------------- columns

    @admin.display(description=_("object type"))
    def object_type(self, obj):
        return _type_label(obj.content_type_id)

    @admin.display(description=_("object"))
    def object_link(self, obj):
        url = _object_url(obj)
        text = obj.object_repr or obj.object_id
        return format_html('<a href="{}">{}</a>', url, text) if url else text

    @admin.display(description=_("department"))
    def department_name(self, obj):
        return obj.department.name if obj.department_id and obj.department else ""

    @admin.display(description=_("time"))
    def local_timestamp(self, obj):
        return local_time(obj.timestamp)

    @admin.display(description=_("changes"))
    def changes_summary(self, obj):
        return _summary(ChangeDisplay([obj]).text(obj))

    @admin.display(description=_("changes"))
    def changes_table(self, obj):
        rows = ChangeDisplay([obj]).rows(obj)
        if not rows:
            return "—"
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            gettext("field"),
            gettext("before"),
            gettext("after"),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                rows,
            ),
        )

    # ---------------------------------------------------------------- export

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        query = request.GET.urlencode()
        extra_context["export_url"] = reverse("admin:perfplan_changelogentry_export") + (
            f"?{query}" if query else ""
        )
        return super().changelist_view(request, extra_context)

    def export_view(self, request):
        """The filtered list (same filters, search and scope) as xlsx, written row by row
        (CHANGELOG_EXPORT): in the request when it is small, else by the task worker
        (perfplan.exports), which reads the same query as the user who asked."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:perfplan_changelogentry_changelist"))
        return exports.respond(request, CHANGELOG_EXPORT, {"query": exports.query_of(request)})


def _log_admin():
    return admin.site.get_model_admin(ChangeLogEntry)


def _filtered_entries(user, params):
    """The entries the list shows `user` with the export's query (its filters, search and
    scope), or IncorrectLookupParameters."""
    request = exports.request_as(user, params["query"])
    return _log_admin().get_changelist_instance(request).queryset


def _may_export(user, params):
    request = exports.request_as(user, params["query"])
    return bool(user.is_active and _log_admin().has_view_permission(request))


def _export_rows(user, params):
    """The entries to write, counted up to one past the inline limit (a million-entry log
    is not counted in the request)."""
    try:
        entries = _filtered_entries(user, params)
    except IncorrectLookupParameters:
        return 0
    limit = exports.inline_rows() + 1
    return len(entries.order_by().values_list("pk", flat=True)[:limit])


def _make_entries_xlsx(user, params, progress):
    entries = _filtered_entries(user, params)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    total = min(entries.order_by().count(), EXPORT_MAX_ROWS)
    # written to a temporary file (a million entries in constant memory), served streamed
    return exports.xlsx_file(
        [entries_table(entries)],
        f"변경이력_{stamp}.xlsx",
        progress,
        total=total,
        target=tempfile.TemporaryFile(),
    )


# The change log's workbook: in the request when small, else by the worker (perfplan.exports).
CHANGELOG_EXPORT = exports.register(
    exports.Export(
        kind="change_log",
        label=_("Change log (xlsx)"),
        allowed=_may_export,
        size=_export_rows,
        make=_make_entries_xlsx,
        path=f"{__name__}.CHANGELOG_EXPORT",
    )
)


def export_headers():
    return [
        gettext("sequence"),
        gettext("time"),
        gettext("user name"),
        gettext("action"),
        gettext("object type"),
        gettext("object id"),
        gettext("object"),
        gettext("department"),
        gettext("fiscal year"),
        gettext("changes"),
        gettext("reason"),
        gettext("IP address"),
        gettext("request id"),
        gettext("import batch"),
        gettext("hash"),
    ]


def _with_display(entries, chunk_size=EXPORT_DISPLAY_CHUNK):
    """(entry, its ChangeDisplay): related names read once per chunk of entries, not per row."""
    entries = iter(entries)
    while chunk := list(itertools.islice(entries, chunk_size)):
        display = ChangeDisplay(chunk)
        for entry in chunk:
            yield entry, display


@dataclass(frozen=True)
class ExportColumn:
    """A column of the xlsx export: its header, kind and width (the rows are streamed, so
    perfplan.xlsx cannot measure them first)."""

    header: str
    kind: str = "text"
    width: int = 10


def export_columns():
    widths = (8, 16, 10, 8, 12, 8, 24, 12, 6, 40, 20, 14, 20, 12, 24)
    return [
        ExportColumn(header, width=width)
        for header, width in zip(export_headers(), widths, strict=True)
    ]


def _entry_rows(queryset, max_rows):
    departments = dict(Department.objects.values_list("pk", "name"))
    actions = dict(ChangeLogEntry.Action.choices)
    written = 0
    blank = [None] * (len(export_headers()) - 1)
    for entry, display in _with_display(queryset.select_related(None).iterator(chunk_size=2000)):
        if written >= max_rows:
            note = gettext(
                "Only the first %(rows)s entries are written: filter the list to export the rest."
            )
            yield [note % {"rows": max_rows}, *blank]
            break
        yield [
            entry.sequence,
            # A date cell (sortable in Excel) in local time, shown to the minute like the list.
            timezone.localtime(entry.timestamp).replace(tzinfo=None, microsecond=0),
            entry.username,
            str(actions.get(entry.action, entry.action)),
            _type_label(entry.content_type_id),
            entry.object_id,
            entry.object_repr,
            departments.get(entry.department_id, ""),
            entry.fiscal_year,
            display.text(entry, separator="\n"),
            entry.reason,
            entry.ip_address or "",
            entry.request_id,
            str(entry.batch_id) if entry.batch_id else "",
            entry.hash,
        ]
        written += 1


def entries_table(queryset, max_rows=EXPORT_MAX_ROWS):
    """`queryset`'s entries as a table of streamed rows (read once, constant memory)."""
    sheet_name = gettext("change log")[:31]
    return Table(
        "changelog",
        export_columns(),
        _entry_rows(queryset, max_rows),
        sheet_name,
        subtitle=timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    )


def write_entries_xlsx(queryset, max_rows=EXPORT_MAX_ROWS):
    """Write `queryset`'s entries to a temporary xlsx file (perfplan.xlsx, the writer of
    every export: rows streamed in constant memory, printable); returns it, rewound."""
    handle = tempfile.TemporaryFile()
    write_xlsx([entries_table(queryset, max_rows)], target=handle)
    handle.seek(0)
    return handle
