"""The change index rule on moto (store/changes.py): a change is never shown before its commit
and never missed by a reader whose watermark came from a read just before the commit."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from moto import mock_aws

from tests.support.fixtures import history
from tests.support.tables import create_template_table
from vegskriv import aws
from vegskriv.settings import get_settings
from vegskriv.store import changes, objects
from vegskriv.store.objects import Write

OBJECTS, CHANGESETS = "test-ObjectsTable", "test-ChangesetsTable"
TODAY = date(2026, 6, 1)


@pytest.fixture(autouse=True)
def tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OBJECTS_TABLE", OBJECTS)
    monkeypatch.setenv("CHANGESETS_TABLE", CHANGESETS)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    # No overlap: the rule itself, not the safety margin, must keep the reader from missing a change.
    monkeypatch.setenv("ENDRET_OVERLAPP_SEKUNDER", "0")
    with mock_aws():
        aws.reset()
        get_settings.cache_clear()
        create_template_table("ChangesetsTable", CHANGESETS)
        create_template_table("ObjectsTable", OBJECTS)
        yield
    aws.reset()
    get_settings.cache_clear()


def state(changeset_id: str, fremdrift: str, committed: bool = False) -> None:
    aws.table(CHANGESETS).put_item(Item={"pk": f"ES#{changeset_id}", "sk": "META", "id": changeset_id,
                                         "fremdrift": fremdrift, **({"committed": True} if committed else {})})


def version(nvdb_id: int, changeset_id: str, versjon: int = 1, **periode: str) -> dict[str, Any]:
    [v] = history(nvdb_id, 83, 1)
    return {**v, "versjon": versjon, "gyldighetsperiode": {"startdato": "2020-01-01", **periode},
            "metadata": {"endringssettId": changeset_id}}


def read(after: str) -> dict[int, dict[str, Any] | None]:
    """What a reader sees changed after ``after``: id → current version, None for a tombstone."""
    feed, _, more = changes.feed(83, after_key=after, limit=1000, today=TODAY)
    assert not more
    return {c.id: c.version for c in feed}


def tick() -> None:
    time.sleep(0.002)  # the index has millisecond stamps


def commit(changeset_id: str, ids: list[int]) -> None:
    """The commit write, then the fold as the workflow does it (before it lets go of the locks)."""
    state(changeset_id, "UTFØRT", committed=True)
    tick()
    objects.fold_overlays(changeset_id, [objects.Write(n, 1, 83, None).key() for n in ids])


def test_a_change_is_hidden_until_commit_and_found_by_a_reader_that_read_just_before_it():
    objects.import_versions([version(1, "import"), version(2, "import")])
    tick()
    state("cs-rule", "BEHANDLES")
    objects.write_overlays("cs-rule", [Write(1, 2, 83, version(1, "cs-rule", 2)),
                                       Write(3, 1, 83, version(3, "cs-rule"))])
    tick()
    watermark = changes.watermark()  # a reader reads now, between the overlay write and the commit
    seen = read("2000-01-01T00:00:00.000Z")
    assert {i: v and v["versjon"] for i, v in seen.items()} == {1: 1, 2: 1}  # not object 3, not version 2
    tick()
    commit("cs-rule", [1, 3])
    later = read(watermark)
    assert {i: v and v["versjon"] for i, v in later.items()} == {1: 2, 3: 1}


def test_removed_and_closed_objects_become_tombstones_and_a_future_end_shows_up_when_it_comes():
    objects.import_versions([version(i, "import") for i in (11, 12, 13)])
    tick()
    watermark = changes.watermark()
    tick()
    state("cs-end", "BEHANDLES")
    objects.write_overlays("cs-end", [Write(11, 1, 83, None),
                                      Write(12, 1, 83, version(12, "cs-end", sluttdato="2026-05-01")),
                                      Write(13, 1, 83, version(13, "cs-end", sluttdato="2099-01-01"))])
    commit("cs-end", [11, 12, 13])
    seen = read(watermark)
    assert seen[11] is None and seen[12] is None and seen[13] is not None
    # 13 stays in the feed until its sluttdato passes, when it reads as a tombstone
    feed, _, _ = changes.feed(83, after_key="2098-12-31T00:00:00.000Z", limit=10, today=date(2099, 1, 2))
    assert [(c.id, c.version) for c in feed] == [(13, None)]


def test_a_cancelled_changeset_moves_its_objects_without_changing_what_readers_see():
    objects.import_versions([version(21, "import")])
    state("cs-drop", "BEHANDLES")
    objects.write_overlays("cs-drop", [Write(21, 2, 83, version(21, "cs-drop", 2))])
    tick()
    watermark = changes.watermark()
    objects.drop_overlays("cs-drop", [Write(21, 2, 83, None).key()])
    assert {i: v and v["versjon"] for i, v in read(watermark).items()} == {21: 1}


def test_the_fold_moves_many_objects_past_the_commit_in_batches_and_drops_what_readers_saw_before():
    ids = list(range(100, 350))
    objects.import_versions([version(n, "import") for n in ids[:100]])
    state("cs-many", "BEHANDLES")
    objects.write_overlays("cs-many", [Write(n, 2 if n < 200 else 1, 83, version(n, "cs-many", 2 if n < 200 else 1))
                                       for n in ids])
    state("cs-many", "UTFØRT", committed=True)
    tick()
    watermark = changes.watermark()  # a reader that read just after the commit, before the fold
    seen: Counter[str] = Counter()
    aws.client("dynamodb").meta.events.register("after-call.dynamodb", lambda model, **_: seen.update([model.name]))
    commit("cs-many", ids)
    assert seen["UpdateItem"] == 0 and seen["BatchWriteItem"] <= 10, seen  # 250 items, 25 a request
    moved = read(watermark)
    assert sorted(moved) == ids
    assert {n: len(objects.versions(n)) for n in (100, 250)} == {100: 2, 250: 1}
    items = aws.table(OBJECTS).scan()["Items"]
    assert not [i for i in items if "prev" in i or "prevCs" in i]  # folded: nothing left to show before


def test_the_fold_reads_no_version_lists():
    """It writes what the overlay write stored for it: the lists are neither read nor re-packed."""
    ids = list(range(400, 450))
    objects.import_versions([version(n, "import") for n in ids])
    state("cs-lean", "BEHANDLES")
    objects.write_overlays("cs-lean", [Write(n, 2, 83, version(n, "cs-lean", 2)) for n in ids])
    state("cs-lean", "UTFØRT", committed=True)
    answered: Counter[str] = Counter()

    def count(parsed: dict[str, Any], **_: Any) -> None:
        answered.update(name for found in parsed.get("Responses", {}).values() for item in found for name in item)

    aws.client("dynamodb").meta.events.register("after-call.dynamodb.BatchGetItem", count)
    commit("cs-lean", ids)
    assert answered["pk"] == len(ids) and not {"v", "prev", "vRef", "prevRef"} & set(answered), answered
    assert {n: [v["versjon"] for v in objects.versions(n)] for n in ids} == {n: [1, 2] for n in ids}
    assert not [i for i in aws.table(OBJECTS).scan()["Items"] if "prev" in i or "prevCs" in i]


def test_under_a_held_lease_the_fold_reads_nothing_and_without_one_it_leaves_another_changesets_items():
    ids = list(range(500, 530))
    objects.import_versions([version(n, "import") for n in ids])
    state("cs-held", "BEHANDLES")
    objects.write_overlays("cs-held", [Write(n, 2, 83, version(n, "cs-held", 2)) for n in ids])
    state("cs-held", "UTFØRT", committed=True)
    seen: Counter[str] = Counter()
    aws.client("dynamodb").meta.events.register("after-call.dynamodb", lambda model, **_: seen.update([model.name]))
    objects.fold_overlays("cs-held", [Write(n, 2, 83, None).key() for n in ids], held=True)
    assert seen["BatchGetItem"] == 0 and seen["BatchWriteItem"] == 2, seen
    assert not [i for i in aws.table(OBJECTS).scan()["Items"] if "prev" in i]
    # A lease that ran out let another changeset write object 500 before the fold ran again.
    state("cs-next", "BEHANDLES")
    objects.write_overlays("cs-next", [Write(500, 3, 83, version(500, "cs-next", 3))])
    objects.fold_overlays("cs-held", [Write(n, 2, 83, None).key() for n in ids])
    item = aws.table(OBJECTS).get_item(Key={"pk": "O#500", "sk": "O"})["Item"]
    assert item["cs"] == "cs-next" and item["prevCs"] == "cs-held"
    assert [v["versjon"] for v in objects.versions(500)] == [1, 2]
