"""libxlsxwriter, XlsxWriter's C edition, called through ctypes.

libxlsxwriter (Debian's `libxlsxwriter4`; the C library of XlsxWriter's author, with the
same constant-memory mode and print setup) writes a cell about three times faster than
XlsxWriter, which builds each cell's XML in Python: the difference between a national
plan's workbook in ~2 s and in ~6 s. perfplan.xlsx uses it where it is installed
(PERFPLAN_XLSX_ENGINE "auto", the default, or "libxlsxwriter"), else XlsxWriter.

`Workbook` offers the part of XlsxWriter's Workbook and Worksheet interface that
perfplan.xlsx uses, with XlsxWriter's meanings, so that the one writer drives either
library and the two workbooks hold the same cells and print alike (tested side by side).
A format property or call outside that part is refused, never silently dropped.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import re
from datetime import date, datetime, time

LIBRARY_NAMES = ("xlsxwriter", "libxlsxwriter.so.4", "libxlsxwriter.so.5", "libxlsxwriter.so.6")
MAX_STRING = 32767  # Excel's limit for a cell's text; longer text is cut, as XlsxWriter does

_P = ctypes.c_void_p
_ROW = ctypes.c_uint32
_COL = ctypes.c_uint16

# format.h's enums
_BORDER = {0: 0, 1: 1}  # none, thin
_ALIGN = {"left": 1, "center": 2, "right": 3}
_VALIGN = {"top": 8, "bottom": 9, "vcenter": 10}
_SHOW_ALL_GRIDLINES, _SHOW_SCREEN_GRIDLINES, _HIDE_ALL_GRIDLINES = 3, 1, 0


class LibraryError(RuntimeError):
    """libxlsxwriter refused a call (its own message in English, e.g. a full disk)."""


class _WorkbookOptions(ctypes.Structure):
    # lxw_workbook_options; the last two fields arrived in 1.1.5 (NULL there: write to the
    # file), and an older library reads the first three only.
    _fields_ = [
        ("constant_memory", ctypes.c_uint8),
        ("tmpdir", ctypes.c_char_p),
        ("use_zip64", ctypes.c_uint8),
        ("output_buffer", _P),
        ("output_buffer_size", _P),
    ]


class _HeaderFooterOptions(ctypes.Structure):
    _fields_ = [
        ("margin", ctypes.c_double),
        ("image_left", ctypes.c_char_p),
        ("image_center", ctypes.c_char_p),
        ("image_right", ctypes.c_char_p),
    ]


class _DateTime(ctypes.Structure):
    _fields_ = [
        ("year", ctypes.c_int),
        ("month", ctypes.c_int),
        ("day", ctypes.c_int),
        ("hour", ctypes.c_int),
        ("min", ctypes.c_int),
        ("sec", ctypes.c_double),
    ]


_SIGNATURES = {
    # name: (result, argument types)
    "lxw_version": (ctypes.c_char_p, []),
    "lxw_strerror": (ctypes.c_char_p, [ctypes.c_int]),
    "workbook_new_opt": (_P, [ctypes.c_char_p, ctypes.POINTER(_WorkbookOptions)]),
    "workbook_add_worksheet": (_P, [_P, ctypes.c_char_p]),
    "workbook_add_format": (_P, [_P]),
    "workbook_close": (ctypes.c_int, [_P]),
    "format_set_border": (None, [_P, ctypes.c_uint8]),
    "format_set_align": (None, [_P, ctypes.c_uint8]),
    "format_set_bg_color": (None, [_P, ctypes.c_uint32]),
    "format_set_font_size": (None, [_P, ctypes.c_double]),
    "format_set_bold": (None, [_P]),
    "format_set_text_wrap": (None, [_P]),
    "format_set_num_format": (None, [_P, ctypes.c_char_p]),
    "worksheet_write_string": (ctypes.c_int, [_P, _ROW, _COL, ctypes.c_char_p, _P]),
    "worksheet_write_number": (ctypes.c_int, [_P, _ROW, _COL, ctypes.c_double, _P]),
    "worksheet_write_boolean": (ctypes.c_int, [_P, _ROW, _COL, ctypes.c_int, _P]),
    "worksheet_write_datetime": (ctypes.c_int, [_P, _ROW, _COL, ctypes.POINTER(_DateTime), _P]),
    "worksheet_set_column": (ctypes.c_int, [_P, _COL, _COL, ctypes.c_double, _P]),
    "worksheet_set_row": (ctypes.c_int, [_P, _ROW, ctypes.c_double, _P]),
    "worksheet_set_landscape": (None, [_P]),
    "worksheet_set_paper": (None, [_P, ctypes.c_uint8]),
    "worksheet_fit_to_pages": (None, [_P, ctypes.c_uint16, ctypes.c_uint16]),
    "worksheet_repeat_rows": (ctypes.c_int, [_P, _ROW, _ROW]),
    "worksheet_freeze_panes": (None, [_P, _ROW, _COL]),
    "worksheet_gridlines": (None, [_P, ctypes.c_uint8]),
    "worksheet_set_margins": (
        None,
        [_P, ctypes.c_double, ctypes.c_double, ctypes.c_double, ctypes.c_double],
    ),
    "worksheet_center_horizontally": (None, [_P]),
    "worksheet_set_header_opt": (
        ctypes.c_int,
        [_P, ctypes.c_char_p, ctypes.POINTER(_HeaderFooterOptions)],
    ),
    "worksheet_set_footer_opt": (
        ctypes.c_int,
        [_P, ctypes.c_char_p, ctypes.POINTER(_HeaderFooterOptions)],
    ),
    "worksheet_print_area": (ctypes.c_int, [_P, _ROW, _COL, _ROW, _COL]),
}


@functools.cache
def load(path=""):
    """The library, its functions typed (path: PERFPLAN_LIBXLSXWRITER_PATH, else found by
    name), or None where it is not installed or lacks a function this module calls."""
    candidates = [path] if path else [ctypes.util.find_library("xlsxwriter"), *LIBRARY_NAMES]
    for candidate in filter(None, candidates):
        try:
            library = ctypes.CDLL(candidate)
        except OSError:
            continue
        try:
            for name, (result, arguments) in _SIGNATURES.items():
                function = getattr(library, name)
                function.restype, function.argtypes = result, arguments
        except AttributeError:
            continue
        return library
    return None


def version(library):
    return library.lxw_version().decode()


def _check(library, error, what):
    if error:
        message = library.lxw_strerror(error).decode(errors="replace")
        raise LibraryError(f"libxlsxwriter: {what}: {message}")


_ESCAPE_LIKE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def _text(value):
    """A str as libxlsxwriter takes it: UTF-8, at most Excel's length. Text that reads as
    one of the file format's escapes (`_x0041_`, which Excel shows as "A") has its `_`
    escaped, and NUL, which a C string cannot hold, is written as its escape: as XlsxWriter
    does, which this library (1.1) leaves out."""
    if len(value) > MAX_STRING:
        value = value[:MAX_STRING]
    if "_x" in value:
        value = _ESCAPE_LIKE.sub(r"_x005F_\1", value)
    if "\0" in value:
        value = value.replace("\0", "_x0000_")
    if len(value) > MAX_STRING:  # made longer by its escapes (a part cut reads as text)
        value = value[:MAX_STRING]
    return value.encode("utf-8", "surrogatepass")


class Workbook:
    """A workbook written to `path` on close(), in constant memory."""

    def __init__(self, library, path):
        self._library = library
        self._keep = []  # bytes the library may still point to, until close()
        options = _WorkbookOptions(constant_memory=1, tmpdir=None, use_zip64=0)
        self._pointer = library.workbook_new_opt(self._bytes(str(path)), ctypes.byref(options))
        if not self._pointer:
            raise LibraryError(f"libxlsxwriter: cannot create {path}")
        self._sheets = []

    def _bytes(self, text):
        """A name, format or page header as the library takes it (a C string: no NUL)."""
        encoded = str(text).replace("\0", "").encode("utf-8", "surrogatepass")
        self._keep.append(encoded)
        return encoded

    def add_format(self, properties):
        library, pointer = self._library, self._library.workbook_add_format(self._pointer)
        for name, value in properties.items():
            if name == "border":
                library.format_set_border(pointer, _BORDER[value])
            elif name == "align":
                library.format_set_align(pointer, _ALIGN[value])
            elif name == "valign":
                library.format_set_align(pointer, _VALIGN[value])
            elif name == "bold":
                if value:
                    library.format_set_bold(pointer)
            elif name == "text_wrap":
                if value:
                    library.format_set_text_wrap(pointer)
            elif name == "font_size":
                library.format_set_font_size(pointer, float(value))
            elif name == "bg_color":
                library.format_set_bg_color(pointer, int(value.lstrip("#"), 16))
            elif name == "num_format":
                library.format_set_num_format(pointer, self._bytes(value))
            else:
                raise ValueError(f"format property {name!r} is not supported here")
        return pointer

    def add_worksheet(self, name):
        pointer = self._library.workbook_add_worksheet(self._pointer, self._bytes(name))
        if not pointer:
            raise LibraryError(f"libxlsxwriter: cannot add the sheet {name!r}")
        sheet = Worksheet(self, pointer)
        self._sheets.append(sheet)
        return sheet

    def close(self):
        if self._pointer is None:
            return
        pointer, self._pointer = self._pointer, None
        error = self._library.workbook_close(pointer)  # writes the file and frees everything
        self._keep.clear()
        _check(self._library, error, "close")


class Worksheet:
    """XlsxWriter's Worksheet methods that perfplan.xlsx calls, with their meanings."""

    def __init__(self, workbook, pointer):
        library = workbook._library
        self._workbook, self._library, self._pointer = workbook, library, pointer
        write_string, write_number = library.worksheet_write_string, library.worksheet_write_number
        check = functools.partial(_check, library)

        # The cell writers are closures: they run once a cell, so no attribute lookups.
        def write_string_(row, column, value, style=None):
            if len(value) > MAX_STRING or "_x" in value or "\0" in value:
                encoded = _text(value)
            else:
                encoded = value.encode("utf-8", "surrogatepass")
            error = write_string(pointer, row, column, encoded, style)
            if error:
                check(error, f"cell ({row}, {column})")

        def write_number_(row, column, value, style=None):
            error = write_number(pointer, row, column, value, style)
            if error:
                check(error, f"cell ({row}, {column})")

        self.write_string = write_string_
        self.write_number = write_number_

    def write_boolean(self, row, column, value, style=None):
        error = self._library.worksheet_write_boolean(
            self._pointer, row, column, bool(value), style
        )
        _check(self._library, error, f"cell ({row}, {column})")

    def write_datetime(self, row, column, value, style=None):
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time())
        else:
            raise TypeError(f"not a date: {value!r}")
        seconds = moment.second + moment.microsecond / 1_000_000
        when = _DateTime(moment.year, moment.month, moment.day, moment.hour, moment.minute, seconds)
        error = self._library.worksheet_write_datetime(
            self._pointer, row, column, ctypes.byref(when), style
        )
        _check(self._library, error, f"cell ({row}, {column})")

    def set_column(self, first, last, width, style=None):
        error = self._library.worksheet_set_column(self._pointer, first, last, width, style)
        _check(self._library, error, "column width")

    def set_row(self, row, height, style=None):
        error = self._library.worksheet_set_row(self._pointer, row, height, style)
        _check(self._library, error, f"row {row} height")

    def set_landscape(self):
        self._library.worksheet_set_landscape(self._pointer)

    def set_paper(self, paper):
        self._library.worksheet_set_paper(self._pointer, paper)

    def fit_to_pages(self, width, height):
        self._library.worksheet_fit_to_pages(self._pointer, width, height)

    def repeat_rows(self, first, last=None):
        error = self._library.worksheet_repeat_rows(
            self._pointer, first, first if last is None else last
        )
        _check(self._library, error, "print titles")

    def freeze_panes(self, row, column):
        self._library.worksheet_freeze_panes(self._pointer, row, column)

    def hide_gridlines(self, option=1):
        # XlsxWriter's options: 0 show all, 1 hide the printed ones, 2 hide all
        shown = {0: _SHOW_ALL_GRIDLINES, 1: _SHOW_SCREEN_GRIDLINES, 2: _HIDE_ALL_GRIDLINES}
        self._library.worksheet_gridlines(self._pointer, shown[option])

    def set_margins(self, left=0.7, right=0.7, top=0.75, bottom=0.75):
        self._library.worksheet_set_margins(self._pointer, left, right, top, bottom)

    def center_horizontally(self):
        self._library.worksheet_center_horizontally(self._pointer)

    def _header_footer(self, function, text, options):
        margin = (options or {}).get("margin", 0.3)
        extra = set(options or {}) - {"margin"}
        if extra:
            raise ValueError(f"header options {sorted(extra)} are not supported here")
        settings = _HeaderFooterOptions(margin=margin)
        error = function(self._pointer, self._workbook._bytes(text), ctypes.byref(settings))
        _check(self._library, error, "page header")

    def set_header(self, text, options=None):
        self._header_footer(self._library.worksheet_set_header_opt, text, options)

    def set_footer(self, text, options=None):
        self._header_footer(self._library.worksheet_set_footer_opt, text, options)

    def print_area(self, first_row, first_column, last_row, last_column):
        error = self._library.worksheet_print_area(
            self._pointer, first_row, first_column, last_row, last_column
        )
        _check(self._library, error, "print area")
