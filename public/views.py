"""The public pages (/public/): no login; published plans and approved results only.

Each page's body is built once per plan year, language and generation (public.cache) and
then answered from the cache: a hit reads two small cache keys and the body, and no
database row. The pages are rendered without the request (no CSRF token, no user), so
one copy serves everybody. What a page may show is decided in public.data.
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language

from goals.models import PlanDepartment
from indicators.charts import chart_svg
from indicators.views.screen import chart_data

from . import cache, data, opendata

HTML = "text/html; charset=utf-8"


def _answer(body, content_type=HTML, filename=None):
    response = HttpResponse(body, content_type=content_type)
    if filename:
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    # Browsers and proxies may keep a copy a minute; the server's own copy is invalidated
    # at once. The language follows its cookie: a shared cache keeps a copy per cookie.
    response["Cache-Control"] = "public, max-age=60"
    patch_vary_headers(response, ["Cookie"])
    return response


def _render(request, template, context):
    """A page without the request's user or token: the same copy serves everybody; `here`
    (the page's own path, the same for every reader) for the language links."""
    return render_to_string(
        template, {"LANGUAGE_CODE": get_language(), "here": request.path, **context}
    )


def _plan_or_404(year):
    plan = data.published_plan(year)
    if plan is None:
        raise Http404
    return plan


def plan_list(request):
    def build():
        plans = list(data.published_plans())
        return _render(request, "public/plan_list.html", {"plans": plans})

    key = cache.page_key(cache.PLAN_LIST, get_language(), "list")
    return _answer(cache.cached(key, build))


def _plan_context(plan):
    found = data.plan_data(plan)
    return {
        "plan": plan,
        "data": found,
        "by_department": data.summaries(found.rows, "department"),
        "by_strategic_goal": data.summaries(found.rows, "strategic_goal"),
        "by_policy_goal": data.summaries(found.rows, "policy_goal"),
        "status_headers": data.status_headers(),
        "datasets": opendata.DATASETS.values(),
    }


def plan_page(request, year):
    def build():
        plan = _plan_or_404(year)
        return _render(request, "public/plan.html", _plan_context(plan))

    return _answer(_cached_or_404(year, "plan", build))


def _cached_or_404(year, name, build, *parts):
    key = cache.page_key(year, get_language(), name, *parts)
    return cache.cached(key, build)


def _indicator_lines(found, department, texts):
    lines = []
    for row in found.rows:
        if row.department.pk != department.pk:
            continue
        lines.append(
            {
                "row": row,
                "figures": data.indicator_figures(row),
                "chart": chart_svg(
                    chart_data(row),
                    css_id=f"chart-{row.indicator.pk}",
                    title=f"{row.indicator.name}",
                ),
                "text": texts.get(row.indicator.pk),
            }
        )
    return lines


def department_page(request, year, department_id):
    def build():
        plan = _plan_or_404(year)
        department = PlanDepartment.objects.filter(plan=plan, pk=department_id).first()
        if department is None:
            raise Http404
        found = data.plan_data(plan, department=department)
        ids = [row.indicator.pk for row in found.rows]
        texts = data.approved_texts(plan, ids) if found.report is not None else {}
        lines = _indicator_lines(found, department, texts)
        return _render(
            request,
            "public/department.html",
            {
                "plan": plan,
                "data": found,
                "department": department,
                "lines": lines,
                "has_sample": any(line["figures"]["sample"] for line in lines),
            },
        )

    return _answer(_cached_or_404(year, "department", build, department_id))


def download(request, year, dataset, fmt):
    if dataset not in opendata.DATASETS:
        raise Http404

    def build():
        plan = _plan_or_404(year)
        return opendata.render_file(data.plan_data(plan), dataset, fmt)

    body, content_type, filename = _cached_or_404(year, "file", build, dataset, fmt)
    return _answer(body, content_type, filename)


def dictionary(request):
    def build():
        return _render(request, "public/dictionary.html", {"datasets": opendata.DATASETS.values()})

    key = cache.page_key(cache.PLAN_LIST, get_language(), "dictionary")
    return _answer(cache.cached(key, build))


def switch_language(request, language):
    """Set the language cookie (as django.views.i18n.set_language does) by a plain link:
    the cached pages carry no form and so no CSRF token."""
    if language not in dict(settings.LANGUAGES):
        raise Http404
    target = request.GET.get("next") or "/public/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/public/"
    response = HttpResponseRedirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response
