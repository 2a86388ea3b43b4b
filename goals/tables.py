"""Moved: generic reading to perfplan.tabular; kept until indicators.results_import imports it."""

from perfplan.tabular import (  # noqa: F401
    Column,
    RowError,
    TableReadError,
    clean_name,
    match_headers,
    missing_columns_error,
    name_key,
    read_sheets,
)
