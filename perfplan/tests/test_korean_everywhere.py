"""Korean everywhere (issue 13, item 4): every admin page, as each role, in the Korean UI.

The pages are found, not listed: every registered ModelAdmin's list, add form, an object's
change form, history and delete page, and every other page of the URLconf under /admin/
(tracking, imports, plan tables, reports, …; a URL parameter is filled from the demo's
data by its name, or the page answers 404 — a page too). As each role (superuser, plan
admin, officer, reviewer, auditor) each page's visible text — text nodes, titles, tooltips,
placeholders, button labels — must not hold

- an English msgid of the catalogue (ours, Django's, the libraries', and the Korean waiting
  in locale/ko/pending/*.po to be merged) shown as it is: it was not translated;
- a word in Latin letters outside the allow-list: words that the Korean translations
  themselves use (xlsx, CSV, ID, …), words of the data (names as the plan prints them,
  usernames, e-mails) and a few codes; a period code such as M11 is not allowed;
- a link to a page of the admin the user may not open (403).

The demo (`load_demo`) is loaded once for the module inside a transaction rolled back at
the end, with a row of each kind it does not make.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections import defaultdict
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import models, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from indicators.models import Indicator
from perfplan.models import Plan
from perfplan.tests.korean import korean_catalogue
from perfplan.tests.test_admin_queries import add_tracking_rows

pytestmark = pytest.mark.django_db

ROLES = ("superuser", "planadmin", "officer", "reviewer", "auditor")
DEMO_LOGIN = {"superuser": "admin"}  # the demo's usernames; the others are the role names
PASSWORD = "perfplan-demo"

# Never fetched: they change state on GET or end the session (the rest answer GET or 405).
SKIPPED_URL_NAMES = {"logout", "set_language", "jsi18n", "autocomplete", "view_on_site"}
# Codes and names no translation changes (formats, standards, the product's own name).
CODES = {"A4", "CP949", "EUC", "KR", "UTF", "BOM", "SHA", "IP", "ID", "URL", "API", "PDF", "pdf"}
CODES |= {"xlsx", "csv", "CSV", "txt", "json", "JSON", "hwp", "hwpx", "jpg", "png", "MB", "KB"}
CODES |= {"perfplan", "Excel", "LibreOffice", "PostgreSQL", "SQLite", "Django", "OK", "GB"}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.'’-]*[A-Za-z0-9]|[A-Za-z]")
# Not words: a file name (seed_plan_summary.csv), a hash or a masked secret (ab12****).
NOT_A_WORD = re.compile(r"^[\w.-]+\.[A-Za-z0-9]{2,5}$|^(?=.*\d)[0-9a-fA-F]{12,}$")
MASKED = re.compile(r"\S+\*{4,}")
# Period keys explained as input ("Q1–Q4 또는 1분기–4분기", "H1/H2", "Y 또는 연간") are allowed.
KEY = r"(?:M\d\d|Q\d|H\d)"
INPUT_FORMATS = re.compile(rf"\b{KEY}\s*[–/~-]\s*{KEY}\b|\bY(?= 또는)")
PERIOD_CODE = re.compile(r"^(M(0?[1-9]|1[0-2])|Q[1-4]|H[12]|Y)$")
VISIBLE_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
INVISIBLE_TAGS = {"script", "style", "template", "noscript", "textarea"}


# ---------------------------------------------------------------- the Korean catalogue


class Catalogue:
    """What the test needs of the ko catalogue in use (korean_catalogue: with the Korean
    pending a merge): its English msgids and its Korean texts."""

    def __init__(self, translation_in_use):
        self.entries = {}
        for key, text in translation_in_use._catalog.items():
            msgid = key[0] if isinstance(key, tuple) else key
            msgid = msgid.split("\x04")[-1]
            if msgid and text:
                self.entries.setdefault(msgid, text)

    @functools.cached_property
    def korean(self):
        """The Korean texts of the catalogue, as a page shows them (spaces collapsed)."""
        return {" ".join(text.split()) for text in self.entries.values()}

    @functools.cached_property
    def english(self):
        """The msgids whose Korean differs from them: shown as they are, untranslated."""
        return {
            " ".join(msgid.split())
            for msgid, text in self.entries.items()
            if msgid != text and WORD.search(msgid) and "%" not in msgid and "{" not in msgid
        }

    def words_of_the_korean(self):
        """Latin words the Korean translations use themselves (xlsx, ID, …)."""
        words = set()
        for text in self.entries.values():
            if re.search(r"[가-힣]", text):
                words.update(WORD.findall(text))
        return words


# ---------------------------------------------------------------- reading a page


class VisibleText(HTMLParser):
    """The text a person sees (or hears) on a page: text nodes outside scripts and styles,
    and the titles, tooltips, placeholders and button labels of elements. An element marked
    with another language (the switcher's lang="en" "English") is meant to be in it."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}  # fmt: skip

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts, self.links, self._hidden = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        foreign = not (attrs.get("lang") or "ko").startswith("ko")
        hidden = "hidden" in attrs or "hidden" in (attrs.get("class") or "").split()
        foreign = foreign or hidden
        if tag not in self.VOID and (tag in INVISIBLE_TAGS or foreign or self._hidden):
            self._hidden.append(tag)
            return
        if foreign:
            return
        for name in VISIBLE_ATTRIBUTES:
            if attrs.get(name):
                self.texts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button", "reset"):
            self.texts.append(attrs.get("value") or "")
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID and self._hidden and self._hidden[-1] == tag:
            self._hidden.pop()

    def handle_endtag(self, tag):
        if self._hidden:
            if self._hidden[-1] == tag:
                self._hidden.pop()
            return

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.texts.append(data)


def read_page(html):
    parser = VisibleText()
    parser.feed(html)
    return [" ".join(t.split()) for t in parser.texts if t.strip()], parser.links


# ---------------------------------------------------------------- the pages


def admin_model_urls(objects):
    """Each registered admin's list and add form; its object's change, history and delete."""
    urls = []
    for model in admin.site._registry:
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        urls += [reverse(f"{base}_changelist"), reverse(f"{base}_add")]
        obj = objects.get(model)
        if obj is not None:
            for page in ("change", "history", "delete"):
                urls.append(reverse(f"{base}_{page}", args=[obj.pk]))
    return urls


def other_admin_urls(arguments, objects):
    """Every other named page of the URLconf (an admin's own pages too: import-export's
    export form, …), its parameters filled by name from `arguments`, an admin's object_id
    with its object (an unknown one with 0: the page answers 404, which is checked too)."""
    prefixes = {f"{m._meta.app_label}_{m._meta.model_name}_": m for m in admin.site._registry}
    urls = []
    for name, keywords in named_patterns(get_resolver(), ""):
        short = name.split(":")[-1]
        if short in SKIPPED_URL_NAMES:
            continue
        model = next((m for p, m in prefixes.items() if short.startswith(p)), None)
        own = {"object_id": getattr(objects.get(model), "pk", 0)} if model else {}
        kwargs = {
            key: own.get(key, arguments.get((name, key), arguments.get(key, 0))) for key in keywords
        }
        try:
            urls.append(reverse(name, kwargs=kwargs))
        except Exception:  # noqa: BLE001 - a converter the demo has no value for: skipped
            continue
    return urls


def named_patterns(resolver, namespace):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or ""
            prefix = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
            yield from named_patterns(pattern, prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            full = f"{namespace}:{pattern.name}" if namespace else pattern.name
            keywords = list(pattern.pattern.regex.groupindex)
            yield full, keywords


def pages_of_the_admin(objects, arguments):
    found, seen = [], set()
    for url in [*admin_model_urls(objects), *other_admin_urls(arguments, objects)]:
        if url.startswith("/admin/") and url not in seen:
            seen.add(url)
            found.append(url)
    return found


# ---------------------------------------------------------------- the demo, once


def make_rows_the_demo_lacks(plan):
    """A period target, an entry exception, a unit program (add_tracking_rows) and a locked
    login attempt (axes), so each admin has an object to open."""
    users = get_user_model()._default_manager
    officer = users.get(username="officer")
    add_tracking_rows(plan, officer)
    Client(REMOTE_ADDR="192.0.2.1").post(
        reverse("admin:login"), {"username": "officer", "password": "wrong"}
    )
    Client().post(reverse("admin:login"), {"username": "reviewer", "password": PASSWORD})


def one_of_each(models_):
    return {model: model._default_manager.order_by("-pk").first() for model in models_}


def data_words():
    """Latin words in the data (names as printed, usernames, e-mails, units…): the allow-list's
    proper names."""
    words = set()
    for model in [*admin.site._registry, Plan]:
        fields = [
            f.name
            for f in model._meta.get_fields()
            if isinstance(f, (models.CharField, models.TextField, models.EmailField))
            and not f.choices
        ]
        if not fields:
            continue
        for row in model._default_manager.values_list(*fields)[:5000]:
            for value in row:
                if value:
                    words.update(WORD.findall(str(value)))
    return words


def findings_of_page(url, html, catalogue, allowed):
    problems = []
    texts, links = read_page(html)
    for text in texts:
        if text in catalogue.english:
            problems.append(f"{url}: untranslated “{text}”")
            continue
        if text in catalogue.korean:
            continue  # the catalogue's own Korean (which may name codes: Q1–Q4 as input)
        for word in WORD.findall(INPUT_FORMATS.sub("", MASKED.sub("", text))):
            if NOT_A_WORD.match(word):
                continue
            if PERIOD_CODE.match(word):
                problems.append(f"{url}: period code “{word}” in “{text[:120]}”")
            elif word not in allowed and word.strip("'’.-_") not in allowed:
                problems.append(f"{url}: English “{word}” in “{text[:120]}”")
    return problems, links


def admin_links(links):
    for href in links:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.startswith("/admin/"):
            continue
        if parts.path.rstrip("/").endswith(("logout", "delete")):
            continue
        yield href


def link_shape(href):
    parts = urlsplit(href)
    keys = sorted(k.split("=")[0] for k in parts.query.split("&") if k)
    return re.sub(r"\d+", "N", parts.path), tuple(keys)


def walk_as(role, urls, catalogue, allowed):
    username = DEMO_LOGIN.get(role, role)
    client = Client(raise_request_exception=False)
    client.force_login(get_user_model()._default_manager.get(username=username))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    problems, checked = [], {}
    pending_links = {}
    for url in urls:
        response = client.get(url)
        if response.status_code >= 500:
            problems.append(f"{url}: answers {response.status_code} to {role}")
            continue
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        if response.status_code in (301, 302, 405):
            continue
        found, links = findings_of_page(url, response.content.decode(), catalogue, allowed)
        problems += found
        if response.status_code == 200:
            for href in admin_links(links):
                pending_links.setdefault(link_shape(href), (href, url))
    for href, shown_on in pending_links.values():
        if href not in checked:
            checked[href] = client.get(href).status_code
        if checked[href] == 403:
            problems.append(f"{shown_on}: a link to {href}, which answers 403 to {role}")
    return problems


@pytest.fixture(scope="module")
def findings(django_db_setup, django_db_blocker):
    """Per role: every problem found on every page (built once, rolled back)."""
    found = defaultdict(list)
    with django_db_blocker.unblock(), transaction.atomic(), korean_catalogue() as in_use:
        # In Korean, as `make demo` runs it (LANGUAGE_CODE): the demo's titles are data.
        call_command("load_demo", stdout=StringIO())
        plan = Plan.objects.order_by("-fiscal_year").first()
        make_rows_the_demo_lacks(plan)
        objects = one_of_each(admin.site._registry)
        indicator = Indicator.objects.in_plan(plan).order_by("pk").first()
        arguments = {
            "plan_id": plan.pk,
            "indicator_id": indicator.pk,
            "period": "Q1",
            "batch_id": uuid.uuid4(),
            "app_label": "perfplan",
            ("tracking:indicator", "pk"): indicator.pk,
        }
        urls = pages_of_the_admin(objects, arguments)
        catalogue = Catalogue(in_use)
        allowed = catalogue.words_of_the_korean() | data_words() | CODES
        for role in ROLES:
            found[role] = walk_as(role, urls, catalogue, allowed)
        found["pages"] = urls
        transaction.set_rollback(True)
    return found


def test_every_admin_page_is_found(findings):
    pages = findings["pages"]
    assert len(pages) > 60
    for expected in ("/admin/tracking/my/", "/admin/perfplan/changelogentry/"):
        assert expected in pages


@pytest.mark.parametrize("role", ROLES)
def test_no_english_on_any_admin_page(findings, role):
    problems = sorted(set(findings[role]))
    assert not problems, f"{len(problems)} problems as {role}:\n" + "\n".join(problems[:200])


def test_the_reader_sees_what_a_person_sees():
    texts, links = read_page(
        '<p title="Tip">Hello <b>world</b></p><script>var x = "no"</script>'
        '<input type="submit" value="Save"><input type="hidden" value="secret">'
        '<a href="/admin/x/">링크</a><textarea>typed</textarea><img src="a.png" alt="chart">'
        '<button lang="en">English</button><span lang="ko">한국어</span>'
    )
    assert texts == ["Tip", "Hello", "world", "Save", "링크", "chart", "한국어"]
    assert links == ["/admin/x/"]


def test_input_formats_may_name_period_keys_but_a_shown_period_may_not():
    class Everything(set):
        def __contains__(self, item):
            return True

    catalogue = type("C", (), {"english": set(), "korean": set()})()
    explained = "<p>기간은 Q1–Q4 또는 1분기–4분기, H1/H2, Y 또는 연간으로 적습니다.</p>"
    assert findings_of_page("/x/", explained, catalogue, Everything())[0] == []
    shown = "<p>기간: M11</p>"
    assert findings_of_page("/x/", shown, catalogue, Everything())[0] == [
        "/x/: period code “M11” in “기간: M11”"
    ]


def test_an_imports_summary_reads_in_words():
    from perfplan.admin import import_summary_lines

    summary = {
        "kind": "plan",
        "files_sha256": "ee523d62a59c76c5964172fb6b42254beb44f4ac7178c8ab19beff364e30d2e5",
        "reason": "연초 반영",
        "counts": {"indicator": {"new": 168, "changed": 0}, "plan": {"new": 1}},
        "conflicts": [],
    }
    with korean_catalogue():
        lines = import_summary_lines(summary)
    assert lines == [
        "구분: 성과계획표",
        "사유: 연초 반영",
        "성과지표: 신규 168",
        "성과계획서: 신규 1",
    ]


def test_an_import_batchs_page_shows_no_json(admin_client):
    from perfplan.models import ImportBatch

    batch = ImportBatch.objects.create(
        fiscal_year=2030, summary={"kind": "plan", "files_sha256": "ab" * 32, "counts": {}}
    )
    html = admin_client.get(reverse("admin:perfplan_importbatch_change", args=[batch.pk]))
    assert html.status_code == 200
    assert "files_sha256" not in html.content.decode()


def test_the_libraries_admin_names_read_in_korean():
    """Names the walk meets only with rows it does not make (a task's traceback column)."""
    from axes.admin import AccessAttemptAdmin
    from django.apps import apps
    from django_tasks_db.admin import DBTaskResultAdmin

    with korean_catalogue():
        names = [
            str(apps.get_app_config("axes").verbose_name),
            str(apps.get_app_config("django_tasks_database").verbose_name),
            str(AccessAttemptAdmin.status.short_description),
            str(DBTaskResultAdmin.formatted_traceback.short_description),
            str(DBTaskResultAdmin.display_run_after.short_description),
        ]
    assert names == [
        "로그인 시도 기록",
        "백그라운드 작업",
        "상태",
        "오류 추적 정보",
        "실행 예정 시각",
    ]
