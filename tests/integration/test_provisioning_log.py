"""The provisioning table: a run's per-object log (many entries to an item) and the built-in copy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.tables import moto_tables
from vegskriv import aws
from vegskriv.store import provisioning as store

KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]


@pytest.fixture(autouse=True)
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with moto_tables(monkeypatch, PROVISIONING_TABLE=("ProvisioningTable", "p")):
        yield


def _all(run_id: str, antall: int) -> list[tuple[int, str]]:
    found, start = [], None
    while True:
        entries, last = store.log_page(run_id, start, antall)
        found += [(e["id"], e["handling"]) for e in entries]
        if len(entries) < antall:
            return found
        start = last


def test_a_chunk_of_entries_is_a_few_items_and_pages_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "LOG_ITEM_BYTES", 400)  # items of ~20 entries
    store.log("r", 0, [(i, "OPPRETTET", None) for i in range(1, 101)])
    store.log("r", 100, [(7, "FEILET", "nekter"), (200, "SLETTET", None)])
    items = aws.table("p").scan()["Items"]
    assert 3 < len(items) < 20
    expected = [(i, "OPPRETTET") for i in range(1, 101)] + [(7, "FEILET"), (200, "SLETTET")]
    assert _all("r", 7) == _all("r", 1000) == expected
    assert store.log_page("r", 99, 5) == ([{"id": 7, "handling": "FEILET", "melding": "nekter"},
                                           {"id": 200, "handling": "SLETTET"}], 101)


def test_a_repeated_chunk_replaces_what_its_first_attempt_wrote(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "LOG_ITEM_BYTES", 400)
    store.log("r", 0, [(i, "OPPRETTET", None) for i in range(1, 11)])
    store.log("r", 10, [(i, "OPPRETTET", None) for i in range(11, 101)])  # died before its position was saved
    store.log("r", 10, [(i, "OPPRETTET", None) for i in range(11, 21)])  # again: the rest now compares unchanged
    assert _all("r", 6) == [(i, "OPPRETTET") for i in range(1, 21)]


def test_the_built_in_copy_lists_ids_and_hashes_without_the_data() -> None:
    target = store.DynamoTarget("k")
    target.apply([{"handling": "UPSERT", "id": i, "hash": f"h{i}", "data": {"id": i, "x": "y" * 500}}
                  for i in (1, 2, 3)])
    sent: list[set[str]] = []
    aws.dynamodb().meta.client.meta.events.register(
        "after-call.dynamodb.Query", lambda parsed, **_: sent.extend(set(i) for i in parsed["Items"]))
    assert target.held(None, 2) == ([(1, "h1"), (2, "h2")], 2)
    assert sent and all(keys == {"sk", "hash"} for keys in sent)


def test_the_built_in_copy_says_which_ids_it_holds_by_their_keys() -> None:
    target = store.DynamoTarget("k")
    target.apply([{"handling": "UPSERT", "id": i, "hash": "h", "data": {"id": i}} for i in range(1, 301, 2)])
    calls: list[str] = []
    aws.client("dynamodb").meta.events.register("after-call.dynamodb", lambda model, **_: calls.append(model.name))
    assert target.holds(list(range(1, 251))) == set(range(1, 251, 2))
    assert calls == ["BatchGetItem"] * 3  # 250 keys, 100 a request; no Query of the copy
