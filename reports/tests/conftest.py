"""The server-side PDF's engines (reports.pdf): the tests that make a PDF run once with each."""

from __future__ import annotations

import os

import pytest

from reports import pdf


@pytest.fixture(params=[pdf.CHROMIUM, pdf.WEASYPRINT])
def pdf_engine(request, settings):
    """Each engine in turn (PERFPLAN_PDF_ENGINE); skipped where it is missing, failed in CI
    (.ci/run installs both and sets PERFPLAN_REQUIRE_BROWSER=1)."""
    settings.PERFPLAN_PDF_ENGINE = request.param
    if pdf.engine() != request.param:
        reason = f"the PDF engine {request.param} is not installed here"
        if os.environ.get("PERFPLAN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason} (PERFPLAN_REQUIRE_BROWSER=1: it must be)", pytrace=False)
        pytest.skip(reason)
    return request.param
