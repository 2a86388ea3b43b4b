"""Files made by hand, the way district staff make them: each imports exactly what it shows,
or is refused with a message naming file, sheet, row, column and value (issue 12, item 1).

The workbooks are written here with openpyxl cell by cell (number formats, formulas without
a stored result, hidden rows and columns, merged cells); a formula's stored result is added to
the sheet's XML as Excel and LibreOffice write it, since openpyxl never calculates.
"""

import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from goals.models import StrategicGoal
from perfplan.models import Plan
from perfplan.planfiles.importer import import_plan
from perfplan.planfiles.tables import read_plan_files
from perfplan.tabular import TableReadError

pytestmark = pytest.mark.django_db

HEADER = ["실국명", "전략목표명", "예산액(백만원)", "비중(%)", "정책사업목표명", "성과지표명"]
ROWS = [
    ["기획실", "재정 건전성", 1000, 0.2787, "세입 확충", "지방세 징수율"],
    ["기획실", "재정 건전성", 1000, 0.2787, "세입 확충", "체납액 정리율"],
    ["복지국", "돌봄 강화", 2588, 0.7213, "노인 돌봄", "돌봄 이용자 수"],
]


def workbook(rows=ROWS, header=HEADER, title="성과계획 및 재원비중", above=()):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for line in above:
        sheet.append(line)
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    return book, sheet


def xlsx(book, results=None):
    """The workbook's bytes; `results` {cell: stored result} fills formulas' `<v />`."""
    buffer = io.BytesIO()
    book.save(buffer)
    if not results:
        return buffer.getvalue()
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/workbook.xml":
                # Excel and LibreOffice, having calculated, do not ask for it on opening.
                content = content.replace(b' fullCalcOnLoad="1"', b"")
            if info.filename.startswith("xl/worksheets/sheet"):
                xml = content.decode()
                for cell, value in results.items():
                    xml = re.sub(
                        rf'(<c r="{cell}"[^>]*>(?:(?!</c>).)*?</f>)<v ?/>',
                        rf"\g<1><v>{value}</v>",
                        xml,
                    )
                content = xml.encode()
            target.writestr(info, content)
    return out.getvalue()


def shares(plan):
    return {sg.name: sg.share for d in plan.departments for sg in d.strategic_goals}


def refused(files):
    with pytest.raises(TableReadError) as caught:
        read_plan_files(files)
    return caught.value.errors


def writes(result):
    return [c for c in result.changes if c.action != "unchanged"]


# ---------------------------------------------------------------- number formats


def test_a_percent_formatted_share_is_the_percentage_it_shows():
    book, sheet = workbook(
        [
            ["기획실", "재정 건전성", 1000, 0.0028, "세입 확충", "지방세 징수율"],
            ["복지국", "돌봄 강화", 2588, 0.7349, "노인 돌봄", "돌봄 이용자 수"],
        ]
    )
    for row in (2, 3):
        sheet.cell(row, 4).number_format = "0.00%"
    plan = read_plan_files([("plan.xlsx", xlsx(book))])
    assert shares(plan) == {"재정 건전성": Decimal("0.28"), "돌봄 강화": Decimal("73.49")}
    # The same table as CSV, where the cell is the text `0.28%`, reads the same.
    text = "\r\n".join(
        [",".join(HEADER), "기획실,재정 건전성,1000,0.28%,세입 확충,지방세 징수율"]
        + ["복지국,돌봄 강화,2588,73.49%,노인 돌봄,돌봄 이용자 수"]
    )
    assert shares(read_plan_files([("plan.csv", text.encode("utf-8-sig"))])) == shares(plan)


def test_a_number_is_read_with_the_decimals_it_shows():
    book, sheet = workbook()
    for row in (2, 3, 4):
        sheet.cell(row, 4).number_format = "0.0"  # 0.2787 shows 0.3
        sheet.cell(row, 3).number_format = "#,##0"
    sheet.cell(4, 3).value = 2587.6  # shows 2,588
    plan = read_plan_files([("plan.xlsx", xlsx(book))])
    assert shares(plan) == {"재정 건전성": Decimal("0.3"), "돌봄 강화": Decimal("0.7")}
    assert plan.departments[1].strategic_goals[0].budget == 2588


def test_a_formula_without_a_stored_result_is_refused_naming_its_cells():
    book, sheet = workbook()
    sheet["C4"] = "=C2+1588"
    sheet["D4"] = "=1-D2"
    errors = refused([("plan.xlsx", xlsx(book))])
    assert len(errors) == 1
    error = errors[0]
    assert (error.file, error.sheet, error.value) == ("plan.xlsx", "성과계획 및 재원비중", "C4, D4")
    assert "LibreOffice" in error.message


def test_a_formula_with_its_stored_result_imports_the_result_it_shows():
    book, sheet = workbook()
    sheet["D2"] = sheet["D3"] = "=C2/3588"
    sheet["D4"] = "=C4/3588"
    for row in (2, 3, 4):
        sheet.cell(row, 4).number_format = "0.00%"
    data = xlsx(book, {"D2": 0.278706800445931, "D3": 0.278706800445931, "D4": 0.72129319955})
    plan = read_plan_files([("plan.xlsx", data)])
    assert shares(plan) == {"재정 건전성": Decimal("27.87"), "돌봄 강화": Decimal("72.13")}


def test_the_same_file_twice_is_unchanged_at_the_precision_it_is_stored_with():
    # General format: the cell shows 0.27867…, the database keeps two decimals.
    book, sheet = workbook()
    for row in (2, 3):
        sheet.cell(row, 4).value = 0.278674
    sheet.cell(4, 3).value = 2588.00049  # amounts keep three decimals
    files = [("plan.xlsx", xlsx(book))]
    first = import_plan(2026, read_plan_files(files))
    assert first.ok and first.applied
    assert StrategicGoal.objects.get(name="재정 건전성").declared_share == Decimal("0.28")
    again = import_plan(2026, read_plan_files(files))
    assert again.ok and writes(again) == []


# ---------------------------------------------------------------- headers and hidden parts


def test_a_hidden_duplicate_column_is_never_preferred_to_the_visible_one():
    header = ["실국명", "전략목표명", "예산액(백만원)", "예산액(백만원)", "비중(%)"]
    header += ["정책사업목표명", "성과지표명"]
    rows = [r[:2] + [9, r[2]] + r[3:] for r in ROWS]
    book, sheet = workbook(rows, header)
    sheet.column_dimensions["C"].hidden = True
    plan = read_plan_files([("plan.xlsx", xlsx(book))])
    assert [sg.budget for d in plan.departments for sg in d.strategic_goals] == [1000, 2588]
    assert any("C" in w and "D" in w for w in plan.warnings), plan.warnings


def test_a_visible_duplicate_header_is_refused():
    header = HEADER[:3] + ["예산액"] + HEADER[3:]
    rows = [r[:3] + [9] + r[3:] for r in ROWS]
    book, _sheet = workbook(rows, header)
    errors = refused([("plan.xlsx", xlsx(book))])
    assert [(e.file, e.sheet, e.row, e.column) for e in errors] == [
        ("plan.xlsx", "성과계획 및 재원비중", 1, "예산액")
    ]
    assert "C" in errors[0].message and "D" in errors[0].message


def test_hidden_rows_are_imported_and_listed_as_warnings():
    book, sheet = workbook()
    sheet.row_dimensions[3].hidden = True
    plan = read_plan_files([("plan.xlsx", xlsx(book))])
    indicators = plan.departments[0].strategic_goals[0].policy_goals[0].indicators
    assert [i.name for i in indicators] == ["지방세 징수율", "체납액 정리율"]
    assert any("plan.xlsx" in w and "3" in w for w in plan.warnings), plan.warnings


def test_a_header_in_row_12_is_found():
    above = [["2026년 성과계획"], ["(단위: 백만원)"]] + [[]] * 9
    book, _sheet = workbook(above=above)
    plan = read_plan_files([("plan.xlsx", xlsx(book))])
    assert [d.name for d in plan.departments] == ["기획실", "복지국"]
    assert plan.departments[0].source.row == 13


def test_a_sheet_whose_header_has_a_typo_is_refused_with_a_close_match():
    book, _sheet = workbook(header=[h.replace("정책사업목표명", "정책목표명") for h in HEADER])
    summary = book.create_sheet("총괄")
    summary.append(["실국명", "전략목표수", "지표수"])
    summary.append(["기획실", 1, 2])
    errors = refused([("plan.xlsx", xlsx(book))])
    assert [(e.file, e.sheet) for e in errors] == [("plan.xlsx", "성과계획 및 재원비중")]
    assert "정책목표명 → 정책사업목표명" in errors[0].message
    assert "성과지표명" in errors[0].message  # the headers it expected


def test_merged_cells_repeat_the_name_they_show():
    rows = [
        ["기획실", "재정 건전성", 1000, 27.87, "세입 확충", "지방세 징수율"],
        [None, None, None, None, None, "체납액 정리율"],
        ["복지국", "돌봄 강화", 2588, 72.13, "노인 돌봄", "돌봄 이용자 수"],
    ]
    book, sheet = workbook(rows)
    for column in "ABCDE":
        sheet.merge_cells(f"{column}2:{column}3")
    plan = read_plan_files([("plan.xlsx", xlsx(book))])
    goal = plan.departments[0].strategic_goals[0]
    assert (goal.budget, goal.share) == (1000, Decimal("27.87"))
    assert [i.name for i in goal.policy_goals[0].indicators] == ["지방세 징수율", "체납액 정리율"]


# ---------------------------------------------------------------- the 계 row of table 나


def test_a_total_row_in_table_na_is_recognised_and_checked():
    # The shares 27.87 + 72.13: the 계 row's budget and share are their sums.
    book, sheet = workbook(REFERENCE_ROWS + [["계", None, 3588, 100, None, None]])
    plan = read_plan_files([("plan.xlsx", xlsx(book))])
    assert [d.name for d in plan.departments] == ["기획실", "복지국"]
    book, sheet = workbook(REFERENCE_ROWS + [["계", None, 3600, 100, None, None]])
    errors = refused([("plan.xlsx", xlsx(book))])
    assert [(e.row, e.column, e.value) for e in errors] == [(5, "예산액(백만원)", 3600)]
    assert "3588" in errors[0].message
    # A share total off by more than the shares' rounding is refused too; within it, not.
    book, sheet = workbook(REFERENCE_ROWS + [["계", None, 3588, 99.9, None, None]])
    errors = refused([("plan.xlsx", xlsx(book))])
    assert [(e.row, e.column, e.value) for e in errors] == [(5, "비중(%)", 99.9)]
    assert "100.00" in errors[0].message
    book, sheet = workbook(REFERENCE_ROWS + [["합계", None, 3588, 99.99, None, None]])
    assert shares(read_plan_files([("plan.xlsx", xlsx(book))])) == REFERENCE_SHARES


# ---------------------------------------------------------------- the preview


def test_the_preview_lists_hidden_rows_and_a_new_plan_without_table_na(admin_client):
    book, sheet = workbook()
    sheet.row_dimensions[4].hidden = True
    upload = io.BytesIO(xlsx(book))
    upload.name = "plan.xlsx"
    response = admin_client.post(
        reverse("admin:perfplan_plan_import"), {"fiscal_year": 2026, "files": [upload]}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="import-warnings"' in page
    assert any("4" in w for w in response.context["read_warnings"])

    summary = openpyxl.Workbook()
    summary.active.append(["실국명", "전략목표수", "지표수"])
    summary.active.append(["기획실", 1, 2])
    upload = io.BytesIO(xlsx(summary))
    upload.name = "summary.xlsx"
    response = admin_client.post(
        reverse("admin:perfplan_plan_import"), {"fiscal_year": 2027, "files": [upload]}
    )
    assert response.status_code == 200
    assert len(response.context["read_warnings"]) == 1
    assert Plan.objects.count() == 0


# ---------------------------------------------------------------- a corpus of hand-made files
# Each builder edits the reference workbook the way people do; the file must read exactly as
# the reference (same names, budgets, shares) or be refused where the builder says.


def _percent_shares(sheet):
    for row in (2, 3, 4):
        sheet.cell(row, 4).value = sheet.cell(row, 4).value / 100
        sheet.cell(row, 4).number_format = "0.00%"


def _shares_as_text(sheet):
    for row in (2, 3, 4):
        sheet.cell(row, 4).value = f"{sheet.cell(row, 4).value}%"


def _budgets_as_text(sheet):
    for row in (2, 3, 4):
        sheet.cell(row, 3).value = f"{sheet.cell(row, 3).value:,}"


def _budgets_formatted(sheet):
    for row in (2, 3, 4):
        sheet.cell(row, 3).number_format = '#,##0"백만원"'


def _shares_with_more_decimals(sheet):
    for row in (2, 3, 4):
        sheet.cell(row, 4).value = sheet.cell(row, 4).value + 0.00004
        sheet.cell(row, 4).number_format = "0.00"


def _title_lines_above(sheet):
    sheet.insert_rows(1, 4)
    sheet["A1"] = "2026년도 성과계획서"
    sheet["A2"] = "(단위: 백만원, %)"


def _merged_names(sheet):
    for column in "BCD":
        sheet[f"{column}3"] = None
    sheet["A3"] = None
    for column in "ABCD":
        sheet.merge_cells(f"{column}2:{column}3")


def _hidden_empty_column(sheet):
    sheet.insert_cols(7)
    sheet.column_dimensions["G"].hidden = True


def _spaces_in_headers(sheet):
    sheet["A1"] = " 실 국 명 "
    sheet["C1"] = "예산액 (백만원)"


def _english_headers(sheet):
    for column, text in zip(
        "ABCD", ("department", "strategic goal", "budget", "share"), strict=True
    ):
        sheet[f"{column}1"] = text
    sheet["E1"], sheet["F1"] = "policy goal", "indicator"


REFERENCE_SHARES = {"재정 건전성": Decimal("27.87"), "돌봄 강화": Decimal("72.13")}
REFERENCE_ROWS = [r[:3] + [s] + r[4:] for r, s in zip(ROWS, (27.87, 27.87, 72.13), strict=True)]


def _reference():
    return read_plan_files([("plan.xlsx", xlsx(workbook(REFERENCE_ROWS)[0]))])


@pytest.mark.parametrize(
    "edit",
    [
        _percent_shares,
        _shares_as_text,
        _budgets_as_text,
        _budgets_formatted,
        _shares_with_more_decimals,
        _title_lines_above,
        _merged_names,
        _hidden_empty_column,
        _spaces_in_headers,
        _english_headers,
    ],
)
def test_hand_made_variants_read_exactly_as_the_reference(edit):
    book, sheet = workbook(REFERENCE_ROWS)
    edit(sheet)
    plan = read_plan_files([("plan.xlsx", xlsx(book))])
    reference = _reference()
    assert shares(plan) == REFERENCE_SHARES
    assert shape(plan) == shape(reference)


def shape(plan):
    """What a plan says, without where it says it (the rows move with the edits)."""
    return [
        (d.name, sg.name, sg.budget, sg.share, pg.name, [i.name for i in pg.indicators])
        for d in plan.departments
        for sg in d.strategic_goals
        for pg in sg.policy_goals
    ]


def _uncalculated_budget(sheet):
    sheet["C4"] = "=C2*2.588"


def _typo_in_indicator_header(sheet):
    sheet["F1"] = "성과지포명"


def _text_in_budget(sheet):
    sheet["C3"] = "천만원"


def _two_share_columns(sheet):
    sheet["G1"] = "비중"


def _indicator_without_goal(sheet):
    sheet["E4"] = None
    sheet["A4"] = "기획실"
    sheet["B4"] = "새 전략목표"


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (_uncalculated_budget, (None, "", "C4")),
        (_typo_in_indicator_header, (None, "", None)),
        (_text_in_budget, (3, "예산액(백만원)", "천만원")),
        (_two_share_columns, (1, "비중", None)),
        (_indicator_without_goal, (4, "정책사업목표명", None)),
    ],
)
def test_hand_made_mistakes_are_refused_naming_where(edit, where):
    book, sheet = workbook(REFERENCE_ROWS)
    edit(sheet)
    errors = refused([("plan.xlsx", xlsx(book))])
    assert [(e.file, e.sheet) for e in errors] == [("plan.xlsx", "성과계획 및 재원비중")]
    assert (errors[0].row, errors[0].column, errors[0].value) == where
