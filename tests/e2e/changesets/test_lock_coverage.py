"""Locks that do not cover what a changeset writes, or outlive it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.client import Client, changeset, kum
from tests.support.varsel_cases import TUNNEL_LUKK, TUNNELLOP_LUKK, world
from vegskriv.changesets import workflow
from vegskriv.local.stack import LocalStack
from vegskriv.store import locks as lock_store

pytestmark = pytest.mark.e2e
SEQUENCE = 1125766
OTHER_SEQUENCE = 1125768

# The ASL's choices after each step (statemachine/changeset.asl.json), without the waits.
ROUTES: dict[str, dict[str, str | None]] = {
    "begin": {"stop": None, "postProcess": "postProcess", "": "acquireLocks"},
    "acquireLocks": {"effectuate": "effectuate", "release": "releaseLocks", "stop": None, "wait": None,
                     "": "validate"},
    "validate": {"release": "releaseLocks", "": "effectuate"},
    "effectuate": {"release": "releaseLocks", "": "commit"},
    "commit": {"": "releaseLocks"},
    "releaseLocks": {"postProcess": "postProcess", "": None},
    "postProcess": {"": None},
}


def execution(changeset_id: str, step: str | None = "begin", until: str | None = None) -> list[tuple[str, str]]:
    """One execution's steps, run in this thread from ``step`` until (without) ``until``; it stops
    where the state machine would park (``wait``). Returns the (step, answer) pairs."""
    taken = []
    while step is not None and step != until:
        answer = workflow.STEPS[step](changeset_id)["next"]
        taken.append((step, answer))
        step = ROUTES[step].get(answer, ROUTES[step][""])
    return taken


@pytest.fixture(scope="module")
def stack():
    with LocalStack(port=0, env={"WAIT_FIRST_SECONDS": "30", "POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        admin = Client(running.url, "systemadmin", ("9_system_admin",))
        tunnels = [v for v in world() if v["id"] in (TUNNEL_LUKK, TUNNELLOP_LUKK)]
        r = admin.request("PUT", "/rest/v3/vegobjekter", data=json.dumps({"vegobjekter": tunnels}))
        assert r.status_code == 200, r.text
        yield running


def on(sequence: int, temp_id: str, posisjon: float) -> dict[str, Any]:
    return kum(temp_id, stedfesting={"punkt": [{"veglenkesekvensNvdbId": sequence, "posisjon": posisjon}]})


def versions(client: Client, type_id: int, nvdb_id: int) -> list[dict[str, Any]]:
    r = client.request("GET", f"/rest/v3/vegobjekter/{type_id}/{nvdb_id}")
    assert r.status_code == 200, r.text
    return r.json()["versjoner"]


def test_a_lock_taken_where_an_object_moved_meanwhile_is_released_with_the_rest(olanor, monkeypatch):
    """AcquireLocks claims from a read made before it holds anything; when the object moved before
    the locks were taken it takes the cells where it lies now too (``continue`` in acquire_locks).
    Those cells must be let go when the changeset ends, like the others."""
    _, made = olanor.run(changeset(registrer=[on(SEQUENCE, "moved", 0.3)]))
    nvdb_id = made["resultat"]["vegobjekter"][0]["nvdbId"]
    current = versions(olanor, 83, nvdb_id)[-1]
    move = {k: current[k] for k in ("typeId", "egenskaper")}
    move.update(nvdbId=nvdb_id, versjon=1, gyldighetsperiode={"startdato": "2025-01-01"},
                stedfesting={"punkt": [{"veglenkesekvensNvdbId": OTHER_SEQUENCE, "posisjon": 0.5}]})
    mover = olanor.register(changeset(oppdater=[move]))  # another changeset, committed meanwhile
    update = {k: current[k] for k in ("typeId", "egenskaper", "stedfesting")}
    update.update(nvdbId=nvdb_id, versjon=1, gyldighetsperiode={"startdato": "2025-02-01"})
    late = olanor.register(changeset(oppdater=[update]))

    real_acquire = lock_store.acquire

    def acquire(lock_id, claims, lease_seconds):
        if lock_id == late and not moved:
            moved.append(execution(mover))  # the other changeset moves the object and lets go
        return real_acquire(lock_id, claims, lease_seconds)

    moved: list[Any] = []
    monkeypatch.setattr(lock_store, "acquire", acquire)
    execution(late)
    assert olanor.fremdrift(mover) == "UTFØRT_OG_ETTERBEHANDLET"
    assert olanor.fremdrift(late) in ("UTFØRT_OG_ETTERBEHANDLET", "AVVIST")
    assert lock_store.get(late) is None  # its lock is gone...
    monkeypatch.setattr(lock_store, "acquire", real_acquire)
    # ...so a changeset on the stretch where the object lies now goes ahead at once.
    after = olanor.register(changeset(registrer=[on(OTHER_SEQUENCE, "after-move", 0.5)]))
    olanor.start(after)
    state = olanor.wait(after, timeout=15)
    blocked_by = [lock["id"] for lock in olanor.status(after).get("blokkerendeLåser") or []]
    # Before: it waited (its first pause alone is 30 s) on ``late``, which had ended.
    assert state == "UTFØRT_OG_ETTERBEHANDLET", (state, blocked_by, late)


def test_a_cascade_locks_the_daughters_it_closes(olanor):
    """lukk with kaskadelukking closes the composed daughters too, so the changeset must hold them:
    another changeset may not change a daughter between the cascade's read and its commit."""
    closing = olanor.register(changeset(lukk=[{"typeId": 581, "nvdbId": TUNNEL_LUKK, "versjon": 1,
                                               "lukkedato": "2025-01-01", "kaskadelukking": "JA"}]))
    renaming = olanor.register(changeset(delvisOppdater=[{
        "typeId": 67, "nvdbId": TUNNELLOP_LUKK, "versjon": 1, "gyldighetsperiode": {"startdato": "2025-06-01"},
        "egenskaper": [{"typeId": 1081, "verdi": ["Løp B"], "operasjon": "oppdater"}]}]))
    execution(closing, until="effectuate")  # validated, holding its locks
    assert lock_store.get(closing) is not None
    other = execution(renaming)  # the daughter's own changeset, while the cascade holds its locks
    execution(closing, "effectuate")
    assert olanor.fremdrift(closing) == "UTFØRT_OG_ETTERBEHANDLET"
    tunnel = versions(olanor, 581, TUNNEL_LUKK)[-1]
    lop = versions(olanor, 67, TUNNELLOP_LUKK)
    assert tunnel["gyldighetsperiode"]["sluttdato"] == "2025-01-01"
    # A composed daughter does not outlive its mother: the cascade closed every version that was open.
    open_versions = [v for v in lop if not v["gyldighetsperiode"].get("sluttdato")]
    assert open_versions == [], (other, olanor.fremdrift(renaming), lop)
