"""증빙자료 (evidence): what may be attached to a result, checked by content, not by name.

A file is accepted only when its name's extension and its bytes agree on one of the kinds
below (PDF, xlsx, HWP, HWPX, JPEG, PNG) and it is not larger than
PERFPLAN_MAX_EVIDENCE_BYTES (10 MB by default). Files are kept in the database (Evidence)
so every app server can serve them.
"""

from __future__ import annotations

import hashlib
import io
import os
import unicodedata
import zipfile
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from perfplan import files

MAX_NAME_LENGTH = 255

PDF_MAGIC = b"%PDF-"
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")  # HWP 5 is an OLE compound file
JPEG_MAGIC = bytes.fromhex("FFD8FF")
PNG_MAGIC = bytes.fromhex("89504E470D0A1A0A")
ZIP_MAGIC = b"PK\x03\x04"
HWPX_MIMETYPE = b"application/hwp+zip"


def _zip_names(data):
    if not data.startswith(ZIP_MAGIC):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None


def _is_pdf(data):
    return data.startswith(PDF_MAGIC)


def _is_xlsx(data):
    names = _zip_names(data)
    return (
        bool(names) and "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)
    )


def _is_hwpx(data):
    names = _zip_names(data)
    if not names or "mimetype" not in names:
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("mimetype") as entry:
            return entry.read(len(HWPX_MIMETYPE) + 16).strip() == HWPX_MIMETYPE
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError):
        return False


def _is_hwp(data):
    return data.startswith(OLE_MAGIC)


def _is_jpeg(data):
    return data.startswith(JPEG_MAGIC)


def _is_png(data):
    return data.startswith(PNG_MAGIC)


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    extensions: tuple
    content_type: str
    matches: object  # bytes -> bool


KINDS = (
    Kind("pdf", "PDF", (".pdf",), "application/pdf", _is_pdf),
    Kind(
        "xlsx",
        "Excel (xlsx)",
        (".xlsx",),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _is_xlsx,
    ),
    Kind("hwp", "HWP", (".hwp",), "application/x-hwp", _is_hwp),
    Kind("hwpx", "HWPX", (".hwpx",), "application/hwp+zip", _is_hwpx),
    Kind("jpeg", "JPEG", (".jpg", ".jpeg"), "image/jpeg", _is_jpeg),
    Kind("png", "PNG", (".png",), "image/png", _is_png),
)
KINDS_BY_EXTENSION = {ext: kind for kind in KINDS for ext in kind.extensions}
ACCEPT_ATTRIBUTE = ",".join(ext for kind in KINDS for ext in kind.extensions)


def detect(data):
    """The kind the bytes are, whatever the file is called, or None."""
    for kind in KINDS:
        if kind.matches(data):
            return kind
    return None


def clean_name(name):
    """The file's own name (no folders, no control characters), at most 255 characters."""
    name = os.path.basename(str(name).replace("\\", "/"))
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    name = unicodedata.normalize("NFC", name) or "evidence"
    if len(name) > MAX_NAME_LENGTH:
        stem, ext = os.path.splitext(name)
        name = stem[: MAX_NAME_LENGTH - len(ext)] + ext
    return name


def allowed_kinds_text():
    return ", ".join(kind.label for kind in KINDS)


def check_size(name, size):
    """perfplan.files' check against the evidence limit (FileTooLarge, a ValidationError)."""
    files.check_upload_size(name, size, files.evidence_limit())


def check_evidence(name, data):
    """The Kind of an evidence file, or ValidationError saying what is wrong with it."""
    name = clean_name(name)
    if not data:
        raise ValidationError(_("%(name)s is empty.") % {"name": name}, code="empty")
    check_size(name, len(data))
    extension = os.path.splitext(name)[1].lower()
    expected = KINDS_BY_EXTENSION.get(extension)
    if expected is None:
        raise ValidationError(
            _("%(name)s cannot be attached: evidence must be one of %(kinds)s.")
            % {"name": name, "kinds": allowed_kinds_text()},
            code="extension",
        )
    if not expected.matches(data):
        actual = detect(data)
        if actual is not None:
            message = _(
                "%(name)s is named as a %(expected)s file but its content is %(actual)s; "
                "rename it or attach the right file."
            ) % {"name": name, "expected": expected.label, "actual": actual.label}
        else:
            message = _(
                "The content of %(name)s is not a %(expected)s file (files are checked by "
                "their content, not by their name)."
            ) % {"name": name, "expected": expected.label}
        raise ValidationError(message, code="content")
    return expected


def read_upload(upload):
    """The bytes of an uploaded file, refusing an oversized one before reading it."""
    check_size(clean_name(upload.name), upload.size or 0)
    data = upload.read(files.evidence_limit() + 1)
    check_size(clean_name(upload.name), len(data))
    return data


def store(result, name, data, kind, user):
    from .models import Evidence

    return Evidence.objects.create(
        result=result,
        name=clean_name(name),
        content_type=kind.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        uploaded_by=user if getattr(user, "pk", None) else None,
    )
