"""Nightly provisioning through the local stack over HTTP: the API, the provisioning state
machine (moto executes it), the built-in DYNAMODB target and the reference SQLite HTTP consumer."""

from __future__ import annotations

import json
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from tests.support.client import Client
from vegskriv.local.consumer import Copy, make_server
from vegskriv.local.stack import LocalStack
from vegskriv.store import provisioning as store

pytestmark = pytest.mark.e2e
TYPE = 83
IDS = range(5001, 5031)


@pytest.fixture(scope="module")
def stack():
    # No overlap on the change feed: runs follow each other, so DELTA counts only what changed.
    with LocalStack(port=0, env={"POWERTOOLS_LOG_LEVEL": "CRITICAL", "ENDRET_OVERLAPP_SEKUNDER": "0"}) as running:
        yield running


@pytest.fixture(scope="module")
def fagadmin(stack) -> Client:
    return Client(stack.url, "fagadmin", ("5_fagdata_admin",))


@pytest.fixture()
def consumer_url(tmp_path):
    server = make_server("127.0.0.1", 0, Copy(str(tmp_path / "kopi.db")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def version(nvdb_id: int, versjon: int = 1, **period: str) -> dict[str, Any]:
    return {"id": nvdb_id, "versjon": versjon, "typeId": TYPE,
            "gyldighetsperiode": {"startdato": "2020-01-01", **period},
            "egenskaper": [{"typeId": 1141, "verdi": [f"kum {nvdb_id} v{versjon}"]}],
            "stedfesting": {"punkt": [{"veglenkesekvensNvdbId": 1125766, "posisjon": 0.5}]}}


def load(admin: Client, versions: list[dict[str, Any]]) -> None:
    r = admin.request("PUT", "/rest/v3/vegobjekter", data=json.dumps({"vegobjekter": versions}))
    assert r.status_code == 200, r.text


def register(client: Client, konsument_id: str, mål: dict[str, Any]) -> None:
    r = client.request("POST", "/rest/v1/konsumenter", data=json.dumps({
        "id": konsument_id, "navn": "Test", "utvalg": {"vegobjekttyper": [TYPE]}, "mål": mål,
        "sletteterskel": {"antall": 5, "andel": 1.0}}))
    assert r.status_code == 201, r.text


def run(client: Client, konsument_id: str, **body: Any) -> dict[str, Any]:
    r = client.request("POST", f"/rest/v1/konsumenter/{konsument_id}/kjøringer", data=json.dumps(body))
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        report = client.request("GET", f"/rest/v1/konsumenter/{konsument_id}/kjøringer/{run_id}").json()
        if report["status"] != "PÅGÅR":
            return report
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} still going: {report}")


def counts(report: dict[str, Any]) -> tuple[int, ...]:
    return tuple(report[k] for k in ("hentet", "uendret", "opprettet", "oppdatert", "slettet", "feilet"))


def test_full_runs_to_the_builtin_dynamodb_target(stack, admin, fagadmin):
    load(admin, [version(i) for i in IDS])
    register(fagadmin, "innebygd", {"type": "DYNAMODB"})
    first = run(fagadmin, "innebygd", modus="FULL")
    assert first["status"] == "FULLFØRT" and counts(first) == (30, 0, 30, 0, 0, 0)
    copy = store.DynamoTarget("innebygd")
    assert copy.get(5001)["egenskaper"][0]["verdi"] == ["kum 5001 v1"]

    again = run(fagadmin, "innebygd", modus="FULL")
    assert counts(again) == (30, 30, 0, 0, 0, 0)
    log = fagadmin.request("GET", f"/rest/v1/konsumenter/innebygd/kjøringer/{again['id']}/logg").json()
    assert log["logg"] == []  # UENDRET is only counted

    load(admin, [version(5002, 2), version(5003, 2, sluttdato="2021-01-01")])
    third = run(fagadmin, "innebygd", modus="DELTA")
    assert counts(third) == (2, 0, 0, 1, 1, 0) and third["endretEtter"] == again["vannmerke"]
    assert copy.get(5003) is None and copy.get(5002)["versjon"] == 2
    log = fagadmin.request("GET", f"/rest/v1/konsumenter/innebygd/kjøringer/{third['id']}/logg").json()["logg"]
    assert log == [{"id": 5002, "handling": "OPPDATERT"}, {"id": 5003, "handling": "SLETTET"}]
    consumer = fagadmin.request("GET", "/rest/v1/konsumenter/innebygd").json()
    assert consumer["vannmerke"] == third["vannmerke"]


def test_reference_http_consumer_quarantine_and_approve(stack, admin, fagadmin, consumer_url, monkeypatch):
    from vegskriv import observability
    from vegskriv.provisioning import jobs

    alarms: list[str] = []  # emissions of the metric template.yaml's ProvisioningAttentionAlarm watches
    monkeypatch.setattr(observability.metrics, "add_metric",
                        lambda name, **_: alarms.append(name) if name == jobs.ATTENTION_METRIC else None)
    monkeypatch.setattr(observability.metrics, "flush_metrics", lambda **_: None)
    load(admin, [version(i) for i in range(6001, 6011)])
    register(fagadmin, "sqlite", {"type": "HTTP", "url": consumer_url})
    konsument = fagadmin.request("GET", "/rest/v1/konsumenter/sqlite").json()
    # the subset is type 83: it holds what the previous test left plus these ten
    first = run(fagadmin, "sqlite", modus="FULL")
    assert first["status"] == "FULLFØRT" and first["opprettet"] == first["hentet"] >= 10
    dry = run(fagadmin, "sqlite", modus="FULL", tørrkjøring=True)
    assert dry["uendret"] == first["hentet"] and dry["opprettet"] == 0

    load(admin, [version(i, 2, sluttdato="2021-01-01") for i in range(6001, 6011)])
    assert alarms == []
    held = run(fagadmin, "sqlite", modus="FULL")
    assert held["status"] == "KARANTENE" and held["ventendeSlettinger"] == 10
    assert alarms == [jobs.ATTENTION_METRIC]
    listing = json.loads(_get(consumer_url + "/objekter?antall=1000"))
    assert {o["id"] for o in listing["objekter"]} >= set(range(6001, 6011))

    r = fagadmin.request("POST", f"/rest/v1/konsumenter/sqlite/kjøringer/{held['id']}/godkjenn")
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 30
    while (report := fagadmin.request("GET", f"/rest/v1/konsumenter/sqlite/kjøringer/{held['id']}").json())[
            "status"] == "PÅGÅR" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert report["status"] == "FULLFØRT" and report["slettet"] == 10
    listing = json.loads(_get(consumer_url + "/objekter?antall=1000"))
    assert not {o["id"] for o in listing["objekter"]} & set(range(6001, 6011))
    assert konsument["eier"] == "fagadmin"


def test_another_owners_admin_gets_404_and_users_403(stack, olanor):
    other = Client(stack.url, "annenadmin", ("5_fagdata_admin",))
    assert other.request("GET", "/rest/v1/konsumenter/innebygd").status_code == 404
    assert other.request("POST", "/rest/v1/konsumenter/innebygd/kjøringer", data="{}").status_code == 404
    assert other.request("GET", "/rest/v1/konsumenter").json() == {"konsumenter": []}
    assert olanor.request("GET", "/rest/v1/konsumenter").status_code == 403


def test_a_chunk_that_keeps_failing_ends_its_run_and_the_other_runs_go_on(stack, fagadmin, monkeypatch):
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    from vegskriv.provisioning import jobs
    from vegskriv.provisioning import run as engine

    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=lambda _seconds: None))  # the Retry's pauses
    real_step = engine.step

    def step(run: Any, konsument: Any, *args: Any, **kwargs: Any) -> bool:
        if konsument.id == "brutt":
            raise RuntimeError("disken er full")
        return real_step(run, konsument, *args, **kwargs)

    monkeypatch.setattr(engine, "step", step)
    for konsument_id in ("brutt", "hel"):
        register(fagadmin, konsument_id, {"type": "DYNAMODB"})
    runs = {k: jobs.create_run(store.get_consumer(k), "FULL", False) for k in ("brutt", "hel")}
    sfn = stack.client("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=stack.state_machine_arns["ProvisioningWorkflow"], input=json.dumps(
        {"runs": [{"consumerId": k, "runId": r.id} for k, r in runs.items()]}))["executionArn"]
    deadline = time.monotonic() + 60
    while (status := sfn.describe_execution(executionArn=execution)["status"]) == "RUNNING" \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status == "SUCCEEDED"
    failed, done = (store.get_run(k, r.id) for k, r in runs.items())
    assert failed.status == "FEILET" and "feilet gjentatte ganger" in failed.merknader[-1], failed
    assert done.status == "FULLFØRT", done
    monkeypatch.setattr(engine, "step", real_step)
    assert run(fagadmin, "brutt", modus="FULL")["status"] == "FULLFØRT"  # the consumer is not blocked


def _get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()
