"""reports.pdf's engines lay out only what the page holds: no script runs, nothing is fetched."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from reports import pdf

HTML = """<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8">
<style>@page { size: A4; margin: 20mm; } h2 { break-before: page; }</style></head><body>
<h2>기획예산실</h2><p id="text">본문</p>
<script>document.getElementById("text").textContent = "SCRIPT RAN";</script>
<img src="http://127.0.0.1:9/tracker.png" alt="">
<h2>복지국</h2><p>둘째</p>
</body></html>"""


def test_a_part_is_laid_out_without_scripts_or_the_network(pdf_engine):
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    ((data, pages, headings),) = pdf.render_all([HTML])
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode("utf-8")
    assert "본문" in text and "SCRIPT RAN" not in text
    # each department heading where its page begins: what the contents' page numbers use
    assert [title.strip() for title, _page in headings] == ["기획예산실", "복지국"]
    assert [page for _title, page in headings] == [0, 1] and pages == 2
