"""Indicator tracking through the year: rules (pure), rows (built from the database) and
summaries (counts of rows)."""
