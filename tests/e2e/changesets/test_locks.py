"""Locks, waiting and recovery through the local stack over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.client import Client, changeset, kum
from tests.support.faults import object_writes
from vegskriv.local.stack import LocalStack
from vegskriv.store import locks as lock_store
from vegskriv.store import objects

pytestmark = pytest.mark.e2e
SEQUENCE = 1125766


@pytest.fixture(scope="module")
def stack():
    # Long pauses: anything that resumes quickly here was woken, not timed out.
    with LocalStack(port=0, env={"WAIT_FIRST_SECONDS": "30", "POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running




def external_lock(client: Client, sequence: int = SEQUENCE, seconds: int = 3600, type_id: int = 83) -> str:
    r = client.request("POST", "/rest/v1/lås", data=json.dumps({
        "vegobjekttyper": [{"typeId": type_id, "låstype": "NORMAL"}], "varighetSekunder": seconds,
        "stedfesting": [{"veglenkesekvensNvdbId": sequence, "fra": 0.0, "til": 1.0}]}))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def on(sequence: int, temp_id: str = "kum#1", posisjon: float = 0.3) -> dict:
    return kum(temp_id, stedfesting={"punkt": [{"veglenkesekvensNvdbId": sequence, "posisjon": posisjon}]})


def test_external_lock_blocks_until_removed_and_release_wakes_at_once(olanor, admin):
    lock_id = external_lock(admin)
    changeset_id = olanor.register(changeset(registrer=[on(SEQUENCE)]))
    olanor.start(changeset_id)
    assert olanor.wait(changeset_id, until={"VENTER"}) == "VENTER"
    reason = olanor.request("GET", f"/rest/v3/endringssett/{changeset_id}/fremdriftOgÅrsak").text
    assert reason == "VENTER:VENTER_PÅ_LÅS"
    blocking = olanor.request("GET", "/rest/v1/lås", params={"blokkererEndringssettId": changeset_id}).json()
    assert [lock["id"] for lock in blocking["låser"]] == [lock_id]
    assert blocking["låser"][0]["vegobjekttyper"] == [{"typeId": 83, "låstype": "NORMAL"}]
    assert olanor.request("GET", f"/rest/v3/endringssett/{changeset_id}/fremdrift").headers["Retry-After"] == "60"
    time.sleep(0.5)  # let it park on its task token
    released = time.monotonic()
    assert admin.request("DELETE", f"/rest/v1/lås/{lock_id}").status_code == 200
    assert olanor.wait(changeset_id, until={"UTFØRT_OG_ETTERBEHANDLET"}, timeout=15) == "UTFØRT_OG_ETTERBEHANDLET"
    assert time.monotonic() - released < 10  # the pause was 30 s: only the wake-up explains this
    assert olanor.request("GET", f"/rest/v1/lås/{lock_id}").status_code == 404


def test_cancel_while_waiting_ends_kansellert_without_locks(olanor, admin):
    lock_id = external_lock(admin)
    try:
        changeset_id = olanor.register(changeset(registrer=[on(SEQUENCE)]))
        olanor.start(changeset_id)
        assert olanor.wait(changeset_id, until={"VENTER"}) == "VENTER"
        assert olanor.request("POST", f"/rest/v3/endringssett/{changeset_id}/kanseller").status_code == 202
        assert olanor.fremdrift(changeset_id) == "KANSELLERT"
        assert olanor.request("GET", f"/rest/v1/lås/{changeset_id}").status_code == 404
        assert olanor.request("GET", "/rest/v1/lås", params={"eier": "olanor"}).json()["antallTotalt"] == 0
    finally:
        admin.request("DELETE", f"/rest/v1/lås/{lock_id}")


def test_restart_tries_again_at_once(olanor, admin):
    lock_id = external_lock(admin)
    changeset_id = olanor.register(changeset(registrer=[on(SEQUENCE)]))
    olanor.start(changeset_id)
    assert olanor.wait(changeset_id, until={"VENTER"}) == "VENTER"
    time.sleep(0.5)
    lock_store.release(lock_id)  # gone without waking anyone: only restart can resume it early
    r = olanor.request("POST", f"/rest/v3/endringssett/{changeset_id}/restart")
    assert r.status_code == 202, r.text
    assert olanor.wait(changeset_id, until={"UTFØRT_OG_ETTERBEHANDLET"}, timeout=10) == "UTFØRT_OG_ETTERBEHANDLET"
    done = olanor.request("POST", f"/rest/v3/endringssett/{changeset_id}/restart")
    assert done.status_code == 409


def test_expired_lease_of_a_dead_holder_lets_the_waiter_proceed(olanor, admin):
    external_lock(admin, seconds=4)  # its holder never comes back; 2 s could pass before a loaded machine got here
    changeset_id = olanor.register(changeset(registrer=[on(SEQUENCE)]))
    olanor.start(changeset_id)
    assert olanor.wait(changeset_id, until={"VENTER"}) == "VENTER"
    assert olanor.wait(changeset_id, until={"UTFØRT_OG_ETTERBEHANDLET"}, timeout=15) == "UTFØRT_OG_ETTERBEHANDLET"


def test_overlapping_changesets_one_waits_both_succeed(olanor):
    first = olanor.register(changeset(registrer=[on(SEQUENCE, "a")]), **{"X-NVDB-Delay": "2"})
    second = olanor.register(changeset(registrer=[on(SEQUENCE, "b")]))
    olanor.start(first)
    assert olanor.wait(first, until={"BEHANDLES"}) == "BEHANDLES"
    time.sleep(0.3)  # first now holds its locks through the delay
    olanor.start(second)
    assert olanor.wait(second, until={"VENTER"}, timeout=5) == "VENTER"
    assert olanor.wait(first) == "UTFØRT_OG_ETTERBEHANDLET"
    assert olanor.wait(second) == "UTFØRT_OG_ETTERBEHANDLET"
    ids = [olanor.status(cs)["resultat"]["vegobjekter"][0]["nvdbId"] for cs in (first, second)]
    for nvdb_id in ids:  # no lost update: both objects are there
        assert olanor.request("GET", f"/rest/v3/vegobjekter/83/{nvdb_id}").status_code == 200


def test_twenty_non_overlapping_changesets_at_once(stack, olanor):
    sequences = [s["veglenkesekvensId"] for s in olanor.request(
        "GET", "/rest/v3/vegnett/veglenkesekvenser", params={"antall": 100}).json()["objekter"]
        if s["sluttdato"] is None and s["startdato"] <= "2024-01-01"][:20]
    assert len(sequences) == 20
    ids = [olanor.register(changeset(registrer=[on(s, f"k{s}")])) for s in sequences]
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(lambda cs: olanor.start(cs).status_code, ids)) == {202}
    states = [olanor.wait(cs, timeout=60) for cs in ids]
    assert states == ["UTFØRT_OG_ETTERBEHANDLET"] * 20


@pytest.mark.parametrize("crash_after", [0, 1, 5, 9])
def test_crash_during_effectuation_is_repaired_and_never_half_visible(olanor, monkeypatch, crash_after):
    """Effectuation dies after k overlay writes; the re-run finishes with one copy of each version
    and a reader polling the read side sees either none or all ten objects, never part."""
    objects_in = [on(1125767 + i % 3, f"crash{crash_after}-{i}", posisjon=0.1 * (i + 1)) for i in range(10)]
    changeset_id = olanor.register(changeset(registrer=objects_in))
    writes = {"crashed": False}

    def crash(n: int) -> None:
        if n == crash_after and not writes["crashed"]:
            writes["crashed"] = True
            raise RuntimeError(f"simulated crash after {crash_after} writes")

    object_writes(monkeypatch, crash)
    seen: set[int] = set()
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            listed = olanor.request("GET", "/rest/v3/vegobjekter/83",
                                    params={"antall": 1000, "inkluder": "metadata"}).json()["objekter"]
            seen.add(sum(1 for o in listed if o["metadata"]["endringssettId"] == changeset_id))

    watcher = threading.Thread(target=reader, daemon=True)
    watcher.start()
    try:
        olanor.start(changeset_id)
        assert olanor.wait(changeset_id, until={"VENTER"}) == "VENTER"
        assert olanor.request("GET", f"/rest/v3/endringssett/{changeset_id}/fremdriftOgÅrsak").text == \
            "VENTER:SYSTEMFEIL"
        time.sleep(0.5)
        assert olanor.request("POST", f"/rest/v3/endringssett/{changeset_id}/restart").status_code == 202
        assert olanor.wait(changeset_id) == "UTFØRT_OG_ETTERBEHANDLET"
    finally:
        time.sleep(0.2)
        stop.set()
        watcher.join(5)
    assert writes["crashed"]
    assert seen <= {0, 10}, seen
    result = olanor.status(changeset_id)["resultat"]["vegobjekter"]
    assert len({o["nvdbId"] for o in result}) == 10
    for o in result:
        versions = olanor.request("GET", f"/rest/v3/vegobjekter/83/{o['nvdbId']}").json()["versjoner"]
        assert [v["versjon"] for v in versions] == [1]


def test_aborted_execution_releases_its_locks_and_resumes(stack, olanor):
    """An execution stopped from outside (abort, timeout) never runs its own Catch: the janitor,
    triggered by the EventBridge rule of the template, releases the locks and resumes the changeset."""
    changeset_id = olanor.register(changeset(registrer=[on(SEQUENCE, "abort")]), **{"X-NVDB-Delay": "5"})
    olanor.start(changeset_id)
    assert olanor.wait(changeset_id, until={"BEHANDLES"}) == "BEHANDLES"
    deadline = time.monotonic() + 20  # validated, then holding its locks through the delay
    while lock_store.get(changeset_id) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert lock_store.get(changeset_id) is not None
    sfn = stack.client("stepfunctions")
    machine = next(iter(stack.state_machine_arns.values()))
    execution = f"{machine.replace(':stateMachine:', ':execution:')}:{changeset_id}"
    sfn.stop_execution(executionArn=execution, cause="test: aborted from outside")
    # Nobody calls the janitor here: the template's EventBridge rule does, on the ABORTED status change.
    assert olanor.wait(changeset_id, timeout=30) == "UTFØRT_OG_ETTERBEHANDLET"
    runs = [e["name"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]
            if e["name"].startswith(changeset_id)]
    assert sorted(runs) == [changeset_id, f"{changeset_id}-gjenopptak-1"]


def test_existing_data_is_read_once_under_the_locks_and_shared_by_validation_and_effectuation(olanor, monkeypatch):
    from vegskriv.changesets import workflow

    _, status = olanor.run(changeset(registrer=[on(SEQUENCE, "read-once")]))
    nvdb_id = status["resultat"]["vegobjekter"][0]["nvdbId"]
    current = olanor.request("GET", f"/rest/v3/vegobjekter/83/{nvdb_id}").json()["versjoner"][-1]
    update = {k: current[k] for k in ("typeId", "egenskaper", "stedfesting")}
    update.update(nvdbId=nvdb_id, versjon=1, gyldighetsperiode={"startdato": "2025-01-01"})

    running = {"step": ""}
    reads: list[tuple[str, list[int]]] = []

    def in_step(name, step):
        def run(changeset_id, **kwargs):
            running["step"] = name
            return step(changeset_id, **kwargs)
        return run

    for name, step in list(workflow.STEPS.items()):
        monkeypatch.setitem(workflow.STEPS, name, in_step(name, step))
    real_read = objects.versions_many
    monkeypatch.setattr(objects, "versions_many",
                        lambda ids: reads.append((running["step"], list(ids))) or real_read(ids))
    _, status = olanor.run(changeset(oppdater=[update]))
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET", status["resultat"]
    assert status["resultat"]["vegobjekter"][0]["versjon"] == 2
    # Once for the claims before any lock is held, once under the locks: never in Validate or Effectuate.
    assert [(step, ids) for step, ids in reads if nvdb_id in ids] == [("acquireLocks", [nvdb_id])] * 2
