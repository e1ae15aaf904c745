"""No changeset that can never finish; cancel until the commit write; progress codes after start."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from tests.support.client import Client, changeset, kum
from tests.support.faults import object_writes
from tests.support.fixtures import history
from vegskriv import observability
from vegskriv.changesets import workflow
from vegskriv.changesets.status import Varsel
from vegskriv.local.stack import LocalStack
from vegskriv.store import locks as lock_store
from vegskriv.store import objects

pytestmark = pytest.mark.e2e
MAX_OBJECTS = 12


@pytest.fixture(scope="module")
def stack():
    # Long pauses: anything that resumes quickly here was woken, not timed out.
    with LocalStack(port=0, env={"WAIT_FIRST_SECONDS": "30", "MAX_SYSTEM_FAILURES": "3",
                                 "MAX_VEGOBJEKTER": str(MAX_OBJECTS), "POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running


@pytest.fixture
def alarms(monkeypatch) -> list[str]:
    """Each emission of the metric the given-up alarm watches (the other metrics left out)."""
    emitted: list[str] = []
    monkeypatch.setattr(observability.metrics, "add_metric",
                        lambda name, **_: emitted.append(name) if name == workflow.SYSTEMFEIL_METRIC else None)
    monkeypatch.setattr(observability.metrics, "flush_metrics", lambda **_: None)
    return emitted


def kums(prefix: str, n: int) -> list[dict[str, Any]]:
    return [kum(f"{prefix}-{i}", stedfesting={"punkt": [{"veglenkesekvensNvdbId": 1125766 + i % 3,
                                                          "posisjon": 0.05 * (i + 1)}]}) for i in range(n)]


def pending_overlays(changeset_id: str) -> list[dict[str, Any]]:
    """Object items the changeset wrote that a commit would make visible."""
    return objects._table().scan(FilterExpression=Attr("cs").eq(changeset_id))["Items"]


def assert_left_nothing(client: Client, changeset_id: str) -> None:
    assert pending_overlays(changeset_id) == []
    assert lock_store.get(changeset_id) is None
    assert client.request("GET", f"/rest/v1/lås/{changeset_id}").status_code == 404
    listed = client.request("GET", "/rest/v3/vegobjekter/83",
                            params={"antall": 1000, "inkluder": "metadata"}).json()["objekter"]
    assert not [o for o in listed if o["metadata"]["endringssettId"] == changeset_id]


def reason(client: Client, changeset_id: str) -> str:
    return client.request("GET", f"/rest/v3/endringssett/{changeset_id}/fremdriftOgÅrsak").text


# ------------------------------------------------------------------ limits at register


def test_a_megabyte_text_value_is_refused_at_register_naming_its_path(olanor):
    huge = kum("huge", egenskaper=[*kum()["egenskaper"], {"typeId": 11430, "verdi": ["x" * 1_000_000]}])
    r = olanor.request("POST", "/rest/v3/endringssett", data=json.dumps(changeset(registrer=[huge])))
    assert r.status_code == 413, r.text
    assert r.json()["message"].startswith("registrer.vegobjekter[0].egenskaper[8].verdi[0]:")
    assert olanor.request("GET", "/rest/v1/lås", params={"eier": "olanor"}).json()["antallTotalt"] == 0


def test_long_geometry_large_object_and_too_many_objects_are_refused(olanor):
    wkt = "LINESTRING (" + ", ".join(f"{218000 + i}.125 7023329.5 350.3" for i in range(6000)) + ")"
    long_line = kum("line", egenskaper=[{"typeId": 4784, "geometri": [{"srid": 25833, "wkt": wkt}]}])
    r = olanor.request("POST", "/rest/v3/endringssett", data=json.dumps(changeset(registrer=[kum(), long_line])))
    assert r.status_code == 413 and r.json()["message"].startswith(
        "registrer.vegobjekter[1].egenskaper[0].geometri[0].wkt:"), r.text
    junk = kum("junk", egenskaper=[{"typeId": 4784, "geometri": [
        {"srid": 25833, "wkt": "POINT (1 2 3)", "kvalitet": {"merknad": "y" * 200_000}}]}])
    r = olanor.request("POST", "/rest/v3/endringssett", data=json.dumps(changeset(registrer=[junk])))
    assert r.status_code == 413 and r.json()["message"].startswith("registrer.vegobjekter[0]: vegobjektet er"), r.text
    r = olanor.request("POST", "/rest/v3/endringssett", data=json.dumps(changeset(registrer=kums("many",
                                                                                              MAX_OBJECTS + 1))))
    assert r.status_code == 413 and "MAX_VEGOBJEKTER" in r.json()["message"], r.text
    assert olanor.register(changeset(registrer=kums("enough", MAX_OBJECTS)))


def test_text_without_feltlengde_over_the_limit_is_a_feil(olanor):
    long_text = kum("long", egenskaper=[*kum()["egenskaper"], {"typeId": 11430, "verdi": ["z" * 4001]}])
    r = olanor.request("POST", "/rest/v3/endringssett/validator", data=json.dumps(changeset(registrer=[long_text])))
    assert r.status_code == 200, r.text
    [entry] = r.json()["resultat"]["vegobjekter"]
    assert [(v["kode"], v["egenskapTypeId"]) for v in entry["feil"]] == [("OVERSKRIDER_FELTLENGDE", 11430)]
    ok = kum("ok", egenskaper=[*kum()["egenskaper"], {"typeId": 11430, "verdi": ["z" * 4000]}])
    r = olanor.request("POST", "/rest/v3/endringssett/validator", data=json.dumps(changeset(registrer=[ok])))
    assert r.json()["resultat"]["vegobjekter"][0]["feil"] == []


# ------------------------------------------------------------------ errors that retrying cannot cure


def test_uncurable_error_in_effectuation_ends_avvist_and_leaves_nothing(olanor, monkeypatch, alarms):
    def item_too_large(n: int) -> None:
        if n == 3:
            raise ClientError({"Error": {"Code": "ValidationException",
                                         "Message": "Item size has exceeded the maximum allowed size"}}, "UpdateItem")

    object_writes(monkeypatch, item_too_large)
    changeset_id, status = olanor.run(changeset(registrer=kums("uncurable", 6)))
    assert status["fremdrift"] == "AVVIST" and status["avvistårsak"] == "SYSTEMFEIL", status
    assert reason(olanor, changeset_id) == "AVVIST:SYSTEMFEIL"
    [varsel] = status["resultat"]["feil"]
    assert varsel["kode"] == "SYSTEMFEIL" and "maximum allowed size" in varsel["melding"]
    assert all("nvdbId" not in o for o in status["resultat"]["vegobjekter"])
    assert_left_nothing(olanor, changeset_id)
    assert alarms == [workflow.SYSTEMFEIL_METRIC]


def test_transient_failures_past_the_bound_end_avvist_with_an_alarm(olanor, monkeypatch, alarms):
    def always(n: int) -> None:
        raise RuntimeError("simulated outage")

    object_writes(monkeypatch, always)
    changeset_id = olanor.register(changeset(registrer=kums("transient", 2)))
    olanor.start(changeset_id)
    deadline = time.monotonic() + 30
    while olanor.fremdrift(changeset_id) != "AVVIST" and time.monotonic() < deadline:
        if olanor.fremdrift(changeset_id) == "VENTER":
            olanor.request("POST", f"/rest/v3/endringssett/{changeset_id}/restart")  # 409 until parked
        time.sleep(0.1)
    status = olanor.status(changeset_id)
    assert status["fremdrift"] == "AVVIST" and status["avvistårsak"] == "SYSTEMFEIL", status
    assert "feilet 3 ganger" in status["resultat"]["feil"][0]["melding"]
    assert_left_nothing(olanor, changeset_id)
    assert alarms == [workflow.SYSTEMFEIL_METRIC]


# ------------------------------------------------------------------ cancel until the commit write


def test_cancel_during_effectuation_wins_over_the_commit(olanor, monkeypatch):
    inside, go_on = threading.Event(), threading.Event()

    def pause(n: int) -> None:
        if n == 2:
            inside.set()
            go_on.wait(10)

    object_writes(monkeypatch, pause)
    changeset_id = olanor.register(changeset(registrer=kums("cancel-eff", 4)))
    olanor.start(changeset_id)
    try:
        assert inside.wait(15)
        r = olanor.request("POST", f"/rest/v3/endringssett/{changeset_id}/kanseller")
        assert r.status_code == 202, r.text
    finally:
        go_on.set()
    assert olanor.wait(changeset_id) == "KANSELLERT"
    status = olanor.status(changeset_id)
    assert status["kanselleringBestilt"] is True and status.get("transaksjon") is None
    assert all("nvdbId" not in o for o in status["resultat"]["vegobjekter"])
    assert_left_nothing(olanor, changeset_id)
    # The same stretch is free for the next changeset at once.
    _, after = olanor.run(changeset(registrer=kums("after-cancel", 4)))
    assert after["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET"


def test_cancel_while_parked_after_a_failure_in_effectuation_wakes_and_cleans_up(olanor, monkeypatch):
    crashed = threading.Event()

    def crash_once(n: int) -> None:
        if n == 2 and not crashed.is_set():
            crashed.set()
            raise RuntimeError("simulated crash")

    object_writes(monkeypatch, crash_once)
    changeset_id = olanor.register(changeset(registrer=kums("cancel-parked", 4)))
    olanor.start(changeset_id)
    assert olanor.wait(changeset_id, until={"VENTER"}) == "VENTER"
    assert reason(olanor, changeset_id) == "VENTER:SYSTEMFEIL"
    assert pending_overlays(changeset_id)  # half-written, invisible
    time.sleep(0.5)  # parked for 30 s
    asked = time.monotonic()
    assert olanor.request("POST", f"/rest/v3/endringssett/{changeset_id}/kanseller").status_code == 202
    assert olanor.wait(changeset_id, timeout=15) == "KANSELLERT"
    assert time.monotonic() - asked < 10  # woken, not timed out
    assert_left_nothing(olanor, changeset_id)


def test_cancel_after_the_commit_write_is_409(olanor, monkeypatch):
    committed, go_on = threading.Event(), threading.Event()
    real_fold = objects.fold_overlays

    def slow_fold(changeset_id, keys, **kwargs):
        committed.set()
        go_on.wait(10)
        return real_fold(changeset_id, keys, **kwargs)

    monkeypatch.setattr(objects, "fold_overlays", slow_fold)
    changeset_id = olanor.register(changeset(registrer=[kum("committed")]))
    olanor.start(changeset_id)
    try:
        assert committed.wait(15)
        assert olanor.fremdrift(changeset_id) == "UTFØRT"
        r = olanor.request("POST", f"/rest/v3/endringssett/{changeset_id}/kanseller")
        assert r.status_code == 409 and "kan ikke kanselleres" in r.json()["message"], r.text
    finally:
        go_on.set()
    assert olanor.wait(changeset_id) == "UTFØRT_OG_ETTERBEHANDLET"
    assert olanor.status(changeset_id)["kanselleringBestilt"] is False


# ------------------------------------------------------------------ progress codes after start


def test_a_started_changeset_is_behandles_at_once(olanor):
    sequences = [s["veglenkesekvensId"] for s in olanor.request(
        "GET", "/rest/v3/vegnett/veglenkesekvenser", params={"antall": 100}).json()["objekter"]
        if s["sluttdato"] is None and s["startdato"] <= "2024-01-01"][:8]
    started = []
    for vls in sequences:  # apart, so none waits for another's locks
        obj = kum(f"queued{vls}", stedfesting={"punkt": [{"veglenkesekvensNvdbId": vls, "posisjon": 0.5}]})
        changeset_id = olanor.register(changeset(registrer=[obj]), **{"X-NVDB-Delay": "1"})
        assert olanor.start(changeset_id).status_code == 202
        r = olanor.request("GET", f"/rest/v3/endringssett/{changeset_id}/fremdrift")
        assert r.json() == "BEHANDLES" and r.headers["Retry-After"] == "1"
        assert olanor.start(changeset_id).status_code == 202  # still active: a harmless no-op
        started.append(changeset_id)
    assert [olanor.wait(cs) for cs in started] == ["UTFØRT_OG_ETTERBEHANDLET"] * 8


def test_start_of_a_finished_or_cancelled_changeset_is_409(olanor):
    done, _ = olanor.run(changeset(registrer=[kum("done")]))
    r = olanor.start(done)
    assert r.status_code == 409 and "kan ikke startes" in r.json()["message"]
    cancelled = olanor.register(changeset(registrer=[kum("cancelled")]))
    assert olanor.request("POST", f"/rest/v3/endringssett/{cancelled}/kanseller").status_code == 202
    assert olanor.start(cancelled).status_code == 409
    assert olanor.fremdrift(cancelled) == "KANSELLERT"


def test_a_finished_dry_run_sends_no_retry_after(olanor):
    changeset_id = olanor.register(changeset(registrer=[kum("dry")]), **{"X-NVDB-DryRun": "true"})
    olanor.start(changeset_id)
    assert olanor.wait(changeset_id, until={"UTFØRT"}) == "UTFØRT"
    r = olanor.request("GET", f"/rest/v3/endringssett/{changeset_id}/fremdrift")
    assert r.json() == "UTFØRT" and "Retry-After" not in r.headers
    assert olanor.start(changeset_id).status_code == 409


def test_a_version_that_would_grow_past_what_fits_is_refused(olanor, admin):
    """delvisOppdater adds to an existing object; the new version must still fit beside an overlay."""
    big = history(1_000_777, 83, 1, vls=1125766)[0]
    big["egenskaper"] = [{"typeId": 4784, "geometri": [{"srid": 25833, "wkt": "POINT (218124.0 7023329.5 350.3)",
                                                          "kvalitet": {"merknad": "y" * 197_000}}]}]
    r = admin.request("PUT", "/rest/v3/vegobjekter", data=json.dumps({"vegobjekter": [big]}))
    assert r.status_code == 200, r.text
    grow = {"typeId": 83, "nvdbId": 1_000_777, "versjon": 1, "gyldighetsperiode": {"startdato": "2025-01-01"},
            "egenskaper": [{"typeId": 11430, "verdi": ["z" * 4000], "operasjon": "oppdater"}]}
    changeset_id, status = olanor.run(changeset(delvisOppdater=[grow]))
    assert status["fremdrift"] == "AVVIST" and status["avvistårsak"] == "VALIDERINGSFEIL", status
    assert [v["kode"] for v in status["resultat"]["feil"]] == ["VEGOBJEKTET_ER_FOR_STORT"], status["resultat"]
    assert_left_nothing(olanor, changeset_id)
    assert [v["versjon"] for v in olanor.request("GET", "/rest/v3/vegobjekter/83/1000777").json()["versjoner"]] == [1]


# ------------------------------------------------------------------ duplicate executions

# The ASL's choices after each step (statemachine/changeset.asl.json), without the waits.
ROUTES: dict[str, dict[str, str | None]] = {
    "begin": {"stop": None, "postProcess": "postProcess", "": "acquireLocks"},
    "acquireLocks": {"effectuate": "effectuate", "release": "releaseLocks", "stop": None, "": "validate"},
    "validate": {"release": "releaseLocks", "": "effectuate"},
    "effectuate": {"release": "releaseLocks", "": "commit"},
    "commit": {"": "releaseLocks"},
    "releaseLocks": {"postProcess": "postProcess", "": None},
    "postProcess": {"": None},
}


def execution(changeset_id: str, step: str | None = "begin", until: str | None = None) -> None:
    """One execution's steps, run in this thread from ``step`` until (without) ``until``; an error
    goes to SystemFailure and ends there (its pause is not waited out)."""
    while step is not None and step != until:
        try:
            answer = workflow.STEPS[step](changeset_id)["next"]
        except Exception as exc:
            workflow.STEPS["systemFailure"](changeset_id, error={"Error": type(exc).__name__})
            return
        assert answer != "wait", step
        step = ROUTES[step].get(answer, ROUTES[step][""])


def test_a_validation_still_running_in_a_duplicate_execution_cannot_hide_the_committed_ids(olanor, monkeypatch):
    """On AWS an execution stopped from outside (or lost with a restart) may still be running its
    Lambda while the janitor's fresh execution commits: its validation read BEHANDLES before the
    commit and stores its result after it."""
    changeset_id = olanor.register(changeset(registrer=[kum("late-validation")]))  # steps run here, not started
    execution(changeset_id, until="effectuate")  # the first execution: validated, holding its locks
    real = workflow.validate

    def validate_while_the_other_commits(doc, ctx):
        found = real(doc, ctx)
        execution(changeset_id, "effectuate")  # the first execution finishes meanwhile
        return found

    monkeypatch.setattr(workflow, "validate", validate_while_the_other_commits)
    execution(changeset_id, "validate")  # the duplicate, from its validation on
    status = olanor.status(changeset_id)
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET", status
    [made] = status["resultat"]["vegobjekter"]
    assert olanor.request("GET", f"/rest/v3/vegobjekter/83/{made['nvdbId']}").status_code == 200


def test_a_validation_failing_in_a_duplicate_execution_stops_the_effectuation_before_its_commit(olanor, monkeypatch):
    """The duplicate's validation finds what the first one did not (rights taken away meanwhile)
    after the first execution wrote its overlays: the changeset ends AVVIST before the commit
    write, with nothing left behind and no ids in its result."""
    changeset_id = olanor.register(changeset(registrer=kums("late-feil", 2)))
    execution(changeset_id, until="commit")  # the first execution: overlays written, not committed
    assert pending_overlays(changeset_id)
    real = workflow.validate

    def validate_finding_more(doc, ctx):
        found = real(doc, ctx)
        found.feil.append(Varsel(kode="IKKE_AUTORISERT", melding="Rettigheten er trukket tilbake."))
        return found

    monkeypatch.setattr(workflow, "validate", validate_finding_more)
    execution(changeset_id, "validate")  # the duplicate, from its validation on
    execution(changeset_id, "commit")  # the first execution goes on
    status = olanor.status(changeset_id)
    assert status["fremdrift"] == "AVVIST", status
    assert [v["kode"] for v in status["resultat"]["feil"]] == ["IKKE_AUTORISERT"]
    assert all("nvdbId" not in o for o in status["resultat"]["vegobjekter"])
    assert_left_nothing(olanor, changeset_id)


def test_a_give_up_landing_while_a_duplicate_commits_keeps_its_feil_and_shows_no_ids(olanor, monkeypatch):
    """A give-up (retries exhausted in one execution) ends the changeset while the other execution's
    commit has passed its checks: that commit's result, written just before its refused commit
    write, must neither show ids nor replace the give-up's SYSTEMFEIL."""
    changeset_id = olanor.register(changeset(registrer=kums("late-give-up", 2)))
    execution(changeset_id, until="commit")  # overlays written, not committed
    store = workflow.changesets
    real_save = store.save_committed_result

    def give_up_first(cid: str, resultat: dict[str, Any]) -> None:
        workflow._give_up(cid, "prøvd for mange ganger")  # lands between the commit's checks and its writes
        real_save(cid, resultat)

    monkeypatch.setattr(store, "save_committed_result", give_up_first)
    execution(changeset_id, "commit")  # its commit write is refused; it goes on as the steps route it
    status = olanor.status(changeset_id)
    assert status["fremdrift"] == "AVVIST" and status.get("avvistårsak") == "SYSTEMFEIL", status
    assert [v["kode"] for v in status["resultat"]["feil"]] == ["SYSTEMFEIL"]
    assert all("nvdbId" not in o for o in status["resultat"]["vegobjekter"])
    assert_left_nothing(olanor, changeset_id)
