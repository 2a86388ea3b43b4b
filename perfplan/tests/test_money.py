from decimal import Decimal

from perfplan.money import budget_shares, change, share_of


def test_shares_reproduce_the_seed_column():
    budgets = {
        "의회사무국": 948,
        "기획실": 1234,
        "홍보실": 478,
        "감사담당관": 103,
        "총무국": 17320,
        "복지환경국": 261863,
        "경제문화국": 14660,
        "안전도시국": 26685,
        "도시재생추진단": 4361,
        "보건소": 12573,
    }
    printed = {
        "의회사무국": "0.28",
        "기획실": "0.36",
        "홍보실": "0.14",
        "감사담당관": "0.03",
        "총무국": "5.09",
        "복지환경국": "76.97",
        "경제문화국": "4.31",
        "안전도시국": "7.84",
        "도시재생추진단": "1.28",
        "보건소": "3.70",
    }
    shares = budget_shares({k: Decimal(v) for k, v in budgets.items()})
    assert {k: str(v) for k, v in shares.items()} == printed


def test_share_edge_cases():
    assert share_of(None, 100) is None
    assert share_of(5, 0) is None
    assert share_of(1, 3) == Decimal("33.33")
    assert share_of(2, 3) == Decimal("66.67")
    assert budget_shares({"a": None, "b": Decimal(0)}) == {"a": None, "b": None}


def test_change():
    assert change(Decimal(14666), Decimal(14844)) == Decimal(-178)
    assert change(None, Decimal(1)) is None
