"""A lock lease that runs out while the changeset still means to write.

X-NVDB-Delay may be up to 3600 s, the lease (LOCK_LEASE_SECONDS) is 1800 s by default, and
nothing renews it during the WaitDelay state between Validate and Effectuate. Here the lease is
3 s and the delay 8 s: the same proportion, in seconds instead of hours."""

from __future__ import annotations

import time

import pytest

from tests.support.client import changeset, kum
from vegskriv.local.stack import LocalStack
from vegskriv.store import locks as lock_store

pytestmark = pytest.mark.e2e
SEQUENCE = 1125766
LEASE = 3


@pytest.fixture(scope="module")
def stack():
    with LocalStack(port=0, env={"WAIT_FIRST_SECONDS": "1", "LOCK_LEASE_SECONDS": str(LEASE),
                                 "POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running


def test_a_delayed_changeset_keeps_its_locks_until_it_has_written(olanor):
    _, made = olanor.run(changeset(registrer=[kum("leased")]))
    nvdb_id = made["resultat"]["vegobjekter"][0]["nvdbId"]
    current = olanor.request("GET", f"/rest/v3/vegobjekter/83/{nvdb_id}").json()["versjoner"][-1]

    def update(depth: str) -> dict:
        changed = {k: current[k] for k in ("typeId", "stedfesting")}
        changed["egenskaper"] = [e for e in current["egenskaper"] if e["typeId"] != 1586] + [
            {"typeId": 1586, "verdi": [depth]}]
        changed.update(nvdbId=nvdb_id, versjon=1, gyldighetsperiode={"startdato": "2025-01-01"})
        return changed

    delayed = olanor.register(changeset(oppdater=[update("2.5")]), **{"X-NVDB-Delay": "8"})
    olanor.start(delayed)
    deadline = time.monotonic() + 20  # validated, then holding its locks through the delay
    while lock_store.get(delayed) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lock_store.get(delayed) is not None
    time.sleep(LEASE + 1)  # still in its delay, past its lease
    assert olanor.fremdrift(delayed) == "BEHANDLES"
    other, _ = olanor.run(changeset(oppdater=[update("3.5")]))  # the same object, version 1 too
    assert olanor.wait(delayed, timeout=30) in ("UTFØRT_OG_ETTERBEHANDLET", "AVVIST", "KANSELLERT")
    outcomes = {cs: olanor.fremdrift(cs) for cs in (delayed, other)}
    versions = olanor.request("GET", f"/rest/v3/vegobjekter/83/{nvdb_id}").json()["versjoner"]
    depths = [next(e["verdi"] for e in v["egenskaper"] if e["typeId"] == 1586) for v in versions]
    # Both changed version 1 into a version 2: at most one of them may have, and a changeset that says
    # UTFØRT must be on the read side (before: both were, and the delayed one wrote over the other).
    assert list(outcomes.values()).count("UTFØRT_OG_ETTERBEHANDLET") == 1, (outcomes, depths)
