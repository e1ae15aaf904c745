"""The Kontrollpanel in a real browser: log in (OIDC), filter, page, deep link, cancel, restart, remove a
lock, approve a quarantined provisioning run, a master's changes since migration, statistics, system
status."""

from __future__ import annotations

import json
import time

import pytest

from tests.browser.conftest import login, screenshot
from tests.e2e.test_services import Owner
from tests.support.client import Client, changeset, kum
from vegskriv.store import locks as lock_store

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
    # The unfiltered table (with the AVVIST one too) stays until the filtered answer is rendered:
    # wait for that answer, not for a link both tables have.
    page.wait_for_function("document.getElementById('treff')?.textContent === '1 treff'")
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


def test_oidc_login_refuses_a_wrong_password_and_renews_an_expired_token(page, done_id):
    page.goto("/kontrollpanel#/jobs")
    page.fill("input[name=brukernavn]", "olanor")
    page.fill("input[name=passord]", "feil")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Innlogging feilet")

    login(page, "olanor")
    page.wait_for_selector("#jobs")
    assert "olanor (0_bruker_fagdata)" in page.inner_text("#who")
    # A token the API refuses (as an expired one is): the panel renews it with the refresh token.
    page.evaluate("sessionStorage.setItem('vegskriv.token', 'utløpt.token.x')")
    page.goto(f"/kontrollpanel#/jobs/view/{done_id}")
    page.wait_for_selector("#hendelser")
    assert page.evaluate("sessionStorage.getItem('vegskriv.token')").count(".") == 2
    assert page.evaluate("sessionStorage.getItem('vegskriv.token')") != "utløpt.token.x"


def test_deep_link_before_login_returns_to_the_changeset(page, done_id):
    login(page, "olanor", where=f"/kontrollpanel#/jobs/view/{done_id}")
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
    login(page, "systemadmin", where="/kontrollpanel#/locks")
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

    login(page, "fagadmin", where="/kontrollpanel#/provisioning")
    page.wait_for_selector(f"a[href='#/provisioning/kopi/{held['id']}']")
    assert page.locator("tr", has_text=held["id"]).inner_text().count("sletteterskelen")  # why it is held
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


def test_restart_a_waiting_changeset(page, olanor, admin):
    r = admin.request("POST", "/rest/v1/lås", data=json.dumps({  # where kum() is placed
        "vegobjekttyper": [{"typeId": 83}], "stedfesting": [{"veglenkesekvensNvdbId": 1125766}]}))
    assert r.status_code == 201, r.text
    lock_id = r.json()["id"]
    waiting = olanor.register(changeset(registrer=[kum("kum#restart")]))
    olanor.start(waiting)
    assert olanor.wait(waiting, until={"VENTER"}) == "VENTER"
    time.sleep(0.5)  # let it park on its task token
    lock_store.release(lock_id)  # gone without waking anyone: only Start på nytt resumes it before 30 s
    login(page, "olanor", where=f"/kontrollpanel#/jobs/view/{waiting}")
    page.wait_for_selector("button[data-action=restart]")
    page.click("button[data-action=restart]")
    page.wait_for_selector("text=Start på nytt: 202")
    assert olanor.wait(waiting, until={"UTFØRT_OG_ETTERBEHANDLET"}, timeout=15) == "UTFØRT_OG_ETTERBEHANDLET"
    page.reload()
    page.wait_for_function("document.querySelector('#fremdrift')?.innerText === 'UTFØRT_OG_ETTERBEHANDLET'")


def test_page_through_the_changeset_list(page, stack):
    pager = Client(stack.url, "sidebla")
    ids = [pager.register(changeset(registrer=[kum(f"kum#side{i}")])) for i in range(23)]
    login(page, "sidebla")
    page.wait_for_selector("#jobs")
    assert page.inner_text("#treff") == "23 treff"
    first = page.eval_on_selector_all("#jobs tbody tr td:first-child", "els => els.map(e => e.innerText)")
    assert len(first) == 20
    page.click("text=Neste →")
    page.wait_for_function("location.hash.includes('start=21')")
    page.wait_for_function("document.querySelectorAll('#jobs tbody tr').length === 3")
    rest = page.eval_on_selector_all("#jobs tbody tr td:first-child", "els => els.map(e => e.innerText)")
    assert sorted(first + rest) == sorted(ids)  # every changeset once, on one of the two pages
    assert "21–23 av 23" in page.inner_text("main")
    page.click("text=← Forrige")
    page.wait_for_function("document.querySelectorAll('#jobs tbody tr').length === 20")


def test_services_view_shows_what_changed_in_the_master_since_migration(page, stack, admin):
    a, b = Owner(stack, admin, "tjenesteadm"), Owner(stack, admin, "tjenesteadm")
    master = a.master("T1")
    assert b.from_master(master).status_code == 201
    b.ok("POST", "/tjenester/B1/utgaver/1/migrer")
    a.ok("PATCH", "/tjenester/T1/utgaver/1", {"navn": "Kumregistrering"})
    a.ok("POST", "/tjenester/T1/utgaver/1/migrer")

    login(page, "tjenesteadm", where="/kontrollpanel#/services")
    edition = f"#/services/{b.kode}/B1/1"
    page.wait_for_selector(f"a[href='{edition}']")
    page.click(f"a[href='{edition}']")
    page.wait_for_selector("#diff")
    assert "Ja" in page.inner_text("main")
    diff = json.loads(page.inner_text("#diff"))
    assert {"felt": "navn", "migrertVerdi": "Utgave 1", "gjeldendeVerdi": "Kumregistrering"} in diff


def test_system_status(page, admin, olanor):
    lock_id = admin.request("POST", "/rest/v1/lås", data=json.dumps(LOCK)).json()["id"]
    try:
        login(page, "olanor", where="/kontrollpanel#/status")
        page.wait_for_selector("text=403")  # administrators only
        page.click("text=Logg ut")
        page.fill("input[name=brukernavn]", "systemadmin")
        page.fill("input[name=passord]", "systemadmin")
        page.click("button[type=submit]")
        page.wait_for_selector("text=systemadmin (9_system_admin)")
        page.goto("/kontrollpanel#/status")
        page.wait_for_selector("#queues")
        assert page.inner_text("#api-status") == "ok"
        assert page.inner_text("#datakatalog") == "2.38"
        queues = page.eval_on_selector_all("#queues tbody tr", "els => els.map(e => e.innerText)")
        assert len(queues) == 4 and all("ikke konfigurert" not in q for q in queues), queues
        assert page.locator("#executions tbody tr").count() == 2
        status = admin.request("GET", "/rest/v1/systemstatus").json()
        assert int(page.inner_text("#lock-count")) == status["låser"]["låser"] >= 1
        screenshot(page, "kontrollpanel-systemstatus")
    finally:
        admin.request("DELETE", f"/rest/v1/lås/{lock_id}")
