"""Result states and their groups are defined once, on ResultStatus."""

from indicators.models import ResultStatus


def test_the_groups_are_made_of_members_and_add_none():
    assert [s.value for s in ResultStatus] == ["draft", "submitted", "approved", "returned"]
    groups = ("EDITABLE", "SUBMITTABLE", "REVIEWABLE", "LOCKED", "REOPENABLE")
    for name in groups:
        group = getattr(ResultStatus, name)
        assert isinstance(group, tuple) and all(isinstance(s, ResultStatus) for s in group)
        assert name not in ResultStatus.__members__  # a group is no status of its own


def test_entry_is_open_exactly_while_a_result_is_not_locked():
    assert set(ResultStatus.EDITABLE) | set(ResultStatus.LOCKED) == set(ResultStatus)
    assert not set(ResultStatus.EDITABLE) & set(ResultStatus.LOCKED)
    assert set(ResultStatus.SUBMITTABLE) <= set(ResultStatus.EDITABLE)
    assert set(ResultStatus.REVIEWABLE) <= set(ResultStatus.LOCKED)
    assert set(ResultStatus.REOPENABLE) <= set(ResultStatus.LOCKED)
    assert not set(ResultStatus.REVIEWABLE) & set(ResultStatus.REOPENABLE)


def test_a_stored_status_string_is_found_in_a_group():
    assert "returned" in ResultStatus.SUBMITTABLE and "approved" not in ResultStatus.EDITABLE
