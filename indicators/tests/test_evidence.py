"""증빙자료 (evidence): accepted or refused by content and size, stored in the database,
downloaded only within the user's scope (another department's evidence id is a 404)."""

from __future__ import annotations

import hashlib
import io
import zipfile

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from indicators import evidence
from indicators.models import Evidence, Result, ResultStatus
from perfplan import files, roles

from .support import (
    TODAY,
    departments_of,
    freeze_today,
    indicators_of,
    make_user,
    tracking_plan,
)

# ---------------------------------------------------------------- sample files


def pdf_bytes():
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def xlsx_bytes():
    book = openpyxl.Workbook()
    book.active["A1"] = "실적"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def zip_bytes(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return buffer.getvalue()


def hwpx_bytes(mimetype=b"application/hwp+zip"):
    return zip_bytes([("mimetype", mimetype), ("Contents/section0.xml", b"<sec/>")])


def hwp_bytes():
    return bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504


def jpeg_bytes():
    return bytes.fromhex("FFD8FFE000104A464946") + b"\x00" * 64 + bytes.fromhex("FFD9")


def png_bytes():
    return bytes.fromhex("89504E470D0A1A0A") + b"\x00\x00\x00\rIHDR" + b"\x00" * 20


GOOD = {
    "보고서.pdf": (pdf_bytes, "pdf", "application/pdf"),
    "실적.xlsx": (xlsx_bytes, "xlsx", evidence.KINDS[1].content_type),
    "공문.hwp": (hwp_bytes, "hwp", "application/x-hwp"),
    "공문.hwpx": (hwpx_bytes, "hwpx", "application/hwp+zip"),
    "현장.jpg": (jpeg_bytes, "jpeg", "image/jpeg"),
    "현장.JPEG": (jpeg_bytes, "jpeg", "image/jpeg"),
    "그래프.png": (png_bytes, "png", "image/png"),
}


# ---------------------------------------------------------------- the content checks


@pytest.mark.parametrize("name", list(GOOD))
def test_each_kind_is_accepted_by_its_content(name):
    make, key, content_type = GOOD[name]
    kind = evidence.check_evidence(name, make())
    assert (kind.key, kind.content_type) == (key, content_type)


@pytest.mark.parametrize(
    "name, data, code",
    [
        ("보고서.pdf", png_bytes(), "content"),  # a PNG renamed to .pdf
        ("보고서.pdf", b"MZ\x90\x00 this is a program", "content"),
        (
            "실적.xlsx",
            zip_bytes([("word/document.xml", b"<w/>"), ("[Content_Types].xml", b"")]),
            "content",
        ),
        ("실적.xlsx", hwpx_bytes(), "content"),  # a zip, but an HWPX
        ("공문.hwpx", hwpx_bytes(b"application/zip"), "content"),
        ("공문.hwpx", zip_bytes([("Contents/section0.xml", b"<sec/>")]), "content"),
        ("공문.hwp", pdf_bytes(), "content"),
        ("현장.jpg", png_bytes(), "content"),
        ("그래프.png", b"\x89PNG but not quite", "content"),
        ("setup.exe", b"MZ\x90\x00", "extension"),
        ("보고서.docx", zip_bytes([("word/document.xml", b"<w/>")]), "extension"),
        ("보고서", pdf_bytes(), "extension"),
        ("보고서.pdf", b"", "empty"),
    ],
)
def test_files_are_refused_by_content_not_name(name, data, code):
    with pytest.raises(ValidationError) as caught:
        evidence.check_evidence(name, data)
    assert caught.value.code == code
    assert name in caught.value.messages[0] or code == "empty"


def test_a_mismatch_names_what_the_content_is():
    with pytest.raises(ValidationError) as caught:
        evidence.check_evidence("보고서.pdf", png_bytes())
    assert "PNG" in caught.value.messages[0]


@override_settings(PERFPLAN_MAX_EVIDENCE_BYTES=1000)
def test_the_size_limit_is_a_setting():
    evidence.check_evidence("그래프.png", png_bytes() + b"\x00" * (1000 - len(png_bytes())))
    with pytest.raises(ValidationError) as caught:
        evidence.check_evidence("그래프.png", png_bytes() + b"\x00" * 1000)
    assert caught.value.code == "too_large"


def test_the_default_limit_is_10_mb(settings):
    del settings.PERFPLAN_MAX_EVIDENCE_BYTES
    assert files.evidence_limit() == 10 * 1024 * 1024


def test_names_lose_folders_and_control_characters():
    assert evidence.clean_name("..\\..\\C:\\temp\\보고서.pdf") == "보고서.pdf"
    assert evidence.clean_name("a/b/\x00증빙\n.png") == "증빙.png"
    assert len(evidence.clean_name("가" * 400 + ".pdf")) == 255


# ---------------------------------------------------------------- upload and download


@pytest.fixture
def setup(db, monkeypatch, django_user_model):
    freeze_today(monkeypatch, TODAY)
    plan = tracking_plan()
    ours, theirs = departments_of(plan)
    officer = make_user(django_user_model, "officer", roles.OFFICER, [ours])
    other = make_user(django_user_model, "other", roles.OFFICER, [theirs])
    mine = indicators_of(plan, ours)[0]
    their = indicators_of(plan, theirs)[0]
    result = Result.objects.create(indicator=mine, period="Q1", value=30, entered_by=officer)
    their_result = Result.objects.create(indicator=their, period="Q1", value=5)
    return {
        "plan": plan,
        "officer": officer,
        "other": other,
        "mine": mine,
        "their": their,
        "result": result,
        "their_result": their_result,
    }


def upload(client, indicator, period, name, data, **headers):
    return client.post(
        reverse("tracking:evidence_upload"),
        {"indicator": indicator.pk, "period": period, "file": SimpleUploadedFile(name, data)},
        **headers,
    )


def stored(result, name="증빙.png", data=None):
    data = data or png_bytes()
    return Evidence.objects.create(
        result=result,
        name=name,
        content_type="image/png",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
    )


def test_upload_is_stored_in_the_database(client, setup):
    client.force_login(setup["officer"])
    data = xlsx_bytes()
    response = upload(
        client, setup["mine"], "Q1", "실적 근거.xlsx", data, HTTP_X_REQUESTED_WITH="fetch"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["evidence_count"] == 1
    item = Evidence.objects.get()
    assert item.result == setup["result"] and item.uploaded_by == setup["officer"]
    assert bytes(item.content) == data and item.size == len(data)
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    assert item.content_type == evidence.KINDS[1].content_type
    # the cell page lists it
    html = client.get(reverse("tracking:cell", args=[setup["mine"].pk, "Q1"])).content.decode()
    assert (
        "실적 근거.xlsx" in html and reverse("tracking:evidence_download", args=[item.pk]) in html
    )


def test_upload_refused_by_content_keeps_nothing(client, setup):
    client.force_login(setup["officer"])
    response = upload(
        client, setup["mine"], "Q1", "보고서.pdf", png_bytes(), HTTP_X_REQUESTED_WITH="fetch"
    )
    assert response.status_code == 400
    assert "보고서.pdf" in response.json()["error"]
    assert not Evidence.objects.exists()


@override_settings(PERFPLAN_MAX_EVIDENCE_BYTES=2048)
def test_upload_refused_by_size(client, setup):
    client.force_login(setup["officer"])
    response = upload(client, setup["mine"], "Q1", "그래프.png", png_bytes() + b"\x00" * 4096)
    assert response.status_code == 302  # without script: back to the cell page with a message
    assert not Evidence.objects.exists()
    html = client.get(response["Location"]).content.decode()
    assert "그래프.png" in html and "2 KB" in html


def test_upload_needs_a_result_first(client, setup):
    client.force_login(setup["officer"])
    response = upload(
        client, setup["mine"], "Q2", "그래프.png", png_bytes(), HTTP_X_REQUESTED_WITH="fetch"
    )
    assert response.status_code == 400 and not Evidence.objects.exists()


def test_upload_refused_once_the_result_is_submitted(client, setup):
    Result.objects.filter(pk=setup["result"].pk).update(status=ResultStatus.SUBMITTED)
    client.force_login(setup["officer"])
    response = upload(
        client, setup["mine"], "Q1", "그래프.png", png_bytes(), HTTP_X_REQUESTED_WITH="fetch"
    )
    assert response.status_code == 400 and not Evidence.objects.exists()


def test_upload_to_another_department_is_404(client, setup):
    client.force_login(setup["officer"])
    response = upload(client, setup["their"], "Q1", "그래프.png", png_bytes())
    assert response.status_code == 404
    assert not Evidence.objects.exists()


def test_reviewers_and_auditors_cannot_upload(client, setup, django_user_model):
    ours = departments_of(setup["plan"])[0]
    for user in (
        make_user(django_user_model, "reviewer", roles.REVIEWER, [ours]),
        make_user(django_user_model, "auditor", roles.AUDITOR),
    ):
        client.force_login(user)
        response = upload(
            client, setup["mine"], "Q1", "그래프.png", png_bytes(), HTTP_X_REQUESTED_WITH="fetch"
        )
        assert response.status_code == 400
    assert not Evidence.objects.exists()


def test_download_is_scoped(client, setup, django_user_model):
    data = png_bytes() + b"our data"
    ours = stored(setup["result"], "현장 사진.png", data)
    theirs = stored(setup["their_result"], "다른 부서.png")
    client.force_login(setup["officer"])
    response = client.get(reverse("tracking:evidence_download", args=[ours.pk]))
    assert response.status_code == 200
    assert response.content == data
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "%ED%98%84%EC%9E%A5" in response["Content-Disposition"]  # 현장, UTF-8 encoded
    assert response["X-Content-Type-Options"] == "nosniff"
    # another department's id, and one that does not exist: the same 404
    assert client.get(reverse("tracking:evidence_download", args=[theirs.pk])).status_code == 404
    assert (
        client.get(reverse("tracking:evidence_download", args=[theirs.pk + 100])).status_code == 404
    )
    # the other department's officer, and an auditor, may download theirs
    client.force_login(setup["other"])
    assert client.get(reverse("tracking:evidence_download", args=[theirs.pk])).status_code == 200
    assert client.get(reverse("tracking:evidence_download", args=[ours.pk])).status_code == 404
    client.force_login(make_user(django_user_model, "auditor", roles.AUDITOR))
    assert client.get(reverse("tracking:evidence_download", args=[ours.pk])).status_code == 200


def test_delete_is_scoped(client, setup):
    ours = stored(setup["result"])
    theirs = stored(setup["their_result"])
    client.force_login(setup["officer"])
    response = client.post(
        reverse("tracking:evidence_delete", args=[theirs.pk]), HTTP_X_REQUESTED_WITH="fetch"
    )
    assert response.status_code == 404
    response = client.post(
        reverse("tracking:evidence_delete", args=[ours.pk]), HTTP_X_REQUESTED_WITH="fetch"
    )
    assert response.json()["ok"] is True
    assert list(Evidence.objects.all()) == [theirs]
    assert client.get(reverse("tracking:evidence_delete", args=[theirs.pk])).status_code == 405


def test_grid_counts_evidence_per_cell(client, setup):
    stored(setup["result"])
    stored(setup["result"], "둘째.png")
    client.force_login(setup["officer"])
    html = client.get(reverse("tracking:my_department")).content.decode()
    link = f'id="more-{setup["mine"].pk}-Q1"'
    assert link in html
    assert html.split(link, 1)[1].split("</a>", 1)[0].endswith('<span class="n">2</span>')
