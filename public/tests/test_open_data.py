"""Open data files: each table opens in UTF-8 (with its BOM) and in CP949 with the headers
the published column dictionary lists, one table per file, a code and a name column for
each coded value; the JSON has the same columns."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.urls import reverse

from indicators.models import Indicator
from public.opendata import DATASETS

from .conftest import YEAR

pytestmark = pytest.mark.django_db


def dictionary_headers(client):
    """{dataset title: [column headers]} as the dictionary page lists them."""
    page = client.get(reverse("public:dictionary")).content.decode()
    found = {}
    for section in page.split("<section")[1:]:
        key = re.search(r'id="dataset-(\w+)"', section).group(1)
        found[key] = re.findall(r'<th scope="row"><code>([^<]+)</code></th>', section)
    return found


def test_csv_opens_in_both_encodings_with_the_dictionarys_headers(client, seed_plan):
    listed = dictionary_headers(client)
    assert set(listed) == set(DATASETS)
    for key in DATASETS:
        utf8 = client.get(reverse("public:download", args=[YEAR, key, "csv"]))
        cp949 = client.get(reverse("public:download", args=[YEAR, key, "cp949"]))
        assert utf8["Content-Type"] == "text/csv; charset=utf-8"
        assert cp949["Content-Type"] == "text/csv; charset=cp949"
        assert utf8.content.startswith(b"\xef\xbb\xbf")
        assert not cp949.content.startswith(b"\xef\xbb\xbf")
        as_utf8 = list(csv.reader(io.StringIO(utf8.content.decode("utf-8-sig"))))
        as_cp949 = list(csv.reader(io.StringIO(cp949.content.decode("cp949"))))  # strict
        assert as_utf8[0] == as_cp949[0] == listed[key], key
        assert as_utf8 == as_cp949, key  # the seed's words are all in CP949
        assert len(as_utf8) > 1
        assert {len(row) for row in as_utf8} == {len(listed[key])}  # one table per file
        document = json.loads(
            client.get(reverse("public:download", args=[YEAR, key, "json"])).content
        )
        assert document["columns"] == listed[key]
        assert len(document["records"]) == len(as_utf8) - 1
        assert "attachment" in utf8["Content-Disposition"]


def test_every_code_column_has_its_name_column(client, seed_plan):
    for dataset in DATASETS.values():
        headers = dataset.headers
        for header in headers:
            if header.endswith("코드") and header not in ("지표코드",):
                assert header[: -len("코드")] + "명" in headers, header


def test_the_indicator_table_holds_every_indicator_once(client, seed_plan):
    body = client.get(reverse("public:download", args=[YEAR, "indicators", "json"])).content
    records = json.loads(body)["records"]
    assert sorted(r["지표번호"] for r in records) == sorted(
        Indicator.objects.in_plan(seed_plan).values_list("pk", flat=True)
    )
    statuses = {(r["상태코드"], r["상태명"]) for r in records}
    assert ("achieved", "달성") in statuses
    assert all(r["예시데이터여부"] in ("Y", "N") for r in records)
    assert all(r["부서코드"] and r["부서명"] for r in records)
