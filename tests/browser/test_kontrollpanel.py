"""The Kontrollpanel in a real browser: log in, filter, deep link, cancel, remove a lock, approve a
quarantined provisioning run, statistics."""

from __future__ import annotations

import json
import time

import pytest

from tests.browser.conftest import login, screenshot
from tests.support.client import Client, changeset, kum

pytestmark = pytest.mark.e2e
LOCK = {"vegobjekttyper": [{"typeId": 83}], "stedfesting": [{"veglenkesekvensNvdbId": 1125775}]}


@pytest.fixture(scope="module")
def olanor(stack) -> Client:
    return Client(stack.url, "olanor", client_name="kum-importen")


@pytest.fixture(scope="module")
def done_id(olanor) -> str:
    changeset_id, status = olanor.run(changeset(registrer=[kum("kum#panel")]))
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET", status
    olanor.run(changeset(registrer=[kum("kum#feil", typeId=424242)]))  # one AVVIST for the charts
    return changeset_id


def test_login_filter_and_deep_link(page, done_id):
    login(page, "olanor")
    page.wait_for_selector("#jobs")
    page.fill("input[name=brukernavnEllerKlient]", "kum-importen")
    page.select_option("select[name=status]", "UTFØRT_OG_ETTERBEHANDLET")
    page.click("form.filters button")
    page.wait_for_function("location.hash.includes('kum-importen')")
    page.wait_for_selector(f"#jobs a[href='#/jobs/view/{done_id}']")
    assert page.locator("#jobs tbody tr").count() == 1
    screenshot(page, "kontrollpanel-endringssett")

    # The link clients give their users opens the detail (after logging in, if need be).
    page.goto(f"/kontrollpanel#/jobs/view/{done_id}")
    page.wait_for_selector("#hendelser")
    assert page.inner_text("#fremdrift") == "UTFØRT_OG_ETTERBEHANDLET"
    assert page.locator("#resultat tbody tr").count() == 1
    events = page.inner_text("#hendelser")
    assert "ExecutionStarted" in events and "ExecutionSucceeded" in events
    screenshot(page, "kontrollpanel-detalj")


def test_deep_link_before_login_returns_to_the_changeset(page, done_id):
    page.goto(f"/kontrollpanel#/jobs/view/{done_id}")
    page.fill("input[name=brukernavn]", "olanor")
    page.click("button[type=submit]")
    page.wait_for_selector("#hendelser")
    assert done_id in page.inner_text("h1")


def test_cancel_a_changeset(page, olanor):
    waiting = olanor.register(changeset(registrer=[kum("kum#avbryt")]))
    login(page, "olanor")
    page.wait_for_selector("#jobs")
    page.goto(f"/kontrollpanel#/jobs/view/{waiting}")
    page.wait_for_selector("button[data-action=kanseller]")
    page.click("button[data-action=kanseller]")
    page.wait_for_function("document.querySelector('#fremdrift')?.innerText === 'KANSELLERT'")
    assert olanor.status(waiting)["fremdrift"] == "KANSELLERT"


def test_remove_a_lock(page, admin):
    r = admin.request("POST", "/rest/v1/lås", data=json.dumps(LOCK))
    assert r.status_code == 201, r.text
    lock_id = r.json()["id"]
    login(page, "systemadmin", "9_system_admin", where="/kontrollpanel#/locks")
    page.wait_for_selector(f"#locks a[href='#/locks/{lock_id}']")
    screenshot(page, "kontrollpanel-laaser")
    page.click(f"#locks a[href='#/locks/{lock_id}']")
    page.click("text=Fjern låsen")
    page.wait_for_selector("text=Låsen er fjernet")
    assert admin.request("GET", f"/rest/v1/lås/{lock_id}").status_code == 404


def _version(nvdb_id: int, versjon: int = 1, **period: str) -> dict:
    return {"id": nvdb_id, "versjon": versjon, "typeId": 83,
            "gyldighetsperiode": {"startdato": "2020-01-01", **period},
            "egenskaper": [{"typeId": 1141, "verdi": [f"kum {nvdb_id}"]}],
            "stedfesting": {"punkt": [{"veglenkesekvensNvdbId": 1125766, "posisjon": 0.5}]}}


def _run(client: Client, body: dict) -> dict:
    r = client.request("POST", "/rest/v1/konsumenter/kopi/kjøringer", data=json.dumps(body))
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 30
    while (report := client.request("GET", f"/rest/v1/konsumenter/kopi/kjøringer/{r.json()['id']}").json())[
            "status"] == "PÅGÅR" and time.monotonic() < deadline:
        time.sleep(0.1)
    return report


def test_approve_a_quarantined_run_and_see_statistics(page, stack, admin, done_id):
    fagadmin = Client(stack.url, "fagadmin", ("5_fagdata_admin",))
    ids = range(7001, 7011)
    assert admin.request("PUT", "/rest/v3/vegobjekter", data=json.dumps(
        {"vegobjekter": [_version(i) for i in ids]})).status_code == 200
    assert fagadmin.request("POST", "/rest/v1/konsumenter", data=json.dumps({
        "id": "kopi", "navn": "Kopi", "utvalg": {"vegobjekttyper": [83]}, "mål": {"type": "DYNAMODB"},
        "sletteterskel": {"antall": 5, "andel": 1.0}})).status_code == 201
    assert _run(fagadmin, {"modus": "FULL"})["status"] == "FULLFØRT"
    assert admin.request("PUT", "/rest/v3/vegobjekter", data=json.dumps(
        {"vegobjekter": [_version(i, 2, sluttdato="2021-01-01") for i in ids]})).status_code == 200
    held = _run(fagadmin, {"modus": "FULL"})
    assert held["status"] == "KARANTENE", held

    login(page, "fagadmin", "5_fagdata_admin", where="/kontrollpanel#/provisioning")
    page.wait_for_selector(f"a[href='#/provisioning/kopi/{held['id']}']")
    page.click(f"a[href='#/provisioning/kopi/{held['id']}']")
    page.wait_for_selector("#run-status")
    assert page.inner_text("#run-status") == "KARANTENE"
    page.click("text=Godkjenn slettingene")
    page.wait_for_selector("text=Kjøringen er godkjent")
    assert page.inner_text("#run-status") == "FULLFØRT"
    assert fagadmin.request("GET", f"/rest/v1/konsumenter/kopi/kjøringer/{held['id']}").json()["slettet"] == 10

    page.goto("/kontrollpanel#/stats")
    page.wait_for_selector("#charts svg")
    assert page.locator("#charts figure").count() == 4
    assert page.locator("#charts rect.bar").count() >= 4  # outcomes, durations, provisioning writes
    screenshot(page, "kontrollpanel-statistikk")
    page.goto("/kontrollpanel#/services")
    page.wait_for_selector("text=Tjenester og utgaver")


def test_statistics_and_event_log_follow_who_may_read(stack, olanor, done_id):
    """The panels' own read endpoints (no browser): a user sees their own changesets only."""
    mine = olanor.request("GET", "/rest/v1/statistikk").json()
    outcomes = {k: sum(d.get(k, 0) for d in mine["perDag"]) for k in ("UTFØRT_OG_ETTERBEHANDLET", "AVVIST")}
    assert outcomes["UTFØRT_OG_ETTERBEHANDLET"] >= 1 and outcomes["AVVIST"] >= 1
    finished = sum(v for d in mine["perDag"] for k, v in d.items() if k not in ("dag", "PÅGÅR"))
    assert sum(b["antall"] for b in mine["behandlingstid"]) == finished
    assert mine["leveranser"] == []  # consumers are for administrators

    kari = Client(stack.url, "kari")
    assert kari.request("GET", "/rest/v1/statistikk").json()["antallEndringssett"] == 0
    assert kari.request("GET", f"/rest/v1/endringssett/{done_id}/hendelser").status_code == 404
    events = olanor.request("GET", f"/rest/v1/endringssett/{done_id}/hendelser").json()["hendelser"]
    assert events[0]["type"] == "ExecutionStarted" and events[-1]["type"] == "ExecutionSucceeded"
