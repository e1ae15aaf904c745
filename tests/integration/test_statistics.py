"""The statistics come from per-day counters kept with each state change (moto): the figures match a
count over the changesets themselves, and reading them does not read every changeset."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from moto import mock_aws

from tests.support.tables import create_template_table
from vegskriv import aws
from vegskriv.auth import ROLE_SERVICE_USER, Caller
from vegskriv.changesets.models import Fremdrift as F
from vegskriv.settings import get_settings
from vegskriv.store import changesets
from vegskriv.ui import insight

TABLE = "test-ChangesetsTable"


@pytest.fixture(autouse=True)
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CHANGESETS_TABLE", TABLE)
    with mock_aws():
        aws.reset()
        get_settings.cache_clear()
        create_template_table("ChangesetsTable", TABLE)
        yield
    aws.reset()
    get_settings.cache_clear()


def _changesets() -> None:
    """15 changesets of two owners through every kind of ending, a lock wait and a dry run."""
    paths = {"done": [F.BEHANDLES, F.UTFØRT, F.UTFØRT_OG_ETTERBEHANDLET], "rejected": [F.BEHANDLES, F.AVVIST],
             "cancelled": [F.KANSELLERT], "waited": [F.BEHANDLES, F.VENTER, F.BEHANDLES, F.VENTER, F.BEHANDLES,
                                                     F.UTFØRT, F.UTFØRT_OG_ETTERBEHANDLET],
             "dry": [F.BEHANDLES, F.UTFØRT], "new": []}
    plan = [("olanor", "done")] * 4 + [("olanor", "rejected")] * 2 + [("olanor", "cancelled"), ("olanor", "waited"),
            ("olanor", "dry"), ("olanor", "new"), ("kari", "done"), ("kari", "rejected"), ("kari", "waited"),
            ("kari", "new"), ("kari", "new")]
    for n, (owner, path) in enumerate(plan):
        cid = f"{owner}-{n}"
        changesets.create(cid, {"eier": owner, **({"dryrun": True} if path == "dry" else {})}, {"registrer": {}})
        state, waits = F.IKKE_STARTET, 0
        for to in paths[path]:
            fields = {}
            if to == F.VENTER:
                waits += 1
                fields = {"venteårsak": "VENTER_PÅ_LÅS", "ventForsok": waits}
            changesets.transition(cid, (state,), to, **fields)
            state = to


def _expected(caller: Caller) -> tuple[int, Counter[str], int]:
    """Counted over the changesets themselves (what the statistics read before the counters)."""
    metas = [m for m in changesets.scan_by_time(from_ms=None, to_ms=None, ascending=True)
             if caller.may_read(m["eier"])]
    outcomes = Counter(m["fremdrift"] if m["fremdrift"] != "IKKE_STARTET" else "PÅGÅR" for m in metas)
    return len(metas), outcomes, sum(1 for m in metas if m["id"].endswith(("-7", "-12")))


@pytest.mark.parametrize("caller", [Caller("olanor", frozenset()), Caller("kari", frozenset()),
                                    Caller("tjeneste", frozenset({ROLE_SERVICE_USER}))], ids=lambda c: c.user)
def test_the_day_counters_match_the_changesets(caller: Caller) -> None:
    _changesets()
    stats = insight.statistics(caller)
    total, outcomes, waited = _expected(caller)
    assert stats["antallEndringssett"] == total
    assert Counter({k: v for d in stats["perDag"] for k, v in d.items() if k != "dag"}) == outcomes
    assert sum(b["antall"] for b in stats["behandlingstid"]) == total - outcomes["PÅGÅR"]
    assert sum(d["endringssett"] for d in stats["låseventing"]) == waited
    assert sum(d["forsøk"] for d in stats["låseventing"]) == 2 * waited


def test_reading_the_statistics_does_not_read_every_changeset() -> None:
    _changesets()
    items: list[int] = []
    aws.dynamodb().meta.client.meta.events.register(
        "after-call.dynamodb", lambda parsed, **_: items.append(len(parsed.get("Items", []))))
    stats = insight.statistics(Caller("tjeneste", frozenset({ROLE_SERVICE_USER})))
    assert stats["antallEndringssett"] == 15
    assert sum(items) <= len(stats["perDag"])  # one counter item per day, whatever the number of changesets
