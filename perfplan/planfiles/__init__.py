"""The plan's import and export (top layer): plan tables and plan text in, plan tables out.

It reads the hierarchy (goals), indicators and budgets alike, so it sits above them all;
the generic xlsx/csv reading and writing it builds on is perfplan.tabular (core).
"""
