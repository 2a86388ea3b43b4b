"""The results report as a PDF made on the server (WeasyPrint), so that the published file
is the same for everyone. WeasyPrint needs Debian's Pango (libpango-1.0-0,
libpangoft2-1.0-0) and Korean fonts (fonts-noto-cjk): where either is missing,
`unavailable_reason()` says so in Korean and the page shows it instead of failing."""

from __future__ import annotations

import functools
from pathlib import Path

from django.utils.translation import gettext as _

# Where Debian's fonts-noto-cjk puts its fonts (and other common font folders).
FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts")
CJK_FONT_PATTERNS = ("NotoSansCJK*", "NotoSerifCJK*")


def _import_weasyprint():
    import weasyprint  # needs Pango at import: OSError when the library is missing

    return weasyprint


@functools.cache
def korean_fonts_installed():
    for folder in FONT_FOLDERS:
        root = Path(folder)
        if root.is_dir() and any(
            next(root.rglob(pattern), None) is not None for pattern in CJK_FONT_PATTERNS
        ):
            return True
    return False


def unavailable_reason():
    """Why no PDF can be made here (a sentence for the page), or None."""
    try:
        _import_weasyprint()
    except (ImportError, OSError) as exc:
        return _(
            "The server cannot make the PDF: WeasyPrint or the Pango library it needs is not "
            "installed (%(error)s). Print the page to PDF from the browser instead, or ask "
            "the administrator to install them (README: Running in production)."
        ) % {"error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}
    if not korean_fonts_installed():
        return _(
            "The server cannot make the PDF: no Korean font (fonts-noto-cjk) is installed. "
            "Print the page to PDF from the browser instead, or ask the administrator to "
            "install it (README: Running in production)."
        )
    return None


class PdfUnavailable(Exception):
    pass


def render_pdf(html, base_url=None):
    """The PDF of `html` (a whole document with its print CSS), as bytes."""
    reason = unavailable_reason()
    if reason:
        raise PdfUnavailable(reason)
    weasyprint = _import_weasyprint()
    return weasyprint.HTML(string=html, base_url=base_url).write_pdf()
