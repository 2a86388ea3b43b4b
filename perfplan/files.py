"""How large an uploaded file may be: the one check every upload goes through.

The limits are settings: PERFPLAN_MAX_UPLOAD_BYTES for tables (plan and results imports),
PERFPLAN_MAX_EVIDENCE_BYTES for evidence (10 MB unless set), and
PERFPLAN_MAX_XLSX_UNPACKED_BYTES for what an xlsx workbook unpacks to. A refusal is a
FileTooLarge, a ValidationError: a form's clean method lets it through as it is.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DEFAULT_MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
# A workbook that unpacks to more than this many times its size is a zip bomb, whatever the limit.
MAX_XLSX_UNPACK_RATIO = 200


def upload_limit():
    """The most bytes a table (plan or results import) may have."""
    return settings.PERFPLAN_MAX_UPLOAD_BYTES


def evidence_limit():
    """The most bytes an evidence file may have."""
    return int(getattr(settings, "PERFPLAN_MAX_EVIDENCE_BYTES", DEFAULT_MAX_EVIDENCE_BYTES))


def format_size(size):
    """A size as people read it: 532 B, 12 KB, 3.4 MB."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):,.1f} MB"
    if size >= 1024:
        return f"{size / 1024:,.0f} KB"
    return f"{size:,} B"


class FileTooLarge(ValidationError):
    """A file over its limit; the message names the file, its size and the limit."""

    def __init__(self, name, size, limit):
        self.name, self.size, self.limit = name, size, limit
        shown_size, shown_limit = format_size(size), format_size(limit)
        if shown_size == shown_limit:  # just over the limit: rounding would hide the difference
            shown_size, shown_limit = f"{size:,} B", f"{limit:,} B"
        params = {"file": name, "size": shown_size, "limit": shown_limit}
        super().__init__(self.describe() % params, code="too_large")

    def describe(self):
        return _("%(file)s is %(size)s; the limit is %(limit)s.")


class WorkbookTooLarge(FileTooLarge):
    """An xlsx workbook whose unpacked size is over the limit (refused before it is opened)."""

    def describe(self):
        return _("%(file)s unpacks to %(size)s, over the limit of %(limit)s (a zip bomb?).")


def check_upload_size(name, size, limit=None):
    """Refuse (FileTooLarge) a file of `size` bytes over `limit` (by default the table limit)."""
    limit = upload_limit() if limit is None else limit
    if size > limit:
        raise FileTooLarge(name, size, limit)


def check_xlsx_unpacked(name, packed_size, unpacked_size):
    """Refuse (WorkbookTooLarge) a workbook that unpacks to too much to open: a zip bomb."""
    limit = min(
        settings.PERFPLAN_MAX_XLSX_UNPACKED_BYTES, MAX_XLSX_UNPACK_RATIO * max(packed_size, 1)
    )
    if unpacked_size > limit:
        raise WorkbookTooLarge(name, unpacked_size, limit)
