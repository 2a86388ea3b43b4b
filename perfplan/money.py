"""Money rules: budget shares (비중 %)."""

from decimal import ROUND_HALF_UP, Decimal

SHARE_PLACES = Decimal("0.01")


def share_of(budget, total):
    """`budget` over `total` in %, to 2 decimals (half up, as printed plans round)."""
    if budget is None or not total:
        return None
    return (Decimal(budget) * 100 / Decimal(total)).quantize(SHARE_PLACES, ROUND_HALF_UP)


def budget_shares(budgets):
    """Each budget's share of their sum (see share_of).

    `budgets` maps any key to an amount or None; None and an all-zero sum give None.
    """
    total = sum((b for b in budgets.values() if b is not None), Decimal(0))
    return {key: share_of(budget, total) for key, budget in budgets.items()}


def change(budget, prior_budget):
    """비교증감: budget − prior-year budget, or None when either is missing."""
    if budget is None or prior_budget is None:
        return None
    return Decimal(budget) - Decimal(prior_budget)
