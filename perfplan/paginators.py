"""Paging without counting, for lists too long to count on every page (the change log).

Django's Paginator asks the database for COUNT(*) of the filtered rows, and the admin's
ChangeList asks for it whatever `show_full_result_count` says. On a million log entries that
count is a scan of every matching row on every page. Here a page fetches `per_page + 1` rows:
the extra row only says whether there is a next page. The price: no "page 7 of 812" and no
"show all" link, only previous / next.
"""

from __future__ import annotations

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.utils.translation import gettext as _


class NoCountPage:
    """One page of a NoCountPaginator: the rows, and whether there are more."""

    def __init__(self, object_list, number, paginator, has_next):
        self.object_list = object_list
        self.number = number
        self.paginator = paginator
        self._has_next = has_next

    def __repr__(self):
        return f"<NoCountPage {self.number}>"

    def __len__(self):
        return len(self.object_list)

    def __iter__(self):
        return iter(self.object_list)

    def __getitem__(self, index):
        return self.object_list[index]

    def has_next(self):
        return self._has_next

    def has_previous(self):
        return self.number > 1

    def has_other_pages(self):
        return self.has_next() or self.has_previous()

    def next_page_number(self):
        if not self._has_next:
            raise EmptyPage(_("That page contains no results"))
        return self.number + 1

    def previous_page_number(self):
        if self.number <= 1:
            raise EmptyPage(_("That page number is less than 1"))
        return self.number - 1

    def start_index(self):
        if not self.object_list:
            return 0
        return (self.number - 1) * self.paginator.per_page + 1

    def end_index(self):
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


class NoCountPaginator:
    """A paginator that never counts: each page reads per_page + 1 rows at an offset.

    `count` and `num_pages` are deliberately absent, so that nothing (a template, a tag) can
    fall back to counting the whole result without it being noticed.
    """

    def __init__(self, object_list, per_page, orphans=0, allow_empty_first_page=True):
        self.object_list = object_list
        self.per_page = int(per_page)
        self.allow_empty_first_page = allow_empty_first_page

    def validate_number(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(_("That page number is not an integer")) from exc
        if number < 1:
            raise EmptyPage(_("That page number is less than 1"))
        return number

    def page(self, number):
        number = self.validate_number(number)
        offset = (number - 1) * self.per_page
        rows = list(self.object_list[offset : offset + self.per_page + 1])
        has_next = len(rows) > self.per_page
        rows = rows[: self.per_page]
        if not rows and (number > 1 or not self.allow_empty_first_page):
            raise EmptyPage(_("That page contains no results"))
        self._last_page = NoCountPage(rows, number, self, has_next)
        return self._last_page

    def get_elided_page_range(self, number=1, **kwargs):
        """The neighbouring pages known without counting (Django's pagination tag asks)."""
        number = self.validate_number(number)
        page = getattr(self, "_last_page", None)
        has_next = page is not None and page.number == number and page.has_next()
        return list(range(max(1, number - 1), number + (2 if has_next else 1)))

    def get_page(self, number):
        try:
            return self.page(number)
        except (PageNotAnInteger, EmptyPage):
            return self.page(1)


class NoCountChangeList(ChangeList):
    """An admin ChangeList that pages with NoCountPaginator and counts nothing.

    `result_count` is only what this page shows plus the rows before it (a lower bound);
    the templates of a model using it must not present it as a total (see
    templates/admin/perfplan/changelogentry/).
    """

    def get_results(self, request):
        paginator = NoCountPaginator(self.queryset, self.list_per_page)
        try:
            page = paginator.page(self.page_num)
        except (EmptyPage, PageNotAnInteger) as exc:
            raise IncorrectLookupParameters from exc
        self.page = page
        self.result_list = page.object_list
        self.result_count = page.end_index() + (1 if page.has_next() else 0)
        self.full_result_count = None
        self.show_full_result_count = False
        self.show_admin_actions = True
        # Never "show all": that would load every matching row.
        self.show_all = False
        self.can_show_all = False
        self.multi_page = page.has_other_pages()
        self.paginator = paginator

    def page_query_string(self, number):
        from django.contrib.admin.views.main import PAGE_VAR

        return self.get_query_string({PAGE_VAR: number})

    @property
    def previous_page_url(self):
        return self.page_query_string(self.page.number - 1) if self.page.has_previous() else ""

    @property
    def next_page_url(self):
        return self.page_query_string(self.page.number + 1) if self.page.has_next() else ""
