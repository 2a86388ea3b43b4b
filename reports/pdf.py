"""The results report as a PDF made on the server (WeasyPrint), so that the published file
is the same for everyone. WeasyPrint needs Debian's Pango (libpango-1.0-0,
libpangoft2-1.0-0) and Korean fonts (fonts-noto-cjk): where either is missing,
`unavailable_reason()` says so in Korean and the page shows it instead of failing."""

from __future__ import annotations

import functools
import io
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


# ---------------------------------------------------------------- parts, joined


def render_html(html, base_url=None):
    """One part's PDF, its page count and the page (from 0) where each element with an id
    starts (no checks: render_all's caller made them). A module-level function, so that a
    worker process can run it."""
    document = _import_weasyprint().HTML(string=html, base_url=base_url).render()
    anchors = {}
    for number, page in enumerate(document.pages):
        for anchor in page.anchors:
            anchors.setdefault(anchor, number)
    return document.write_pdf(), len(document.pages), anchors


def render_all(htmls, base_url=None, *, workers=1, progress=None):
    """The PDF of each html (in order), in `workers` processes when there are several parts;
    progress(done, total) after each part."""
    reason = unavailable_reason()
    if reason:
        raise PdfUnavailable(reason)
    total = len(htmls)
    if workers <= 1 or total < 2:
        out = []
        for html in htmls:
            out.append(render_html(html, base_url))
            if progress:
                progress(len(out), total)
        return out
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: a fresh interpreter, no copy of the worker's database connections
    context = multiprocessing.get_context("spawn")
    out = [None] * total
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(render_html, html, base_url): n for n, html in enumerate(htmls)}
        from concurrent.futures import as_completed

        for done, future in enumerate(as_completed(futures), start=1):
            out[futures[future]] = future.result()
            if progress:
                progress(done, total)
    return out


# Helvetica's widths (1/1000 em) of what a page number is written with: "- 12 / 340 -"
_WIDTHS = {" ": 278, "-": 333, "/": 278, **{str(d): 556 for d in range(10)}}
NUMBER_SIZE = 9  # pt, as the print CSS's @bottom-center
NUMBER_GREY = 0.267  # #444
NUMBER_BASELINE = 24  # pt above the page's bottom edge: in the 18 mm bottom margin


def join(parts, *, numbered_from=2, outline=()):
    """The parts (PDF bytes) as one PDF whose pages are numbered "- n / total -" at the
    bottom centre from page `numbered_from` on (the cover has none), as the print CSS's
    @page rule numbers a single document. The numbers are drawn in a base-14 font (digits
    and ASCII only), so they cost nothing to embed. `outline`: (title, page number) pairs,
    the file's bookmarks (a reader's side panel: each department of 1,500 pages)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
    )

    writer = PdfWriter()
    for data in parts:
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    total = len(writer.pages)
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    save = writer._add_object(_stream(DecodedStreamObject, b"q\n"))
    restore = writer._add_object(_stream(DecodedStreamObject, b"\nQ\n"))
    for number, page in enumerate(writer.pages, start=1):
        if number < numbered_from:
            continue
        text = f"- {number} / {total} -"
        width = sum(_WIDTHS[c] for c in text) * NUMBER_SIZE / 1000
        box = page.mediabox
        x = float(box.left) + (float(box.width) - width) / 2
        y = float(box.bottom) + NUMBER_BASELINE
        drawn = (
            f"BT /PerfplanPageNumber {NUMBER_SIZE} Tf {NUMBER_GREY} g "
            f"{x:.2f} {y:.2f} Td ({text}) Tj ET\n"
        ).encode("ascii")
        contents = page.get("/Contents")
        old = list(contents.get_object()) if _is_array(contents) else [contents]
        ours = writer._add_object(_stream(DecodedStreamObject, drawn))
        page[NameObject("/Contents")] = ArrayObject([save, *old, restore, ours])
        resources = page["/Resources"].get_object()
        if "/Font" not in resources:
            resources[NameObject("/Font")] = DictionaryObject()
        fonts = resources["/Font"].get_object()
        fonts[NameObject("/PerfplanPageNumber")] = font
    for title, number in outline:
        if 1 <= number <= total:
            writer.add_outline_item(title=title, page_number=number - 1)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), total


def _stream(kind, data):
    stream = kind()
    stream.set_data(data)
    return stream


def _is_array(value):
    return isinstance(value.get_object(), list)
