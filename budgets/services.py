"""Moved to perfplan.money; kept until indicators' imports are switched (issue 11)."""

from perfplan.money import budget_shares, change, share_of  # noqa: F401
