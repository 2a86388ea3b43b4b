"""Cursor pagination over a unique key: no COUNT (the change log has millions of entries),
pages that stay put while rows are added, and constant cost whatever the page."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class KeyCursorPagination(CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_ordering(self, request, queryset, view):
        # Each view names its unique key (`cursor_key`: "-sequence" for the change log; a
        # result's indicator and period, whose first field is the cursor's position).
        key = getattr(view, "cursor_key", "id")
        return (key,) if isinstance(key, str) else tuple(key)
