"""A corpus of plan files as people make them (issue 12): every file either imports exactly
what it shows or is refused with a message naming the sheet, row, column and value.

Each variant edits one reference workbook (tables 가 and 나) the way district staff do:
number formats, text figures, merged cells, a header on two rows, formulas with and without
a stored result, hidden columns, typos, totals. Each is then read as written by openpyxl and
as LibreOffice saves it (ods, xlsx re-saved, CSV as shown in UTF-8, re-encoded to CP949 and
to Excel's UTF-16 "유니코드 텍스트"). LibreOffice runs once per format for the whole corpus
(`soffice --headless --convert-to`); without it those formats are skipped, saying so.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

import openpyxl
import pytest

from perfplan.planfiles.importer import import_plan
from perfplan.planfiles.tables import read_plan_files
from perfplan.tabular import TableReadError

SUMMARY = "총괄"
HIERARCHY = "성과계획 및 재원비중"
SUMMARY_HEADER = ["실국명", "전략목표수", "정책사업목표 개수", "지표수", "단위사업수"]
SUMMARY_HEADER += ["예산액", "전년도예산액", "비교증감"]
SUMMARY_ROWS = [  # rows 2–5
    ["계", 2, 2, 3, 5, 4300, 4142, 158],
    ["기획실", 1, 1, 2, 3, 1300, 1000, 300],
    ["복지국", 1, 1, 1, 2, 2700, 2842, -142],
    ["동주민센터", 0, 0, 0, 0, 300, 300, 0],
]
HIERARCHY_HEADER = ["실국명", "전략목표명", "예산액(백만원)", "비중(%)", "정책사업목표명"]
HIERARCHY_HEADER += ["성과지표명"]
HIERARCHY_ROWS = [  # rows 2–4
    ["기획실", "재정 건전성", 1000, 27.87, "세입 확충", "지방세 징수율"],
    ["기획실", "재정 건전성", 1000, 27.87, "세입 확충", "체납액 정리율"],
    ["복지국", "돌봄 강화", 2588, 72.13, "노인 돌봄", "돌봄 이용자 수"],
]

LIBREOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
WORKBOOK_FORMATS = ("xlsx", "ods", "resaved")  # resaved: the xlsx opened and saved by LibreOffice
TEXT_FORMATS = ("csv", "cp949", "utf16")  # LibreOffice's CSV as shown, re-encoded


def what(plan):
    """What a plan says, without where it says it."""
    summary = [("계", tuple(plan.total.__dict__.values()) if plan.total else None)]
    summary += [(d.name, tuple(d.declared.__dict__.values())) for d in plan.departments]
    hierarchy = [
        (d.name, sg.name, sg.budget, sg.share, pg.name, [i.name for i in pg.indicators])
        for d in plan.departments
        for sg in d.strategic_goals
        for pg in sg.policy_goals
    ]
    return summary, hierarchy


# ---------------------------------------------------------------- the reference and its edits


def reference_book():
    book = openpyxl.Workbook()
    summary = book.active
    summary.title = SUMMARY
    for row in [SUMMARY_HEADER, *SUMMARY_ROWS]:
        summary.append(list(row))
    hierarchy = book.create_sheet(HIERARCHY)
    for row in [HIERARCHY_HEADER, *HIERARCHY_ROWS]:
        hierarchy.append(list(row))
    return book


@dataclass
class Refused:
    """Where a refusal must point: row, column (its printed header) and the value shown;
    `sheet` is the workbook sheet (CSV files have none)."""

    sheet: str
    row: int | None
    column: str
    value: object


@dataclass
class Variant:
    name: str
    edit: object  # edit(book) -> {sheet: {cell: stored result}} of formulas, or None
    refused: Refused | None = None  # for the file as openpyxl writes it
    # format -> Refused or None, where LibreOffice's copy reads otherwise
    otherwise: dict = field(default_factory=dict)

    def expected(self, fmt):
        key = fmt if fmt in self.otherwise else ("csv" if fmt in TEXT_FORMATS else fmt)
        return self.otherwise.get(key, self.refused)


def _hierarchy(book):
    return book[HIERARCHY]


def _summary(book):
    return book[SUMMARY]


def _plain(book):
    return None


def _percent_shares(book):
    for row in (2, 3, 4):
        cell = _hierarchy(book).cell(row, 4)
        cell.value = round(cell.value / 100, 6)
        cell.number_format = "0.00%"


def _shares_as_text(book):
    for row in (2, 3, 4):
        cell = _hierarchy(book).cell(row, 4)
        cell.value = f"{cell.value}%"


def _amounts_as_text(book):
    for row in (2, 3, 4):
        cell = _hierarchy(book).cell(row, 3)
        cell.value = f"{cell.value:,}"
    for row in (2, 3, 4, 5):
        for column in (6, 7):
            cell = _summary(book).cell(row, column)
            cell.value = f"{cell.value:,}"


def _thousands_format(book):
    for row in (2, 3, 4, 5):
        for column in (6, 7, 8):
            _summary(book).cell(row, column).number_format = "#,##0"
    for row in (2, 3, 4):
        _hierarchy(book).cell(row, 3).number_format = "#,##0"


def _shares_rounded_by_format(book):
    for row in (2, 3, 4):
        cell = _hierarchy(book).cell(row, 4)
        cell.value += 0.00004
        cell.number_format = "0.00"


def _title_lines_above(book):
    for sheet in (_summary(book), _hierarchy(book)):
        sheet.insert_rows(1, 3)
        sheet["A1"] = f"2026년도 성과계획서 ({sheet.title})"
        sheet["A2"] = "(단위: 개, 백만원, %)"


def _merged_names(book):
    sheet = _hierarchy(book)
    for column in "ABCDE":
        sheet[f"{column}3"] = None
        sheet.merge_cells(f"{column}2:{column}3")


def _hidden_empty_column(book):
    sheet = _hierarchy(book)
    sheet.insert_cols(7)
    sheet.column_dimensions["G"].hidden = True


def _spaced_headers(book):
    _hierarchy(book)["A1"] = " 실 국 명 "
    _hierarchy(book)["C1"] = "예산액 (백만원)"
    _summary(book)["C1"] = "정책사업목표\n개수"


def _english_headers(book):
    english = ["department", "strategic goal", "budget", "share", "policy goal", "indicator"]
    for column, text in enumerate(english, start=1):
        _hierarchy(book).cell(1, column).value = text


def _two_row_summary_header(book):
    """Table 가's header as the source prints it: 실국명 merged down, 성과계획 over the
    counts, 예산액 over the money columns."""
    sheet = _summary(book)
    sheet.insert_rows(1)
    sheet["A1"], sheet["B1"], sheet["F1"] = "실국명", "성과계획", "예산액"
    sheet["A2"] = None
    sheet["C2"] = "정책사업목표\n개수"
    sheet.merge_cells("A1:A2")
    sheet.merge_cells("B1:E1")
    sheet.merge_cells("F1:H1")


def _dash_for_zero(book):
    for column in range(2, 6):
        _summary(book).cell(5, column).value = "-"
    _summary(book).cell(5, 8).value = "-"


def _accounting_format(book):
    # Excel's accounting format shows a zero as `-`.
    for row in (2, 3, 4, 5):
        for column in range(2, 9):
            _summary(book).cell(
                row, column
            ).number_format = '_-* #,##0_-;-* #,##0_-;_-* "-"_-;_-@_-'


def _negative_marks(book):
    _summary(book)["H4"] = "△142"


def _formulas_with_results(book):
    summary, hierarchy = _summary(book), _hierarchy(book)
    for column in "BCDEFGH":
        summary[f"{column}2"] = f"=SUM({column}3:{column}5)"
    for row in (2, 3, 4):
        hierarchy[f"D{row}"] = f"=C{row}/3588"
        hierarchy[f"D{row}"].number_format = "0.00%"
    results = {f"{c}2": v for c, v in zip("BCDEFGH", SUMMARY_ROWS[0][1:], strict=True)}
    shares = {f"D{r}": hierarchy[f"C{r}"].value / 3588 for r in (2, 3, 4)}
    return {SUMMARY: results, HIERARCHY: shares}


def _total_row_in_table_na(book):
    _hierarchy(book).append(["계", None, 3588, 100, None, None])


def _line_breaks_in_names(book):
    _hierarchy(book)["B2"] = "재정\n건전성"
    _hierarchy(book)["F4"] = "돌봄 이용자\n수"


def _hidden_duplicate_column(book):
    sheet = _hierarchy(book)
    sheet.insert_cols(3)
    sheet["C1"] = "예산액(백만원)"
    for row in (2, 3, 4):
        sheet[f"C{row}"] = 9
    sheet.column_dimensions["C"].hidden = True


def _hidden_empty_row(book):
    sheet = _hierarchy(book)
    sheet.insert_rows(3)
    sheet.row_dimensions[3].hidden = True


def _uncalculated_formula(book):
    _hierarchy(book)["C4"] = "=1000*2.588"
    return {}


def _sheets_reordered(book):
    book.move_sheet(HIERARCHY, offset=-1)
    book.create_sheet("메모")


def _header_typo(book):
    _hierarchy(book)["E1"] = "정책목표명"


def _text_in_budget(book):
    _hierarchy(book)["C3"] = "천만원"


def _two_share_columns(book):
    _hierarchy(book)["G1"] = "비중"
    for row in (2, 3, 4):
        _hierarchy(book)[f"G{row}"] = 1


def _error_cell(book):
    _hierarchy(book)["D3"] = "=1/0"
    return {HIERARCHY: {"D3": "#DIV/0!"}}


def _total_budget_differs(book):
    _hierarchy(book).append(["계", None, 3600, 100, None, None])


def _total_share_differs(book):
    _hierarchy(book).append(["계", None, 3588, 99.5, None, None])


def _fractional_count(book):
    _summary(book)["D3"] = 2.5


def _goal_budget_differs(book):
    _hierarchy(book)["C3"] = 1001


def _department_twice(book):
    _summary(book)["A4"] = "기획실"


def _date_in_budget(book):
    _hierarchy(book)["C4"] = datetime.date(2026, 3, 1)


def _suffix_in_number_format(book):
    for row in (2, 3, 4):
        _hierarchy(book).cell(row, 3).number_format = '#,##0"백만원"'


CSV = ("csv", "cp949", "utf16")
BUDGET = "예산액(백만원)"
VARIANTS = [
    Variant("plain", _plain),
    Variant("percent-formatted shares", _percent_shares),
    Variant("shares written 27.87%", _shares_as_text),
    Variant("amounts written 1,000", _amounts_as_text),
    Variant("thousands separators by format", _thousands_format),
    Variant("shares rounded by their format", _shares_rounded_by_format),
    Variant("title lines above the header", _title_lines_above),
    Variant("merged goal cells", _merged_names),
    Variant("a hidden empty column", _hidden_empty_column),
    Variant("spaces and line breaks in headers", _spaced_headers),
    Variant("English headers", _english_headers),
    Variant("table 가's header on two rows, as printed", _two_row_summary_header),
    Variant("- for zero in table 가", _dash_for_zero),
    Variant("accounting format (zero shows -)", _accounting_format),
    Variant("△ for a negative change", _negative_marks),
    Variant("formulas with their stored results", _formulas_with_results),
    Variant("a 계 row in table 나", _total_row_in_table_na),
    Variant("line breaks inside names", _line_breaks_in_names),
    Variant("sheets reordered, an empty sheet added", _sheets_reordered),
    Variant("a hidden empty row", _hidden_empty_row),
    Variant(
        "a hidden copy of the budget column",
        _hidden_duplicate_column,
        # CSV keeps no hidden columns: both copies are there, and which is meant is unknown.
        otherwise={"csv": Refused("", 1, BUDGET, None)},
    ),
    Variant(
        "a formula never calculated",
        _uncalculated_formula,
        Refused(HIERARCHY, None, "", "C4"),
        # LibreOffice calculates it on opening: 2,588, as the reference.
        otherwise={"ods": None, "resaved": None, "csv": None},
    ),
    Variant(
        "a unit inside the number format",
        _suffix_in_number_format,
        # The CSV holds the text shown, `1,000백만원`: not a number.
        otherwise={"csv": Refused("", 2, BUDGET, "1,000백만원")},
    ),
    Variant("a typo in a header", _header_typo, Refused(HIERARCHY, None, "", None)),
    Variant("text in a budget cell", _text_in_budget, Refused(HIERARCHY, 3, BUDGET, "천만원")),
    Variant("a column given twice", _two_share_columns, Refused(HIERARCHY, 1, "비중", None)),
    Variant("an error cell", _error_cell, Refused(HIERARCHY, 3, "비중(%)", "#DIV/0!")),
    Variant(
        "a 계 row whose budget is off", _total_budget_differs, Refused(HIERARCHY, 5, BUDGET, 3600)
    ),
    Variant(
        "a 계 row whose share is off",
        _total_share_differs,
        Refused(HIERARCHY, 5, "비중(%)", "99.5"),
    ),
    Variant("a fractional count", _fractional_count, Refused(SUMMARY, 3, "지표수", "2.5")),
    Variant(
        "a goal's budget differing between its rows",
        _goal_budget_differs,
        Refused(HIERARCHY, 3, BUDGET, 1001),
    ),
    Variant(
        "a department listed twice", _department_twice, Refused(SUMMARY, 4, "실국명", "기획실")
    ),
    Variant("a date in a budget cell", _date_in_budget, Refused(HIERARCHY, 4, BUDGET, ...)),
]


# ---------------------------------------------------------------- writing the files


def with_stored_results(data, results):
    """The workbook `data` with formulas' stored results filled in, as Excel and LibreOffice
    store them (openpyxl never calculates): {sheet title: {cell: result}}; a result starting
    with `#` is an error value."""
    source = zipfile.ZipFile(io.BytesIO(data))
    workbook = source.read("xl/workbook.xml").decode()
    titles = re.findall(r'<sheet [^>]*name="([^"]+)"', workbook)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/workbook.xml":
                # Excel and LibreOffice, having calculated, do not ask for it on opening.
                content = content.replace(b' fullCalcOnLoad="1"', b"")
            match = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            if match and titles[int(match.group(1)) - 1] in results:
                xml = content.decode()
                for cell, value in results[titles[int(match.group(1)) - 1]].items():
                    kind = ' t="e"' if isinstance(value, str) and value.startswith("#") else ""
                    xml = re.sub(
                        rf'<c r="{cell}"([^>]*)>(<f>[^<]*</f>)<v ?/>',
                        rf'<c r="{cell}"\g<1>{kind}>\g<2><v>{value}</v>',
                        xml,
                    )
                content = xml.encode()
            target.writestr(info, content)
    return out.getvalue()


def variant_xlsx(variant):
    book = reference_book()
    results = variant.edit(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return with_stored_results(buffer.getvalue(), results) if results else buffer.getvalue()


def slug(variant):
    return f"v{VARIANTS.index(variant):02d}"


def soffice(convert_to, sources, outdir, profile):
    outdir.mkdir(exist_ok=True)
    subprocess.run(
        [
            LIBREOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",  # not the user's: helpers run at once
            "--headless",
            "--convert-to",
            convert_to,
            "--outdir",
            str(outdir),
            *[str(s) for s in sources],
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )


# CSV as Excel saves it: comma-separated, UTF-8, each cell as shown, every sheet to its file.
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """{(variant name, format): [(file name, bytes)]} of every file of the corpus."""
    root = tmp_path_factory.mktemp("corpus")
    files = {}
    sources = []
    for variant in VARIANTS:
        data = variant_xlsx(variant)
        files[(variant.name, "xlsx")] = [(f"{slug(variant)}.xlsx", data)]
        path = root / f"{slug(variant)}.xlsx"
        path.write_bytes(data)
        sources.append(path)
    if LIBREOFFICE is None:
        return files
    profile = root / "profile"
    soffice("ods", sources, root / "ods", profile)
    soffice("xlsx:Calc MS Excel 2007 XML", sources, root / "resaved", profile)
    soffice(CSV_FILTER, sources, root / "csv", profile)
    for variant in VARIANTS:
        stem = slug(variant)
        files[(variant.name, "ods")] = [
            (f"{stem}.ods", (root / "ods" / f"{stem}.ods").read_bytes())
        ]
        resaved = (root / "resaved" / f"{stem}.xlsx").read_bytes()
        files[(variant.name, "resaved")] = [(f"{stem}.xlsx", resaved)]
        texts = [
            (path.name, path.read_text("utf-8"))
            for path in sorted((root / "csv").glob(f"{stem}-*.csv"))
        ]
        texts = [(n, t) for n, t in texts if t.strip(", \r\n")]  # an empty sheet: no file
        files[(variant.name, "csv")] = [(n, t.encode("utf-8")) for n, t in texts]
        files[(variant.name, "cp949")] = [(n, t.encode("cp949")) for n, t in texts]
        files[(variant.name, "utf16")] = [
            (n.replace(".csv", ".txt"), tab_separated(t).encode("utf-16")) for n, t in texts
        ]
    return files


def tab_separated(text):
    """CSV text as Excel's "유니코드 텍스트" writes it: tab-separated."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter="\t", lineterminator="\r\n")
    writer.writerows(csv.reader(io.StringIO(text, newline="")))
    return out.getvalue()


def files_of(corpus, variant, fmt):
    if (variant.name, fmt) not in corpus:
        message = f"LibreOffice (soffice) is not installed: no {fmt} files to read"
        if os.environ.get("PERFPLAN_REQUIRE_LIBREOFFICE"):  # set by .ci/run
            pytest.fail(message)
        pytest.skip(message)
    return corpus[(variant.name, fmt)]


# ---------------------------------------------------------------- the tests


@pytest.fixture(scope="module")
def reference():
    return what(read_plan_files([("reference.xlsx", variant_xlsx(VARIANTS[0]))]))


def test_the_corpus_holds_more_than_30_files_of_every_kind():
    assert len(VARIANTS) * len(WORKBOOK_FORMATS + TEXT_FORMATS) >= 30
    assert sum(v.refused is None for v in VARIANTS) >= 15
    assert sum(v.refused is not None for v in VARIANTS) >= 8


def test_the_reference_reads_as_written(reference):
    summary, hierarchy = reference
    assert summary[0] == ("계", (2, 2, 3, 5, 4300, 4142, 158))
    assert summary[3] == ("동주민센터", (0, 0, 0, 0, 300, 300, 0))
    assert [row[:4] for row in hierarchy] == [
        ("기획실", "재정 건전성", 1000, Decimal("27.87")),
        ("복지국", "돌봄 강화", 2588, Decimal("72.13")),
    ]


@pytest.mark.parametrize("fmt", WORKBOOK_FORMATS + TEXT_FORMATS)
@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_each_file_reads_as_it_shows_or_is_refused_saying_where(corpus, reference, variant, fmt):
    files = files_of(corpus, variant, fmt)
    expected = variant.expected(fmt)
    if expected is None:
        assert what(read_plan_files(files)) == reference
        return
    with pytest.raises(TableReadError) as caught:
        read_plan_files(files)
    errors = caught.value.errors
    error = next((e for e in errors if (e.row, e.column) == (expected.row, expected.column)), None)
    assert error is not None, [str(e) for e in errors]
    names = [name for name, _data in files]
    assert error.file in names
    if fmt in WORKBOOK_FORMATS:
        assert error.sheet == expected.sheet
    if expected.value is not ...:
        shown = None if error.value in (None, "") else str(error.value)
        want = None if expected.value is None else str(expected.value)
        assert shown == want, str(error)
    else:
        assert error.value not in (None, "")
    text = str(error)  # Korean: the file, 'sheet' 시트, N행, 'column' 열
    assert error.file in text
    if expected.row:
        assert f"{expected.row}행" in text and f"'{expected.column}' 열" in text


def test_the_same_plan_imports_identically_from_every_format(corpus, db):
    """xlsx, ods, csv UTF-8, csv CP949 and UTF-16 text: the first import writes the plan, each
    other format then changes nothing."""
    plain = VARIANTS[0]
    first = import_plan(2026, read_plan_files(files_of(corpus, plain, "xlsx")))
    assert first.ok and first.applied
    for fmt in ("ods", "resaved", "csv", "cp949", "utf16"):
        again = import_plan(2026, read_plan_files(files_of(corpus, plain, fmt)), dry_run=True)
        changed = [c for c in again.changes if c.action != "unchanged"]
        assert again.ok and changed == [], (fmt, again.errors, changed)


def test_utf16_text_is_told_from_a_published_plans_text(corpus):
    from perfplan.planfiles.sources import is_plan_text, read_sources

    files = files_of(corpus, VARIANTS[0], "utf16")
    assert all(not is_plan_text(name, data) for name, data in files)
    assert read_sources(files).kind == "tables"
    assert is_plan_text("성과계획서.txt", "3. 성과계획 총괄표\n".encode())


def test_the_admin_previews_utf16_text_as_plan_tables(corpus, admin_client):
    from django.urls import reverse

    uploads = []
    for name, data in files_of(corpus, VARIANTS[0], "utf16"):
        upload = io.BytesIO(data)
        upload.name = name
        uploads.append(upload)
    response = admin_client.post(
        reverse("admin:perfplan_plan_import"), {"fiscal_year": 2026, "files": uploads}
    )
    assert response.status_code == 200
    assert not response.context.get("errors"), response.context.get("errors")
    assert response.context["source_kind"] == "tables"
    assert response.context["totals"]["new"] > 0


def variant_named(name):
    return next(v for v in VARIANTS if v.name == name)


@pytest.mark.parametrize("fmt", WORKBOOK_FORMATS)
def test_hidden_rows_and_columns_are_listed_in_every_workbook_format(corpus, fmt):
    plan = read_plan_files(files_of(corpus, variant_named("a hidden empty row"), fmt))
    assert any("3" in w for w in plan.warnings), plan.warnings
    plan = read_plan_files(
        files_of(corpus, variant_named("a hidden copy of the budget column"), fmt)
    )
    assert any("C" in w and "D" in w for w in plan.warnings), plan.warnings


def test_a_workbook_whose_cells_lack_their_references_reads_the_same(reference):
    """Cells may be written without `r="D2"` (their place is their order): such a workbook is
    read through openpyxl, as it shows."""
    data = variant_xlsx(variant_named("percent-formatted shares"))
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                content = re.sub(rb'(<c) r="[A-Z]+\d+"', rb"\1", content)
            target.writestr(info, content)
    assert b'<c r="' not in zipfile.ZipFile(out).read("xl/worksheets/sheet2.xml")
    assert what(read_plan_files([("plan.xlsx", out.getvalue())])) == reference


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("plan.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)),
        ("plan.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)),  # with a password
        ("plan.ods", b"PK\x03\x04 not a zip"),
        ("plan.hwp", b"HWP Document File"),
    ],
)
def test_files_that_cannot_be_read_as_shown_are_refused_saying_why(name, data):
    with pytest.raises(TableReadError) as caught:
        read_plan_files([(name, data)])
    [error] = caught.value.errors
    assert error.file == name and error.message
    if data.startswith(b"\xd0\xcf"):
        assert "xlsx" in error.message and ".xls" in error.message


def test_formulas_whose_results_are_to_be_calculated_on_opening_are_refused(reference):
    """XlsxWriter stores 0 as every formula's result and asks Excel to calculate on opening
    (fullCalcOnLoad): the 0 is not what Excel shows, so the file is refused, naming the cells."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(HIERARCHY)
    sheet.write_row(0, 0, HIERARCHY_HEADER)
    for number, row in enumerate(HIERARCHY_ROWS, start=1):
        sheet.write_row(number, 0, row)
    sheet.write_formula("D4", "=100-D2")  # stored as 0
    book.close()
    with pytest.raises(TableReadError) as caught:
        read_plan_files([("script.xlsx", buffer.getvalue())])
    [error] = caught.value.errors
    assert (error.sheet, error.value) == (HIERARCHY, "D4")


def test_a_cell_typed_far_below_the_table_is_refused_before_it_is_read(monkeypatch):
    from perfplan import tabular

    book = reference_book()
    book[HIERARCHY]["Z500"] = "메모"
    buffer = io.BytesIO()
    book.save(buffer)
    monkeypatch.setattr(tabular, "MAX_SHEET_CELLS", 26 * 400)
    with pytest.raises(TableReadError) as caught:
        read_plan_files([("plan.xlsx", buffer.getvalue())])
    [error] = caught.value.errors
    assert error.sheet == HIERARCHY and "500" in error.message and "Z" in error.message
