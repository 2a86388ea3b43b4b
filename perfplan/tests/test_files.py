"""File limits: one check, one message, for tables and evidence alike."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from perfplan.files import (
    FileTooLarge,
    WorkbookTooLarge,
    check_upload_size,
    check_xlsx_unpacked,
    evidence_limit,
    format_size,
    upload_limit,
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0 B"), (1023, "1,023 B"), (2048, "2 KB"), (10 * 1024 * 1024, "10.0 MB")],
)
def test_format_size(size, shown):
    assert format_size(size) == shown


def test_the_table_limit_is_the_setting(settings):
    settings.PERFPLAN_MAX_UPLOAD_BYTES = 100
    assert upload_limit() == 100
    check_upload_size("plan.csv", 100)  # at the limit: accepted
    with pytest.raises(FileTooLarge) as caught:
        check_upload_size("plan.csv", 5000)
    assert isinstance(caught.value, ValidationError) and caught.value.code == "too_large"
    assert caught.value.message == "plan.csv is 5 KB; the limit is 100 B."
    assert (caught.value.name, caught.value.size, caught.value.limit) == ("plan.csv", 5000, 100)


def test_a_given_limit_wins_and_the_evidence_limit_has_a_default(settings):
    del settings.PERFPLAN_MAX_EVIDENCE_BYTES
    assert evidence_limit() == 10 * 1024 * 1024
    with pytest.raises(FileTooLarge):
        check_upload_size("보고서.pdf", 2049, limit=2048)


def test_just_over_the_limit_shows_the_bytes():
    with pytest.raises(FileTooLarge) as caught:
        check_upload_size("plan.xlsx", 20 * 1024 * 1024 + 1, limit=20 * 1024 * 1024)
    assert "20,971,521 B; the limit is 20,971,520 B" in caught.value.message


def test_a_workbook_is_refused_by_its_unpacked_size_or_ratio(settings):
    settings.PERFPLAN_MAX_XLSX_UNPACKED_BYTES = 1000 * 1024
    check_xlsx_unpacked("a.xlsx", 5000, 900 * 1024)  # under both
    with pytest.raises(WorkbookTooLarge) as caught:
        check_xlsx_unpacked("a.xlsx", 500_000, 1001 * 1024)  # over the setting
    assert caught.value.message.startswith("a.xlsx unpacks to 1,001 KB")
    with pytest.raises(WorkbookTooLarge):
        check_xlsx_unpacked("a.xlsx", 1000, 200_001)  # over 200 times its size
