"""The run engine: chunked, resumable steps over ports (provider, consumer target, run store).

A run walks ids in ascending order. Each ``step`` handles one chunk, the id range (etter, hi]
where hi is the end of the shortest page read (provider pages of every type and one consumer
page), so both sides of the range are fully known and memory is bounded by the page size. After
the chunk's writes its position and counts are saved: a step that dies is repeated from the last
saved chunk, and what it had already sent compares as unchanged, so nothing is sent twice.

Deletes are not sent during the walk but parked; at the end the run either applies them (under
the threshold) or stops in KARANTENE until ``approve``. The consumer's watermark moves only when a
run that writes completes with nothing refused, so a DELTA after a partial failure reads those changes again.

A DELTA run (after a completed run) instead walks the provider's change feed (``endretEtter`` the
consumer's watermark) type by type, one page a chunk: current objects are upserted, tombstones
(removed, closed, left the consumer's kommuner) are parked as deletes under the same threshold,
but only those the consumer holds (``held_among``: a tombstone of an object it never held, or has
already dropped, is counted unchanged and neither sent nor counted toward the threshold).
The contract's id list is not read whole in a DELTA, so upserts count as updates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from vegskriv.provisioning.diff import Provided, chunks, diff, is_current, over_threshold
from vegskriv.provisioning.model import Kjøring, Konsument

# Objects per provider page and ids per consumer page: fewer, larger reads (the read API and the
# reference consumer give up to 1000; a DynamoDB page of them stays under its 1 MB).
PAGE = 1000
SEND = 500  # changes per consumer call (the contract's limit)
LOOKUP = 100  # ids per consumer page when a DELTA looks its tombstones up (small: they are often scattered)


@dataclass
class Page:
    objects: list[Provided]
    tombstones: list[int] = field(default_factory=list)
    neste: int | None = None  # the page covers ids up to this one; None = the last page
    tidspunkt: str = ""
    markør: str | None = None  # change feed: where the next page starts; None = the last page


class Provider(Protocol):
    def page(self, type_id: int, kommuner: list[int] | None, endret_etter: str | None,
             start: int | None, antall: int) -> Page: ...

    def changed(self, type_id: int, kommuner: list[int] | None, endret_etter: str, markør: str | None,
                antall: int) -> Page:
        """A page of the change feed: current objects, and tombstones for the rest."""
        ...

    def watermark(self) -> str:
        """The ``endretEtter`` of the next DELTA run for a run starting now."""
        ...


class Target(Protocol):
    """The consumer contract. A target may also have ``holds(ids) -> set[int]`` (which of these ids
    it has), when it can answer that more cheaply than its id list (the built-in copy)."""

    def held(self, start: int | None, antall: int) -> tuple[list[tuple[int, str]], int | None]: ...

    def apply(self, changes: list[dict[str, Any]]) -> dict[int, str | None]:
        """id → None if applied, else the consumer's message."""
        ...


class RunStore(Protocol):
    def save_run(self, run: Kjøring) -> None: ...

    def log(self, run_id: str, first: int, entries: list[tuple[int, str, str | None]]) -> None:
        """Entries numbered from ``first`` (a repeated chunk writes the same numbers again)."""
        ...

    def park_deletes(self, run_id: str, ids: list[int]) -> None: ...

    def parked_deletes(self, run_id: str, after: int, limit: int) -> list[int]: ...

    def finish_run(self, run: Kjøring, vannmerke: str | None) -> None:
        """save_run, and the consumer's watermark set in the same write."""


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_run(run_id: str, konsument: Konsument, modus: str, dry_run: bool, provider: Provider) -> Kjøring:
    run = Kjøring(id=run_id, konsumentId=konsument.id, modus=modus, tørrkjøring=dry_run,  # type: ignore[arg-type]
                  startet=now_iso(), vannmerke=provider.watermark())
    if modus == "DELTA" and konsument.vannmerke is None:
        run.merknader.append("Ingen tidligere fullført kjøring: sammenlignet alt")
    elif modus == "DELTA":
        run.endretEtter = konsument.vannmerke
    return run


def step(run: Kjøring, konsument: Konsument, provider: Provider, target: Target, store: RunStore,
         today: date | None = None) -> bool:
    """One chunk; True when the run has nothing more to do (done, quarantined or failed)."""
    if run.status != "PÅGÅR":
        return True
    if run.fase == "SAMMENLIGN" and run.endretEtter:
        _delta_chunk(run, konsument, provider, target, store, today or datetime.now(UTC).date())
    elif run.fase == "SAMMENLIGN":
        _compare_chunk(run, konsument, provider, target, store, today or datetime.now(UTC).date())
    elif run.fase == "SLETT":
        _delete_chunk(run, konsument, target, store)
    # Saving raises for a run that is no longer its consumer's newest, so such a run never moves the
    # watermark. After a compare of everything with failures the watermark is cleared: what it could
    # not send may be older than the watermark, and a DELTA would never read it again.
    if run.status == "FULLFØRT" and not run.tørrkjøring and ((run.feilet and not run.endretEtter) or
                                                           (not run.feilet and run.vannmerke)):
        store.finish_run(run, None if run.feilet else run.vannmerke)
    else:
        store.save_run(run)
    return run.status != "PÅGÅR"


def _compare_chunk(run: Kjøring, konsument: Konsument, provider: Provider, target: Target, store: RunStore,
                   today: date) -> None:
    start = run.etter or None
    hi: int | None = None
    provided: list[Provided] = []
    for type_id in konsument.utvalg.vegobjekttyper:
        page = provider.page(type_id, konsument.utvalg.kommuner, None, start, PAGE)
        provided.extend(o for o in page.objects if is_current(o.data, today))
        if page.neste is not None:
            hi = page.neste if hi is None else min(hi, page.neste)
    held, held_next = target.held(start, PAGE)
    if held_next is not None and held:
        hi = held[-1][0] if hi is None else min(hi, held[-1][0])
    if hi is not None:
        provided = [o for o in provided if o.id <= hi]
        held = [h for h in held if h[0] <= hi]
    provided.sort(key=lambda o: o.id)
    found = diff(provided, held)
    run.hentet += len(provided)
    run.konsumentAntall += len(held)
    run.uendret += found.unchanged
    upserts = [("OPPRETTET", o) for o in found.creates] + [("OPPDATERT", o) for o in found.updates]
    upserts.sort(key=lambda u: u[1].id)
    _upsert(run, upserts, target, store)
    store.park_deletes(run.id, found.deletes)
    run.ventendeSlettinger += len(found.deletes)
    if hi is not None:
        run.etter = hi
        return
    _end_compare(run, konsument, store, target)


def _delta_chunk(run: Kjøring, konsument: Konsument, provider: Provider, target: Target, store: RunStore,
                 today: date) -> None:
    types = konsument.utvalg.vegobjekttyper
    assert run.endretEtter is not None
    page = provider.changed(types[run.typeIndeks], konsument.utvalg.kommuner, run.endretEtter, run.markør, PAGE)
    current = sorted((o for o in page.objects if is_current(o.data, today)), key=lambda o: o.id)
    gone = sorted({*page.tombstones, *(o.id for o in page.objects if not is_current(o.data, today))})
    run.hentet += len(page.objects) + len(page.tombstones)
    _upsert(run, [("OPPDATERT", o) for o in current], target, store)
    held = held_among(target, gone)
    run.uendret += len(gone) - len(held)
    gone = [i for i in gone if i in held]
    store.park_deletes(run.id, gone)
    run.ventendeSlettinger += len(gone)
    if page.markør is not None:
        run.markør = page.markør
        return
    run.typeIndeks, run.markør = run.typeIndeks + 1, None
    if run.typeIndeks == len(types):
        _end_compare(run, konsument, store, target)


def _upsert(run: Kjøring, upserts: list[tuple[str, Provided]], target: Target, store: RunStore) -> None:
    entries: list[tuple[int, str, str | None]] = []
    for part in chunks(upserts, SEND):
        if run.tørrkjøring:
            failed: dict[int, str | None] = {}
        else:
            failed = target.apply([{"handling": "UPSERT", "id": o.id, "hash": o.hash, "data": o.data}
                                   for _, o in part])
        for action, o in part:
            message = failed.get(o.id)
            if message:
                run.feilet += 1
                entries.append((o.id, "FEILET", message))
            else:
                run.opprettet += action == "OPPRETTET"
                run.oppdatert += action == "OPPDATERT"
                entries.append((o.id, action, "tørrkjøring" if run.tørrkjøring else None))
    _log(run, store, entries)


def _log(run: Kjøring, store: RunStore, entries: list[tuple[int, str, str | None]]) -> None:
    if entries:
        store.log(run.id, run.loggført, entries)
        run.loggført += len(entries)


def held_among(target: Target, ids: list[int]) -> set[int]:
    """Which of the ascending ``ids`` the consumer holds: asked directly where the target can say
    (the built-in copy reads the keys), else from its id list, read from the first id not yet
    decided; one page decides every id up to the page's last (all of them on the list's last page),
    so clustered ids cost a read per LOOKUP of them and scattered ones a small read each."""
    holds = getattr(target, "holds", None)
    if holds is not None:
        return set(holds(ids))
    found: set[int] = set()
    i = 0
    while i < len(ids):
        page, more = target.held(ids[i] - 1 or None, LOOKUP)
        listed = {h for h, _ in page}
        last = page[-1][0] if more is not None and page else None  # None: the list ends in this page
        first = i
        while i < len(ids) and (last is None or ids[i] <= last or i == first):  # i == first: never stuck
            if ids[i] in listed:
                found.add(ids[i])
            i += 1
    return found


def _held_count(target: Target, enough: int) -> int:
    """The size of the consumer's copy for the share rule of a DELTA run, counted page by page
    until it reaches ``enough`` (then the rule is decided: a few deletes read one page, not the copy)."""
    count, start = 0, None
    while True:
        held, start = target.held(start, PAGE)
        count += len(held)
        if start is None or count >= enough:
            return count


def _end_compare(run: Kjøring, konsument: Konsument, store: RunStore, target: Target) -> None:
    pending = run.ventendeSlettinger
    terskel = konsument.sletteterskel
    if pending and run.endretEtter:  # deletes / copy > andel ⇔ copy < deletes / andel
        run.konsumentAntall = _held_count(target, int(pending / terskel.andel) + 1 if terskel.andel else 1)
    hold = None
    if pending and run.hentet == 0 and not run.endretEtter:
        hold = (f"Tilbyderen svarte uten objekter, men konsumenten har {run.konsumentAntall}; "
                f"ingenting slettes før kjøringen godkjennes")
    elif pending and over_threshold(pending, run.konsumentAntall, terskel.antall, terskel.andel):
        hold = (f"{pending} slettinger er over sletteterskelen (antall {terskel.antall}, andel {terskel.andel}); "
                f"ingenting slettes før kjøringen godkjennes")
    if run.tørrkjøring:
        if hold:
            run.merknader.append(f"Ville gått i KARANTENE: {hold}")
        run.slettet, after = pending, 0
        while ids := store.parked_deletes(run.id, after, PAGE):
            _log(run, store, [(i, "SLETTET", "tørrkjøring") for i in ids])
            after = ids[-1]
        _finish(run, store)
    elif hold:
        run.status = "KARANTENE"
        run.merknader.append(hold)
    else:
        run.fase, run.etter = "SLETT", 0


def _delete_chunk(run: Kjøring, konsument: Konsument, target: Target, store: RunStore) -> None:
    ids = store.parked_deletes(run.id, run.etter, SEND)
    if not ids:
        _finish(run, store)
        return
    failed = target.apply([{"handling": "DELETE", "id": i} for i in ids])
    entries: list[tuple[int, str, str | None]] = []
    for i in ids:
        if failed.get(i):
            run.feilet += 1
            entries.append((i, "FEILET", failed[i]))
        else:
            run.slettet += 1
            entries.append((i, "SLETTET", None))
    _log(run, store, entries)
    run.etter = ids[-1]


def _finish(run: Kjøring, store: RunStore) -> None:
    run.status, run.fase, run.ferdig = "FULLFØRT", "FERDIG", now_iso()
    if run.tørrkjøring:
        run.merknader.append("Tørrkjøring: ingenting ble skrevet hos konsumenten")
    elif run.feilet and not run.endretEtter:
        run.merknader.append(f"{run.feilet} objekter feilet: vannmerket fjernes, neste kjøring sammenligner alt")
    elif run.feilet:
        # The watermark stays where it was, so the next DELTA reads the refused changes again
        # (with what succeeded: an upsert of the same content is harmless at the consumer).
        run.merknader.append(f"{run.feilet} objekter feilet: vannmerket flyttes ikke, neste kjøring sender dem igjen")


def approve(run: Kjøring) -> None:
    """Release a quarantined run: its parked deletes are applied by the next steps."""
    run.status, run.fase, run.etter = "PÅGÅR", "SLETT", 0
    run.merknader.append(f"Godkjent {now_iso()}")
