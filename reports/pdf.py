"""The results report as a PDF made on the server, so that the published file is the same for
everyone. Two engines lay the same HTML and print CSS out:

- Chromium (Debian's `chromium`, driven by Playwright): what a browser prints, some 5 ms of
  CPU per indicator row; used when it is installed (PERFPLAN_PDF_ENGINE "auto", the default,
  or "chromium"; PERFPLAN_CHROMIUM_PATH where it is not on the PATH).
- WeasyPrint (Debian's Pango, libpango-1.0-0 and libpangoft2-1.0-0): no browser needed, but
  some 20 ms per row (a national plan is minutes); used where Chromium is not, or when
  PERFPLAN_PDF_ENGINE is "weasyprint".

Either needs Korean fonts (fonts-noto-cjk). Where nothing can make the PDF,
`unavailable_reason()` says so in Korean and the page shows it instead of failing."""

from __future__ import annotations

import asyncio
import functools
import io
import os
import queue
import shutil
import threading
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

# Where Debian's fonts-noto-cjk puts its fonts (and other common font folders).
FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts")
CJK_FONT_PATTERNS = ("NotoSansCJK*", "NotoSerifCJK*")
CHROMIUM, WEASYPRINT, AUTO = "chromium", "weasyprint", "auto"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_TIMEOUT_MS = 15 * 60 * 1000  # a part of a few hundred rows takes seconds


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


def chromium_path():
    """The Chromium executable to print with, or None."""
    configured = getattr(settings, "PERFPLAN_CHROMIUM_PATH", "")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _chromium_problem():
    try:
        import playwright.async_api  # noqa: F401
    except ImportError as exc:
        return str(exc) or "playwright"
    if not chromium_path():
        return _("Chromium is not installed")
    return None


def _weasyprint_problem():
    try:
        _import_weasyprint()
    except (ImportError, OSError) as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None


def configured_engine():
    engine = getattr(settings, "PERFPLAN_PDF_ENGINE", AUTO)
    return engine if engine in (CHROMIUM, WEASYPRINT) else AUTO


def engine():
    """The engine that makes the PDF here (CHROMIUM or WEASYPRINT), or None."""
    wanted = configured_engine()
    if wanted in (AUTO, CHROMIUM) and not _chromium_problem():
        return CHROMIUM
    if wanted in (AUTO, WEASYPRINT) and not _weasyprint_problem():
        return WEASYPRINT
    return None


def unavailable_reason():
    """Why no PDF can be made here (a sentence for the page), or None."""
    if engine() is None:
        wanted = configured_engine()
        problem = _chromium_problem() if wanted == CHROMIUM else _weasyprint_problem()
        return _(
            "The server cannot make the PDF: neither Chromium nor WeasyPrint with the Pango "
            "library it needs is installed (%(error)s). Print the page to PDF from the browser "
            "instead, or ask the administrator to install them (README: Running in production)."
        ) % {"error": problem}
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
    return render_all([html], base_url)[0][0]


# ---------------------------------------------------------------- parts, joined


def render_html(html, base_url=None):
    """One part's PDF by WeasyPrint, its page count and its top-level headings as
    (title, page from 0) in document order (no checks: render_all's caller made them).
    A module-level function, so that a worker process can run it."""
    document = _import_weasyprint().HTML(string=html, base_url=base_url).render()
    headings = [
        (label, target[0]) for label, target, _children, _state in document.make_bookmark_tree()
    ]
    return document.write_pdf(), len(document.pages), headings


def render_all(htmls, base_url=None, *, workers=1, progress=None, on_part=None):
    """The PDF of each html (in order) as (bytes, page count, top-level headings), laid out
    `workers` at a time; progress(done, total) after each part, and on_part(number, part)
    as each part is made (in any order; in this thread, while the next parts are made)."""
    reason = unavailable_reason()
    if reason:
        raise PdfUnavailable(reason)
    total = len(htmls)

    def made(done, number, part):
        if on_part:
            on_part(number, part)
        if progress:
            progress(done, total)

    if engine() == CHROMIUM:
        return _chromium_render_all(htmls, workers, made)
    if workers <= 1 or total < 2:
        out = []
        for number, html in enumerate(htmls):
            out.append(render_html(html, base_url))
            made(len(out), number, out[-1])
        return out
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn: a fresh interpreter, no copy of the worker's database connections
    context = multiprocessing.get_context("spawn")
    out = [None] * total
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(render_html, html, base_url): n for n, html in enumerate(htmls)}
        for done, future in enumerate(as_completed(futures), start=1):
            number = futures[future]
            out[number] = future.result()
            made(done, number, out[number])
    return out


def _chromium_render_all(htmls, workers, made):
    """Chromium's event loop runs in a thread of its own; each part made is handed to this
    one (made(done, number, part)), which may hold a database connection (an event loop in
    this thread would make Django refuse it)."""
    events = queue.Queue()
    finished = object()
    outcome = {}

    def run():
        try:
            outcome["parts"] = asyncio.run(_chromium_print(htmls, workers, events.put))
        except BaseException as exc:  # handed to the calling thread
            outcome["error"] = exc
        finally:
            events.put(finished)

    thread = threading.Thread(target=run, name="perfplan-pdf-chromium", daemon=True)
    thread.start()
    while (event := events.get()) is not finished:
        made(*event)
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["parts"]


async def _chromium_print(htmls, workers, report):
    """One headless Chromium; `workers` pages print at once, each in its own browser context
    (its own renderer process). The parts carry their CSS inline and load nothing else."""
    from playwright.async_api import async_playwright

    arguments = ["--no-sandbox"] if os.geteuid() == 0 else []  # root: Chromium's sandbox refuses
    total, done = len(htmls), 0
    out = [None] * total
    waiting = list(enumerate(htmls))[::-1]

    async def printer(browser):
        nonlocal done
        # The parts need no script and nothing from the network: neither is allowed.
        context = await browser.new_context(java_script_enabled=False, offline=True)
        page = await context.new_page()
        try:
            while waiting:
                number, html = waiting.pop()
                await page.set_content(html, wait_until="load", timeout=CHROMIUM_TIMEOUT_MS)
                data = await page.pdf(
                    prefer_css_page_size=True, print_background=True, outline=True, tagged=True
                )
                out[number] = _with_headings(data)
                done += 1
                report((done, number, out[number]))
        finally:
            await context.close()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=arguments, timeout=CHROMIUM_TIMEOUT_MS
        )
        try:
            await asyncio.gather(*(printer(browser) for _ in range(max(1, min(workers, total)))))
        finally:
            await browser.close()
    return out


def _with_headings(data):
    """(data, page count, top-level headings) of a PDF Chromium printed with its outline."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    headings = [
        (item.title, reader.get_destination_page_number(item))
        for item in reader.outline
        if not isinstance(item, list)
    ]
    return data, len(reader.pages), headings


# Helvetica's widths (1/1000 em) of what a page number is written with: "- 12 / 340 -"
_WIDTHS = {" ": 278, "-": 333, "/": 278, **{str(d): 556 for d in range(10)}}
NUMBER_SIZE = 9  # pt, as the print CSS's @bottom-center
NUMBER_GREY = 0.267  # #444
NUMBER_BASELINE = 24  # pt above the page's bottom edge: in the 18 mm bottom margin


def join(parts, *, numbered_from=2, outline=()):
    """The parts (PDF bytes) as one PDF (Joiner.finish, which see), and its page count."""
    joiner = Joiner()
    for number, data in enumerate(parts):
        joiner.add(number, data)
    return joiner.finish(numbered_from=numbered_from, outline=outline)


class Joiner:
    """Parts joined into one PDF as they are made: add() takes them in any order and copies
    their pages in order (pypdf parses a part's pages as it copies them, so this overlaps
    the making of the next parts), finish() puts the front before them and numbers the
    pages."""

    def __init__(self):
        from pypdf import PdfWriter

        self.writer = PdfWriter()
        self.waiting = {}
        self.next = 0

    def add(self, number, data):
        self.waiting[number] = data
        while self.next in self.waiting:
            self._append(self.waiting.pop(self.next))
            self.next += 1

    def _append(self, data, at=None):
        from pypdf import PdfReader

        for offset, page in enumerate(PdfReader(io.BytesIO(data)).pages):
            if at is None:
                self.writer.add_page(page)
            else:
                self.writer.insert_page(page, at + offset)

    def finish(self, front=None, *, numbered_from=2, outline=()):
        """The PDF, `front` (bytes) first, its pages numbered "- n / total -" at the bottom
        centre from page `numbered_from` on (the cover has none), as the print CSS's @page
        rule numbers a single document, and its page count. The numbers are drawn in a
        base-14 font (digits and ASCII only), so they cost nothing to embed. `outline`:
        (title, page number) pairs, the file's bookmarks (a reader's side panel: each
        department of 1,500 pages)."""
        if self.waiting:
            raise ValueError(f"parts before {min(self.waiting)} are missing")
        if front is not None:
            self._append(front, at=0)
        writer = self.writer
        _number_pages(writer, numbered_from)
        total = len(writer.pages)
        for title, number in outline:
            if 1 <= number <= total:
                writer.add_outline_item(title=title, page_number=number - 1)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue(), total


def _number_pages(writer, numbered_from):
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
    )

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


def _stream(kind, data):
    stream = kind()
    stream.set_data(data)
    return stream


def _is_array(value):
    return isinstance(value.get_object(), list)
