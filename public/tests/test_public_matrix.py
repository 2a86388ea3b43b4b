"""Issue 15 item 4, the public pages' part of the role × endpoint × department matrix: every
public page and file (every pattern of public/urls.py, for each department) answers every
role — anonymous, an officer and a reviewer of one department, an auditor, a plan admin, a
staff user without a role — exactly what it answers an anonymous visitor: published and
approved data only, the same for all, whatever departments the user may see. An unpublished
plan's pages are not found for any of them."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, reverse

from goals.models import PlanDepartment
from goals.tests.factories import load_seed
from indicators.tests.support import make_user
from perfplan import roles
from public import urls as public_urls

from .conftest import YEAR

pytestmark = pytest.mark.django_db

ROLES = {
    "anonymous": None,
    "officer_a": roles.OFFICER,
    "reviewer_a": roles.REVIEWER,
    "auditor": roles.AUDITOR,
    "plan_admin": roles.PLAN_ADMIN,
    "staff_no_role": "",
}


def every_public_url(year, departments):
    """One URL per pattern and argument: each department, each table and format."""
    urls = []
    for pattern in public_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        name = f"public:{pattern.name}"
        if pattern.name == "plans" or pattern.name == "dictionary":
            urls.append(reverse(name))
        elif pattern.name == "plan":
            urls.append(reverse(name, args=[year]))
        elif pattern.name == "department":
            urls += [reverse(name, args=[year, d.pk]) for d in departments]
        elif pattern.name == "download":
            urls += [
                reverse(name, args=[year, key, fmt])
                for key in ("summary", "indicators", "results")
                for fmt in ("csv", "cp949", "json")
            ]
        elif pattern.name == "language":
            continue  # sets a cookie and redirects: no data
        else:
            pytest.fail(f"public page {pattern.name!r} is not in the matrix")
    return urls


def client_for(client, django_user_model, role, department):
    group = ROLES[role]
    if group is None:
        return client
    user = make_user(django_user_model, role, group or None, [department] if group else [])
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", list(ROLES))
def test_every_role_reads_what_the_public_reads(client, django_user_model, seed_plan, role):
    from django.test import Client

    departments = list(PlanDepartment.objects.filter(plan=seed_plan).order_by("position")[:2])
    urls = every_public_url(YEAR, departments)
    anonymous = {url: Client().get(url) for url in urls}
    viewer = client_for(client, django_user_model, role, departments[0].department)
    for url in urls:
        response = viewer.get(url)
        assert response.status_code == anonymous[url].status_code == 200, (role, url)
        assert response.content == anonymous[url].content, (role, url)


@pytest.mark.parametrize("role", list(ROLES))
def test_an_unpublished_plan_is_found_by_nobody(client, django_user_model, role):
    draft = load_seed(YEAR)
    departments = list(PlanDepartment.objects.filter(plan=draft).order_by("position")[:2])
    viewer = client_for(client, django_user_model, role, departments[0].department)
    for url in every_public_url(YEAR, departments):
        if url in (reverse("public:plans"), reverse("public:dictionary")):
            assert str(draft) not in viewer.get(url).content.decode(), (role, url)
            continue
        assert viewer.get(url).status_code == 404, (role, url)
