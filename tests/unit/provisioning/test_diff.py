from datetime import date

from vegskriv.provisioning.diff import Provided, content_hash, diff, is_current, over_threshold


def p(i: int, h: str = "h") -> Provided:
    return Provided(i, h, {"id": i})


def test_merge_of_sorted_streams_finds_creates_updates_deletes_and_unchanged():
    found = diff([p(1), p(2, "new"), p(4)], [(2, "old"), (3, "h"), (4, "h"), (5, "h")])
    assert [o.id for o in found.creates] == [1]
    assert [o.id for o in found.updates] == [2]
    assert found.deletes == [3, 5]
    assert found.unchanged == 1


def test_empty_sides():
    assert diff([], [(1, "h")]).deletes == [1]
    assert [o.id for o in diff([p(7)], []).creates] == [7]


def test_hash_ignores_key_order_but_not_content():
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})


def test_closed_objects_are_not_current():
    today = date(2025, 1, 10)
    assert is_current({"gyldighetsperiode": {"startdato": "2020-01-01"}}, today)
    assert is_current({"gyldighetsperiode": {"sluttdato": "2025-01-11"}}, today)
    assert not is_current({"gyldighetsperiode": {"sluttdato": "2025-01-10"}}, today)


def test_threshold_by_count_or_share():
    assert not over_threshold(5, 1000, antall=10, andel=0.05)
    assert over_threshold(11, 1000, antall=10, andel=0.05)
    assert over_threshold(6, 100, antall=10, andel=0.05)
