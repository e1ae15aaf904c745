"""`vegskriv provisjoner` and the provisioning paths test_provisioning.py leaves out, on the local
stack over HTTP: the kommune subset, PATCH and DELETE of a consumer, an unreachable HTTP consumer,
items an HTTP consumer refuses, quarantine released from the command line.

Each test takes its own object type, so the counts of one do not depend on another's objects.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.client import Client
from vegskriv.auth import issue_dev_token
from vegskriv.local.cli import main
from vegskriv.local.consumer import Copy, make_server
from vegskriv.local.stack import LocalStack
from vegskriv.store import provisioning as store

pytestmark = pytest.mark.e2e
IN_301, IN_5001 = 1125766, 1125775  # sequences of the seeded network in kommune 301 (Oslo) and 5001


@pytest.fixture(scope="module")
def stack():
    with LocalStack(port=0, env={"POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running


@pytest.fixture(scope="module")
def fagadmin(stack) -> Client:
    return Client(stack.url, "fagadmin", ("5_fagdata_admin",))


@pytest.fixture
def vegskriv(stack, capsys, monkeypatch):
    """The console script in-process, as the consumer's administrator."""
    monkeypatch.setenv("VEGSKRIV_URL", stack.url)
    monkeypatch.setenv("VEGSKRIV_TOKEN", issue_dev_token("fagadmin", ["5_fagdata_admin"]))

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["provisjoner", *argv, "--interval", "0.1"])
        out, err = capsys.readouterr()
        return code, out, err
    return run


class Refusing(Copy):
    """The reference consumer, refusing the ids in ``refuse`` (ok: false) until they are taken out."""

    def __init__(self, path: str):
        super().__init__(path)
        self.refuse: set[int] = set()

    def apply(self, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        taken = [c for c in changes if int(c["id"]) not in self.refuse]
        refused = [{"id": c["id"], "ok": False, "melding": "låst i fagsystemet"}
                   for c in changes if int(c["id"]) in self.refuse]
        return super().apply(taken) + refused


@pytest.fixture
def refusing(tmp_path) -> Iterator[tuple[str, Refusing]]:
    copy = Refusing(str(tmp_path / "kopi.db"))
    server = make_server("127.0.0.1", 0, copy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", copy
    server.shutdown()
    server.server_close()


def version(type_id: int, nvdb_id: int, sequence: int = IN_301, versjon: int = 1, **period: str) -> dict[str, Any]:
    return {"id": nvdb_id, "versjon": versjon, "typeId": type_id,
            "gyldighetsperiode": {"startdato": "2020-01-01", **period},
            "egenskaper": [{"typeId": 1141, "verdi": [f"objekt {nvdb_id} v{versjon}"]}],
            "stedfesting": {"punkt": [{"veglenkesekvensNvdbId": sequence, "posisjon": 0.5}]}}


def load(admin: Client, versions: list[dict[str, Any]]) -> None:
    r = admin.request("PUT", "/rest/v3/vegobjekter", data=json.dumps({"vegobjekter": versions}))
    assert r.status_code == 200, r.text


def register(client: Client, konsument_id: str, type_id: int, mål: dict[str, Any], **more: Any) -> None:
    r = client.request("POST", "/rest/v1/konsumenter", data=json.dumps({
        "id": konsument_id, "navn": "Test", "utvalg": {"vegobjekttyper": [type_id], **more.pop("utvalg", {})},
        "mål": mål, **more}))
    assert r.status_code == 201, r.text


def report(client: Client, konsument_id: str, out: str) -> dict[str, Any]:
    """The run the command reported on (its id is on the report's first line)."""
    run_id = out.split("kjøring ", 1)[1].split()[0]
    answer = client.request("GET", f"/rest/v1/konsumenter/{konsument_id}/kjøringer/{run_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def held_ids(konsument_id: str) -> set[int]:
    return {i for i, _ in store.DynamoTarget(konsument_id).held(None, 1000)[0]}


def test_a_consumer_of_one_kommune_gets_only_that_kommunes_objects(admin, fagadmin, vegskriv) -> None:
    load(admin, [version(901, i, IN_301) for i in range(7001, 7004)]
         + [version(901, i, IN_5001) for i in range(7101, 7105)])
    register(fagadmin, "oslo", 901, {"type": "DYNAMODB"}, utvalg={"kommuner": [301]})
    code, out, _ = vegskriv("--konsument", "oslo", "--full")
    assert code == 0, out
    assert held_ids("oslo") == {7001, 7002, 7003}
    assert report(fagadmin, "oslo", out)["opprettet"] == 3

    # An object moved out of the kommune is deleted at the consumer; one moved in is created.
    load(admin, [version(901, 7003, IN_5001, versjon=2), version(901, 7101, IN_301, versjon=2)])
    r = fagadmin.request("PATCH", "/rest/v1/konsumenter/oslo", data=json.dumps({
        "sletteterskel": {"antall": 10, "andel": 1.0}}))
    assert r.status_code == 200, r.text
    code, out, _ = vegskriv("--konsument", "oslo", "--full")
    assert code == 0, out
    assert held_ids("oslo") == {7001, 7002, 7101}


def test_patch_changes_a_consumer_and_delete_removes_it_with_its_copy(admin, fagadmin, vegskriv) -> None:
    load(admin, [version(902, i) for i in range(7201, 7206)])
    register(fagadmin, "endres", 902, {"type": "DYNAMODB"})
    r = fagadmin.request("PATCH", "/rest/v1/konsumenter/endres", data=json.dumps({
        "navn": "Nytt navn", "utvalg": {"vegobjekttyper": [902], "kommuner": [5001]},
        "sletteterskel": {"antall": 1, "andel": 0.5}}))
    assert r.status_code == 200, r.text
    changed = fagadmin.request("GET", "/rest/v1/konsumenter/endres").json()
    assert (changed["navn"], changed["utvalg"]["kommuner"], changed["sletteterskel"]) == (
        "Nytt navn", [5001], {"antall": 1, "andel": 0.5})
    assert changed["mål"] == {"type": "DYNAMODB", "url": None} and changed["eier"] == "fagadmin"

    r = fagadmin.request("PATCH", "/rest/v1/konsumenter/endres", data=json.dumps({"mål": {"type": "HTTP"}}))
    assert r.status_code == 400 and "mål.url" in r.json()["message"]
    for url in ("http://kopi.example.org/api", "http://10.0.0.7:3200"):  # road data never leaves unencrypted
        r = fagadmin.request("PATCH", "/rest/v1/konsumenter/endres", data=json.dumps({"mål": {"type": "HTTP",
                                                                                            "url": url}}))
        assert r.status_code == 400 and "https" in r.json()["message"], url
    assert fagadmin.request("GET", "/rest/v1/konsumenter/endres").json()["mål"]["type"] == "DYNAMODB"
    assert fagadmin.request("PATCH", "/rest/v1/konsumenter/finnes-ikke", data="{}").status_code == 404
    other = Client(fagadmin.base, "annenadmin", ("5_fagdata_admin",))
    assert other.request("PATCH", "/rest/v1/konsumenter/endres", data='{"navn": "x"}').status_code == 404

    fagadmin.request("PATCH", "/rest/v1/konsumenter/endres", data=json.dumps({
        "utvalg": {"vegobjekttyper": [902]}}))
    code, out, _ = vegskriv("--konsument", "endres", "--full")
    assert code == 0 and held_ids("endres") == set(range(7201, 7206)), out

    assert other.request("DELETE", "/rest/v1/konsumenter/endres").status_code == 404
    r = fagadmin.request("DELETE", "/rest/v1/konsumenter/endres")
    assert r.status_code == 200 and r.json() == {"id": "endres", "fjernet": True}
    assert fagadmin.request("GET", "/rest/v1/konsumenter/endres").status_code == 404
    assert fagadmin.request("GET", "/rest/v1/konsumenter/endres/kjøringer").status_code == 404
    assert held_ids("endres") == set() and store.list_runs("endres") == []
    register(fagadmin, "endres", 902, {"type": "DYNAMODB"})  # the id is free again, with no history
    assert fagadmin.request("GET", "/rest/v1/konsumenter/endres").json()["vannmerke"] is None


def test_an_unreachable_http_consumer_ends_the_run_feilet_with_the_reason(fagadmin, vegskriv) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    register(fagadmin, "borte", 903, {"type": "HTTP", "url": f"http://127.0.0.1:{port}"})
    code, out, _ = vegskriv("--konsument", "borte", "--full")
    assert code == 1, out
    assert out.startswith("FEILET")
    assert f"Konsumenten svarte ikke etter kontrakten: http://127.0.0.1:{port}/objekter" in out
    assert "Connection refused" in out
    run = report(fagadmin, "borte", out)
    assert run["status"] == "FEILET" and run["ferdig"]
    assert fagadmin.request("GET", "/rest/v1/konsumenter/borte").json()["vannmerke"] is None


def test_items_an_http_consumer_refuses_are_sent_again_next_run(admin, fagadmin, vegskriv, refusing) -> None:
    url, copy = refusing
    load(admin, [version(904, i) for i in range(7301, 7311)])
    register(fagadmin, "nekter", 904, {"type": "HTTP", "url": url})
    copy.refuse = {7303, 7307}
    code, out, _ = vegskriv("--konsument", "nekter", "--full")
    assert code == 7, out  # completed, but not everything arrived
    run = report(fagadmin, "nekter", out)
    assert (run["status"], run["opprettet"], run["feilet"]) == ("FULLFØRT", 8, 2)
    assert "7303  låst i fagsystemet" in out and "7307  låst i fagsystemet" in out
    log = fagadmin.request("GET", f"/rest/v1/konsumenter/nekter/kjøringer/{run['id']}/logg").json()["logg"]
    assert [e for e in log if e["handling"] == "FEILET"] == [
        {"id": 7303, "handling": "FEILET", "melding": "låst i fagsystemet"},
        {"id": 7307, "handling": "FEILET", "melding": "låst i fagsystemet"}]
    assert copy.get(7303) is None

    copy.refuse = set()
    code, out, _ = vegskriv("--konsument", "nekter")  # the nightly kind of run: DELTA
    assert code == 0, out
    again = report(fagadmin, "nekter", out)
    assert (again["opprettet"], again["feilet"]) == (2, 0)
    assert copy.get(7303)["id"] == 7303 and copy.get(7307)["id"] == 7307


def test_quarantine_from_the_command_line_and_godkjenn(admin, fagadmin, vegskriv) -> None:
    load(admin, [version(905, i) for i in range(7401, 7405)])
    register(fagadmin, "vakt", 905, {"type": "DYNAMODB"}, sletteterskel={"antall": 1, "andel": 1.0})
    assert vegskriv("--konsument", "vakt", "--full")[0] == 0
    load(admin, [version(905, i, versjon=2, sluttdato="2021-01-01") for i in range(7401, 7404)])

    code, out, _ = vegskriv("--konsument", "vakt", "--full", "--tørrkjøring")
    assert code == 0 and "Ville gått i KARANTENE" in out, out
    code, out, _ = vegskriv("--konsument", "vakt", "--full")
    assert code == 3, out
    run = report(fagadmin, "vakt", out)
    assert out.startswith("KARANTENE") and "3 slettinger venter på godkjenning" in out
    approve = f"vegskriv provisjoner godkjenn --konsument vakt --kjøring {run['id']}"
    assert approve in out
    assert held_ids("vakt") == set(range(7401, 7405))

    code, out, _ = vegskriv(*approve.split()[2:])
    assert code == 0, out
    assert out.startswith("FULLFØRT") and report(fagadmin, "vakt", out)["slettet"] == 3
    assert held_ids("vakt") == {7404}


def test_usage_and_api_errors_are_exit_codes(fagadmin, vegskriv) -> None:
    code, _, err = vegskriv("godkjenn", "--konsument", "vakt")
    assert code == 2 and "mangler --kjøring" in err
    code, _, err = vegskriv("--konsument", "finnes-ikke")
    assert code == 5 and "404" in err and "konsumenter/finnes-ikke finnes ikke" in err
