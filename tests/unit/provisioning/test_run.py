"""The run engine against in-memory ports: chunking, threshold and quarantine, empty provider,
dry run, watermark, failed items retried, resuming after a crash."""

from __future__ import annotations

from typing import Any

import pytest

from vegskriv.provisioning import run as engine
from vegskriv.provisioning.diff import Provided, content_hash
from vegskriv.provisioning.model import Kjøring, Konsument, Mål, Sletteterskel, Utvalg
from vegskriv.provisioning.run import Page


class FakeProvider:
    """Objects by id, and a change log of (sequence, id) as the provider's change index."""

    def __init__(self, objects: dict[int, dict[str, Any]]):
        self.objects = objects
        self.log: list[int] = []  # ids in the order they changed; the watermark is a position in it

    def change(self, nvdb_id: int, data: dict[str, Any] | None) -> None:
        if data is None:
            self.objects.pop(nvdb_id, None)
        else:
            self.objects[nvdb_id] = data
        self.log.append(nvdb_id)

    def watermark(self) -> str:
        return f"{len(self.log):06d}"

    def changed(self, type_id, kommuner, endret_etter, markør, antall) -> Page:
        start = int(markør or endret_etter)
        taken = self.log[start:start + antall]
        found = [i for i in taken if i in self.objects and self.objects[i]["typeId"] == type_id]
        return Page([Provided(i, content_hash(self.objects[i]), self.objects[i]) for i in found],
                    tombstones=[i for i in taken if i not in self.objects],
                    markør=f"{start + antall:06d}" if len(self.log) > start + antall else None)

    def page(self, type_id, kommuner, endret_etter, start, antall) -> Page:
        ids = sorted(i for i, o in self.objects.items() if o["typeId"] == type_id and i > (start or 0))
        taken = ids[:antall]
        return Page([Provided(i, content_hash(self.objects[i]), self.objects[i]) for i in taken],
                    neste=taken[-1] if len(ids) > antall else None)


class FakeTarget:
    def __init__(self):
        self.copy: dict[int, str] = {}
        self.calls: list[int] = []
        self.deleted: list[int] = []  # ids sent as DELETE, in order
        self.refuse: set[int] = set()
        self.crash_after_calls: int | None = None
        self.pages = 0

    def held(self, start, antall):
        self.pages += 1
        ids = sorted(i for i in self.copy if i > (start or 0))
        page = [(i, self.copy[i]) for i in ids[:antall]]
        return page, (page[-1][0] if len(ids) > antall else None)

    def apply(self, changes):
        if self.crash_after_calls is not None and len(self.calls) >= self.crash_after_calls:
            raise RuntimeError("Lambda died")
        assert len(changes) <= engine.SEND
        self.calls.append(len(changes))
        failed = {}
        for c in changes:
            if c["id"] in self.refuse:
                failed[c["id"]] = "nekter"
            elif c["handling"] == "DELETE":
                self.deleted.append(c["id"])
                self.copy.pop(c["id"], None)
            else:
                self.copy[c["id"]] = c["hash"]
        return failed


class FakeStore:
    def __init__(self):
        self.runs: dict[str, Kjøring] = {}
        self.logs: dict[str, dict[int, tuple[str, str | None]]] = {}
        self.numbered: dict[str, dict[int, list[Any]]] = {}
        self.parked: dict[str, set[int]] = {}
        self.watermark: str | None = None

    def save_run(self, run):
        self.runs[run.id] = run.model_copy(deep=True)

    def log(self, run_id, first, entries):
        numbered = self.numbered.setdefault(run_id, {})
        assert first == max((k + len(v) for k, v in numbered.items()), default=0) or first in numbered
        numbered[first] = entries  # the next number, or a repeated chunk's own
        self.logs.setdefault(run_id, {}).update({i: (h, m) for i, h, m in entries})

    def park_deletes(self, run_id, ids):
        self.parked.setdefault(run_id, set()).update(ids)

    def parked_deletes(self, run_id, after, limit):
        return sorted(i for i in self.parked.get(run_id, ()) if i > after)[:limit]

    def finish_run(self, run, vannmerke):
        self.save_run(run)
        self.watermark = vannmerke


def objects(n: int, type_id: int = 83, first: int = 1, **extra: Any) -> dict[int, dict[str, Any]]:
    return {i: {"id": i, "typeId": type_id, "versjon": 1, "gyldighetsperiode": {"startdato": "2020-01-01"}, **extra}
            for i in range(first, first + n)}


def consumer(antall: int = 1000, andel: float = 1.0, types: list[int] | None = None) -> Konsument:
    return Konsument(id="k1", navn="Test", eier="olanor", utvalg=Utvalg(vegobjekttyper=types or [83]),
                     mål=Mål(type="DYNAMODB"), sletteterskel=Sletteterskel(antall=antall, andel=andel))


def run_all(provider, target, store, konsument=None, modus="FULL", dry=False, run_id="r1") -> Kjøring:
    konsument = konsument or consumer()
    run = engine.new_run(run_id, konsument, modus, dry, provider)
    for _ in range(10_000):
        if engine.step(run, konsument, provider, target, store):
            return store.runs[run.id]
    raise AssertionError("run did not end")


def test_first_run_creates_everything_in_chunks_and_second_writes_nothing():
    provider, target, store = FakeProvider(objects(1200)), FakeTarget(), FakeStore()
    first = run_all(provider, target, store)
    assert (first.status, first.hentet, first.opprettet) == ("FULLFØRT", 1200, 1200)
    assert max(target.calls) <= 500 and len(target.copy) == 1200
    assert store.watermark == first.vannmerke
    target.calls.clear()
    second = run_all(provider, target, store, run_id="r2")
    assert (second.uendret, second.opprettet, second.oppdatert, second.slettet) == (1200, 0, 0, 0)
    assert target.calls == []


def test_changes_closes_and_removals_reach_the_consumer():
    data = objects(50) | objects(10, type_id=79, first=100)
    provider, target, store = FakeProvider(data), FakeTarget(), FakeStore()
    run_all(provider, target, store, consumer(types=[83, 79]))
    data[3] = {**data[3], "versjon": 2}
    data[4] = {**data[4], "gyldighetsperiode": {"startdato": "2020-01-01", "sluttdato": "2021-01-01"}}
    del data[105]
    data[200] = {"id": 200, "typeId": 79, "versjon": 1}
    second = run_all(provider, target, store, consumer(types=[83, 79]), run_id="r2")
    assert (second.opprettet, second.oppdatert, second.slettet) == (1, 1, 2)
    assert 4 not in target.copy and 105 not in target.copy and 200 in target.copy
    assert store.logs["r2"] == {3: ("OPPDATERT", None), 4: ("SLETTET", None), 105: ("SLETTET", None),
                                200: ("OPPRETTET", None)}


def test_deletes_over_threshold_quarantine_until_approved():
    data = objects(100)
    provider, target, store = FakeProvider(data), FakeTarget(), FakeStore()
    run_all(provider, target, store)
    watermark = store.watermark
    for i in range(1, 21):
        del data[i]
    held = run_all(provider, target, store, consumer(antall=10, andel=1.0), run_id="r2")
    assert held.status == "KARANTENE" and held.ventendeSlettinger == 20
    assert len(target.copy) == 100 and store.watermark == watermark
    engine.approve(held)
    konsument = consumer(antall=10)
    while not engine.step(held, konsument, provider, target, store):
        pass
    assert (held.status, held.slettet) == ("FULLFØRT", 20)
    assert len(target.copy) == 80 and store.watermark == held.vannmerke


def test_share_threshold():
    data = objects(100)
    provider, target, store = FakeProvider(data), FakeTarget(), FakeStore()
    run_all(provider, target, store)
    for i in range(1, 7):
        del data[i]
    assert run_all(provider, target, store, consumer(antall=1000, andel=0.05), run_id="r2").status == "KARANTENE"


def test_an_empty_provider_never_deletes_even_under_the_threshold():
    data = objects(5)
    provider, target, store = FakeProvider(data), FakeTarget(), FakeStore()
    run_all(provider, target, store)
    data.clear()
    held = run_all(provider, target, store, consumer(antall=1000, andel=1.0), run_id="r2")
    assert held.status == "KARANTENE" and "uten objekter" in held.merknader[-1]
    assert len(target.copy) == 5


def test_dry_run_reports_without_writing_or_moving_the_watermark():
    data = objects(30)
    provider, target, store = FakeProvider(data), FakeTarget(), FakeStore()
    target.copy = {999: "x"}
    dry = run_all(provider, target, store, dry=True)
    assert (dry.status, dry.opprettet, dry.slettet) == ("FULLFØRT", 30, 1)
    assert target.copy == {999: "x"} and target.calls == [] and store.watermark is None
    assert store.logs["r1"][999] == ("SLETTET", "tørrkjøring")


def test_failed_items_are_logged_and_sent_again_next_run():
    provider, target, store = FakeProvider(objects(10)), FakeTarget(), FakeStore()
    target.refuse = {3, 7}
    first = run_all(provider, target, store)
    assert (first.opprettet, first.feilet) == (8, 2)
    assert store.logs["r1"][3] == ("FEILET", "nekter")
    target.refuse = set()
    second = run_all(provider, target, store, run_id="r2")
    assert (second.opprettet, second.uendret) == (2, 8)


def test_a_run_killed_mid_way_resumes_from_its_last_chunk_and_sends_nothing_twice():
    provider, target, store = FakeProvider(objects(1600)), FakeTarget(), FakeStore()
    konsument = consumer()
    run = engine.new_run("r1", konsument, "FULL", False, provider)
    target.crash_after_calls = 2
    with pytest.raises(RuntimeError):
        while not engine.step(run, konsument, provider, target, store):
            pass
    saved = store.runs["r1"]
    assert saved.etter == 1000  # the first chunk (two calls of 500) saved
    target.crash_after_calls = None
    sent_before = sum(target.calls)
    while not engine.step(saved, konsument, provider, target, store):
        pass
    assert sum(target.calls) - sent_before == 600 and len(target.copy) == 1600


def test_delta_sends_only_what_changed_and_deletes_tombstones_and_closed_objects():
    provider, target, store = FakeProvider(objects(1200)), FakeTarget(), FakeStore()
    konsument = consumer()
    first = run_all(provider, target, store, konsument, modus="DELTA")
    assert "Ingen tidligere fullført kjøring" in first.merknader[0] and len(target.copy) == 1200
    konsument.vannmerke = store.watermark
    for i in range(1, 601):  # more changes than one page: the walk takes several chunks
        provider.change(i, {**provider.objects[i], "versjon": 2})
    provider.change(700, None)
    provider.change(701, {**provider.objects[701], "gyldighetsperiode": {"startdato": "2020-01-01",
                                                                         "sluttdato": "2021-01-01"}})
    target.calls.clear()
    target.pages = 0
    delta = run_all(provider, target, store, konsument, modus="DELTA", run_id="r2")
    assert delta.status == "FULLFØRT" and delta.endretEtter == konsument.vannmerke
    assert (delta.hentet, delta.oppdatert, delta.slettet) == (602, 600, 2)
    # one page of the copy tells that both tombstones are held, one more that 2 deletes of at least
    # 1000 held are under the share
    assert target.pages == 2
    assert sum(target.calls) == 602 and 700 not in target.copy and 701 not in target.copy
    assert target.copy[1] == content_hash(provider.objects[1])
    assert store.watermark == delta.vannmerke


def test_delta_deletes_over_the_threshold_wait_for_approval():
    provider, target, store = FakeProvider(objects(100)), FakeTarget(), FakeStore()
    konsument = consumer(antall=1000, andel=0.05)
    run_all(provider, target, store, konsument, modus="FULL")
    konsument.vannmerke = store.watermark
    for i in range(1, 11):
        provider.change(i, None)
    held = run_all(provider, target, store, konsument, modus="DELTA", run_id="r2")
    assert held.status == "KARANTENE" and held.ventendeSlettinger == 10 and len(target.copy) == 100


def test_a_delta_after_a_run_with_failures_sends_the_failed_items_again():
    provider, target, store = FakeProvider(objects(10)), FakeTarget(), FakeStore()
    konsument = consumer()
    run_all(provider, target, store, konsument)
    konsument.vannmerke = store.watermark
    provider.change(3, {**provider.objects[3], "versjon": 2})
    provider.change(7, {**provider.objects[7], "versjon": 2})
    target.refuse = {3}
    partial = run_all(provider, target, store, konsument, modus="DELTA", run_id="r2")
    assert (partial.oppdatert, partial.feilet) == (1, 1)
    assert store.watermark == konsument.vannmerke  # not moved past the refused change
    target.refuse = set()
    again = run_all(provider, target, store, konsument, modus="DELTA", run_id="r3")
    assert again.feilet == 0 and target.copy[3] == content_hash(provider.objects[3])
    assert store.watermark == again.vannmerke


def test_delta_tombstones_of_objects_the_consumer_never_held_are_not_sent_nor_counted():
    data = objects(10) | objects(200, type_id=95, first=1001)
    provider, target, store = FakeProvider(data), FakeTarget(), FakeStore()
    konsument = consumer(antall=5, andel=0.2)  # type 83 only
    run_all(provider, target, store, konsument, modus="FULL")
    konsument.vannmerke = store.watermark
    for i in range(1001, 1201):  # 200 objects of a type the consumer does not take are removed
        provider.change(i, None)
    provider.change(3, None)
    delta = run_all(provider, target, store, konsument, modus="DELTA", run_id="r2")
    assert delta.status == "FULLFØRT", delta.merknader
    assert (delta.hentet, delta.slettet, delta.uendret, delta.ventendeSlettinger) == (201, 1, 200, 1)
    assert target.deleted == [3] and set(store.logs["r2"]) == {3}


def test_held_among_reads_the_consumer_list_from_each_undecided_id():
    target = FakeTarget()
    target.copy = {i: "h" for i in range(1, 5001)}
    clustered = list(range(2000, 2300))
    assert engine.held_among(target, clustered) == set(clustered) and target.pages == 3  # pages of 100
    target.pages = 0
    sparse = [10, 2500, 4999, 7000]
    assert engine.held_among(target, sparse) == {10, 2500, 4999} and target.pages == 3
    assert engine.held_among(target, []) == set()


def test_held_among_asks_a_target_that_can_say_what_it_holds():
    class Direct(FakeTarget):
        def holds(self, ids):
            return {i for i in ids if i in self.copy}

    target = Direct()
    target.copy = {i: "h" for i in range(1, 100)}
    assert engine.held_among(target, [5, 150]) == {5} and target.pages == 0


def test_held_among_ends_when_a_consumer_ignores_start():
    class Stubborn(FakeTarget):
        def held(self, start, antall):
            return super().held(None, antall)  # always its first page

    target = Stubborn()
    target.copy = {i: "h" for i in range(1, 3001)}
    assert engine.held_among(target, [5, 2500, 2600]) == {5}


def test_what_a_full_run_could_not_repair_is_sent_again_by_the_next_nightly_delta():
    """"Failed items are retried in the next run": a FULL finds differences that are older than the
    consumer's watermark (that is what a FULL is for); when the consumer refuses them the watermark
    stays, but the next DELTA reads only changes after it and never sees them again."""
    provider, target, store = FakeProvider(objects(10)), FakeTarget(), FakeStore()
    konsument = consumer()
    run_all(provider, target, store, konsument)  # a completed run: the consumer has a watermark
    konsument.vannmerke = store.watermark
    target.copy[5] = "ikke det tilbyderen har"  # the copy drifted (restored from a backup, a lost write, ...)
    target.copy[99] = "fjernet for lenge siden"  # an object removed before the watermark
    target.refuse = {5, 99}
    repair = run_all(provider, target, store, konsument, modus="FULL", run_id="r2")
    assert (repair.status, repair.feilet) == ("FULLFØRT", 2)
    assert store.watermark != repair.vannmerke  # not moved forward: "neste kjøring sender dem igjen"
    target.refuse = set()
    konsument.vannmerke = store.watermark
    nightly = run_all(provider, target, store, konsument, modus="DELTA", run_id="r3")
    assert nightly.status == "FULLFØRT"
    assert target.copy.get(5) == content_hash(provider.objects[5]) and 99 not in target.copy, target.copy
