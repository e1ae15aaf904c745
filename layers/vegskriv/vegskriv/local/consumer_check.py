"""``vegskriv konsumentsjekk --url URL [--skriv]``: checks an HTTP consumer against the consumer
contract, the way the provisioning runs call it (the same client, ``provisioning.targets``), so a
team building a consumer finds out before the first night.

Reading (always): the id list's shape, ``antall`` honoured, ids ascending within and across pages,
``start`` honoured. Writing (``--skriv``, on test ids it removes again): an upsert is listed with its
hash, a second upsert replaces the hash, a delete removes it, a delete of an id the consumer does
not hold is ok (a run repeats deletes after a crash), and a call of 500 changes (the most a run sends)
is answered for every id. Exit status 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from vegskriv.provisioning.run import SEND
from vegskriv.provisioning.targets import ConsumerError, HttpTarget

TEST_ID = 9_000_000_000_001  # far above NVDB's ids
PAGE = 3  # small pages, so that a short list is still read page by page
MAX_PAGES = 20


class Failed(Exception):
    pass


def _expect(condition: bool, why: str) -> None:
    if not condition:
        raise Failed(why)


def _pages(target: HttpTarget) -> str:
    seen: list[int] = []
    start: int | None = None
    for _ in range(MAX_PAGES):
        # held() raises unless the ids ascend after start, the previous page's last: across pages too
        page, start = target.held(start, PAGE)
        _expect(len(page) <= PAGE, f"antall={PAGE} ga {len(page)} objekter")
        seen += [i for i, _ in page]
        if start is None:
            return f"{len(seen)} id-er lest, {PAGE} om gangen"
    return f"de første {len(seen)} id-ene lest ({MAX_PAGES} sider)"


def _listed(target: HttpTarget, nvdb_id: int) -> str | None:
    page, _ = target.held(nvdb_id - 1, 1)
    return page[0][1] if page and page[0][0] == nvdb_id else None


def _upsert(target: HttpTarget, nvdb_id: int, hash_: str) -> None:
    answer = target.apply([{"handling": "UPSERT", "id": nvdb_id, "hash": hash_,
                            "data": {"id": nvdb_id, "merknad": "vegskriv konsumentsjekk"}}])
    _expect(answer == {nvdb_id: None}, f"UPSERT {nvdb_id} ble ikke bekreftet: {answer.get(nvdb_id)}")


def _delete(target: HttpTarget, nvdb_id: int) -> None:
    answer = target.apply([{"handling": "DELETE", "id": nvdb_id}])
    _expect(answer == {nvdb_id: None}, f"DELETE {nvdb_id} ble ikke bekreftet: {answer.get(nvdb_id)}")


def _write_checks(target: HttpTarget) -> list[tuple[str, Callable[[], str]]]:
    def created() -> str:
        _upsert(target, TEST_ID, "sjekk-1")
        _expect(_listed(target, TEST_ID) == "sjekk-1", f"{TEST_ID} er ikke listet med hash sjekk-1")
        return f"{TEST_ID} listet med sin hash"

    def updated() -> str:
        _upsert(target, TEST_ID, "sjekk-2")
        _expect(_listed(target, TEST_ID) == "sjekk-2", f"{TEST_ID} er ikke listet med den nye hashen")
        return "hashen byttet"

    def deleted() -> str:
        _delete(target, TEST_ID)
        _expect(_listed(target, TEST_ID) is None, f"{TEST_ID} er fortsatt listet")
        return f"{TEST_ID} borte fra listen"

    def deleted_again() -> str:
        _delete(target, TEST_ID)
        return "ok også når id-en ikke finnes"

    def full_call() -> str:
        ids = range(TEST_ID + 1, TEST_ID + 1 + SEND)
        for changes in ([{"handling": "UPSERT", "id": i, "hash": "sjekk", "data": {"id": i}} for i in ids],
                        [{"handling": "DELETE", "id": i} for i in ids]):
            answer = target.apply(changes)
            refused = [i for i, why in answer.items() if why]
            if refused:
                raise Failed(f"{len(refused)} av {SEND} ikke bekreftet, f.eks. {refused[0]}: {answer[refused[0]]}")
        return "alle bekreftet, og slettet igjen"

    return [("UPSERT av et nytt objekt", created), ("UPSERT av et objekt den har", updated),
            ("DELETE", deleted), ("DELETE av et objekt den ikke har", deleted_again),
            (f"{SEND} endringer i ett kall", full_call)]


def check(url: str, write: bool, out: Any = None) -> bool:
    """Run the checks, a line each (to ``out``, default stdout); True when all passed (a write check
    is skipped once one failed)."""
    out = out or sys.stdout
    target = HttpTarget(url)
    checks: list[tuple[str, Callable[[], str]]] = [("GET /objekter, side for side", lambda: _pages(target))]
    if write:
        checks += _write_checks(target)
    passed = True
    for name, run in checks:
        if not passed:  # the write checks build on each other (the first check is always run)
            print(f"- {name}: hoppet over", file=out)
            continue
        try:
            print(f"✓ {name}: {run()}", file=out)
        except (Failed, ConsumerError) as exc:
            passed = False
            print(f"✗ {name}: {exc}", file=out)
    if not write:
        print("  (skrivesjekkene kjøres med --skriv; de skriver og sletter test-id-er fra "
              f"{TEST_ID})", file=out)
    return passed


def add_consumer_check_parser(sub: Any) -> None:
    parser = sub.add_parser("konsumentsjekk", help="sjekk en HTTP-konsument mot konsumentkontrakten",
                            description=__doc__)
    parser.add_argument("--url", required=True, help="konsumentens adresse (den samme som mål.url)")
    parser.add_argument("--skriv", action="store_true",
                        help=f"kjør også skrivesjekkene (test-id-er fra {TEST_ID}, slettet igjen)")
    parser.set_defaults(func=lambda args: 0 if check(args.url, args.skriv) else 1)
