"""The lock store on moto: a claim's cells are read in one request and taken in one transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from tests.support.tables import moto_tables
from vegskriv import aws
from vegskriv.changesets.locks import Cell, Claim
from vegskriv.store import locks

LOCKS = "test-LocksTable"


@pytest.fixture(autouse=True)
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with moto_tables(monkeypatch, LOCKS_TABLE=("LocksTable", LOCKS)):
        yield


@pytest.fixture
def calls() -> Counter[str]:
    seen: Counter[str] = Counter()
    for client in (aws.client("dynamodb"), aws.dynamodb().meta.client):
        client.meta.events.register("after-call.dynamodb", lambda model, **_: seen.update([model.name]))
    return seen


def claims(cells: range, kind: str = "NORMAL", ranges: tuple[float, float] = (0.0, 1.0)) -> dict[Cell, Claim]:
    return {(83, vls): Claim(kind=kind, ranges=[ranges]) for vls in cells}  # type: ignore[arg-type]


def holders() -> dict[Cell, set[str]]:
    return {(int(i["pk"].split("#")[1]), int(i["pk"].split("#")[2])): set(i["h"])
            for i in aws.table(LOCKS).scan()["Items"] if i["sk"] == "CELLE" and i["h"]}


def held(lock_id: str, meta: dict[Cell, Claim]) -> None:
    locks.create_meta(lock_id, eier="test", kind="ENDRINGSSETT", claims=meta, lease_seconds=600)


def test_forty_cells_are_taken_renewed_and_released_in_a_few_requests(calls) -> None:
    mine = claims(range(1, 41))
    held("a", mine)
    calls.clear()
    assert locks.acquire("a", mine, 600).acquired
    assert calls == {"BatchGetItem": 1, "TransactWriteItems": 1}
    assert holders() == {cell: {"a"} for cell in mine}
    calls.clear()
    locks.renew("a", 900)
    assert calls == {"GetItem": 1, "UpdateItem": 1, "TransactWriteItems": 1}
    calls.clear()
    assert locks.release("a") == []
    assert calls == {"DeleteItem": 1, "TransactWriteItems": 1} and holders() == {}


def test_all_or_none_across_transactions_and_compatible_claims_share_a_cell() -> None:
    held("first", claims(range(140, 150)))
    assert locks.acquire("first", claims(range(140, 150)), 600).acquired
    wide = claims(range(1, 151))  # two transactions of 100 and 50; the second meets "first"
    held("wide", wide)
    outcome = locks.acquire("wide", wide, 600)
    assert not outcome.acquired and outcome.blockers == ["first"]
    assert holders() == {cell: {"first"} for cell in claims(range(140, 150))}  # the first 100 rolled back
    assert locks.acquire("beside", claims(range(140, 150), ranges=(0.0, 1.0), kind="SEKUNDÆR"), 600).acquired is False
    assert locks.acquire("first", claims(range(140, 150)), 600).acquired  # idempotent for the holder
    locks.release("first")
    assert locks.acquire("wide", wide, 600).acquired
    assert locks.acquire("second", claims(range(1, 3), kind="SEKUNDÆR"), 600).acquired is False
    held("other-seq", claims(range(151, 153)))
    assert locks.acquire("other-seq", claims(range(151, 153)), 600).acquired
    assert holders()[(83, 151)] == {"other-seq"} and holders()[(83, 1)] == {"wide"}


def test_a_released_lock_leaves_cells_a_later_claim_can_take_even_if_the_release_ran_twice() -> None:
    held("x", claims(range(1, 5)))
    assert locks.acquire("x", claims(range(1, 5)), 600).acquired
    locks.release_cells("x", list(claims(range(1, 5))))
    locks.release_cells("x", list(claims(range(1, 7))))  # cells it never held or no longer holds: skipped
    assert holders() == {}
    assert locks.acquire("y", claims(range(1, 5)), 600).acquired
