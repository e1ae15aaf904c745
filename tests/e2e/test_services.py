"""Submission services and masters over HTTP: one table-driven test per master rule (the allowed case and
each way to break it), the migration diff after two master changes, and who may see an owner's editions."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.support.client import Client
from vegskriv.local.stack import LocalStack

pytestmark = pytest.mark.e2e
ROOT = "/rest/v1/tjenesteeiere"
_codes = itertools.count(1)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(port=0, env={"POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running


class Owner:
    """A fresh service owner whose one administrator acts through ``client``."""

    def __init__(self, stack: LocalStack, admin: Client, user: str):
        self.kode = f"EIER{next(_codes)}"
        self.client = Client(stack.url, user)
        r = admin.request("POST", ROOT, data=json.dumps({"kode": self.kode, "navn": f"Eier {self.kode}",
                                                         "administratorer": [user]}))
        assert r.status_code == 201, r.text

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.client.request(method, f"{ROOT}/{self.kode}{path}",
                                   data=None if body is None else json.dumps(body))

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        r = self.call(method, path, body)
        assert r.status_code == status, r.text
        return r.json() if r.text else None

    def service(self, tk: str, tjenestetype: str = "INNSENDING") -> None:
        self.ok("POST", "/tjenester", {"tjenestekode": tk, "navn": f"Tjeneste {tk}", "tjenestetype": tjenestetype},
                201)

    def edition(self, tk: str, uk: str, **changes: Any) -> str:
        self.ok("POST", f"/tjenester/{tk}/utgaver", edition_body(uk, **changes), 201)
        return f"/tjenester/{tk}/utgaver/{uk}"

    def published(self, tk: str, uk: str = "1", tjenestetype: str = "INNSENDING", **changes: Any) -> str:
        self.service(tk, tjenestetype)
        path = self.edition(tk, uk, **changes)
        self.ok("POST", f"{path}/migrer")
        return path

    def master(self, tk: str, uk: str = "1", **changes: Any) -> dict[str, str]:
        path = self.published(tk, uk, **changes)
        self.ok("POST", f"{path}/master")
        return {"eier": self.kode, "tjenestekode": tk, "utgavekode": uk}

    def from_master(self, master: dict[str, str], tk: str | None = "B1", uk: str = "1", **extra: Any
                    ) -> requests.Response:
        body = {"master": master, "utgavekode": uk, **extra}
        if tk is not None:
            body["tjenestekode"] = tk
        return self.call("POST", "/utgaver-fra-master", body)


def edition_body(uk: str, **changes: Any) -> dict[str, Any]:
    body = {"utgavekode": uk, "navn": f"Utgave {uk}",
            "skjema": {"vegobjekttyper": [83], "operasjoner": ["registrer", "oppdater"],
                       "påkrevdeEgenskaper": {"83": [1141]}, "datakatalogversjon": "2.38"},
            "vedleggstyper": [{"navn": "Foto_kum", "filtyper": ["jpg"], "maksStørrelseMB": 5, "minAntall": 0,
                               "maksAntall": 3}]}
    return {**body, **changes}


def refused(r: requests.Response, rule: int) -> None:
    assert r.status_code == 409, r.text
    assert r.json()["message"].startswith(f"Regel {rule} ("), r.text


@pytest.fixture
def a(stack: LocalStack, admin: Client) -> Owner:
    return Owner(stack, admin, "anna")


@pytest.fixture
def b(stack: LocalStack, admin: Client) -> Owner:
    return Owner(stack, admin, "bjorn")


# --- rule 1: only submission services ---------------------------------------------------------------


@pytest.mark.parametrize("tjenestetype, status", [("INNSENDING", 200), ("MELDING", 409)])
def test_rule_1_only_submission_services_become_masters(a: Owner, tjenestetype: str, status: int) -> None:
    path = a.published("T1", tjenestetype=tjenestetype)
    r = a.call("POST", f"{path}/master")
    if status == 409:
        refused(r, 1)
    else:
        assert r.status_code == 200 and r.json()["master"] is True


# --- rule 2: master only when complete, never at creation --------------------------------------------


def test_rule_2_a_complete_migrated_edition_becomes_master_and_is_listed(a: Owner) -> None:
    master = a.master("T1")
    r = a.client.request("GET", "/rest/v1/mastertjenester")
    assert r.status_code == 200, r.text
    listed = r.json()
    assert {"eier": a.kode, "tjenestekode": "T1", "utgavekode": "1", "tjenestenavn": "Tjeneste T1",
            "navn": "Utgave 1", "kunUnderskjema": False} in listed
    assert master["eier"] == a.kode


@pytest.mark.parametrize("break_it", ["master-at-creation", "master-by-patch", "not-migrated", "incomplete-draft"])
def test_rule_2_refusals(a: Owner, break_it: str) -> None:
    a.service("T1")
    if break_it == "master-at-creation":
        refused(a.call("POST", "/tjenester/T1/utgaver", edition_body("1", master=True)), 2)
        return
    path = a.edition("T1", "1")
    if break_it == "master-by-patch":
        refused(a.call("PATCH", path, {"master": True}), 2)
        return
    if break_it == "incomplete-draft":
        a.ok("POST", f"{path}/migrer")
        a.ok("PATCH", path, {"skjema": {"vegobjekttyper": [83], "operasjoner": []}})
    refused(a.call("POST", f"{path}/master"), 2)
    assert a.ok("GET", path)["master"] is False


# --- rule 3: a derived edition edits only its codes, transfer method and validity -------------------


def test_rule_3_derived_edition_takes_names_and_defaults_to_the_download_queue(a: Owner, b: Owner) -> None:
    master = a.master("T1")
    r = b.from_master(master)
    assert r.status_code == 201, r.text
    edition = r.json()["utgave"]
    assert edition["definisjon"]["navn"] == "Utgave 1" and edition["oversendingsmetode"] == {"type": "NEDLASTINGSKØ"}
    assert b.ok("GET", "/tjenester")[0]["navn"] == "Tjeneste T1"
    changed = b.ok("PATCH", "/tjenester/B1/utgaver/1", {
        "oversendingsmetode": {"type": "PUSH", "url": "https://mottak.example/vegskriv"},
        "gyldighetsperiode": {"fra": "2025-01-01", "til": "2030-12-31"}})
    assert changed["oversendingsmetode"]["type"] == "PUSH" and changed["gyldighetsperiode"]["fra"] == "2025-01-01"


@pytest.mark.parametrize("change", [
    {"navn": "Mitt navn"}, {"skjema": {"vegobjekttyper": [95]}}, {"vedleggstyper": []}, {"kunUnderskjema": True},
    {"underskjema": []}, {"navn": "x", "gyldighetsperiode": {"fra": "2025-01-01"}},
], ids=["navn", "skjema", "vedleggstyper", "kunUnderskjema", "underskjema", "navn-with-allowed"])
def test_rule_3_derived_edition_refuses_other_changes(a: Owner, b: Owner, change: dict[str, Any]) -> None:
    assert b.from_master(a.master("T1")).status_code == 201
    refused(b.call("PATCH", "/tjenester/B1/utgaver/1", change), 3)
    assert b.ok("GET", "/tjenester/B1/utgaver/1")["definisjon"]["navn"] == "Utgave 1"


def test_rule_3_a_derived_edition_is_no_master_and_its_service_takes_no_own_editions(a: Owner, b: Owner) -> None:
    assert b.from_master(a.master("T1")).status_code == 201
    b.ok("POST", "/tjenester/B1/utgaver/1/migrer")
    refused(b.call("POST", "/tjenester/B1/utgaver/1/master"), 3)
    refused(b.call("POST", "/tjenester/B1/utgaver", edition_body("2")), 3)


def test_rule_3_a_derived_edition_changes_its_codes(a: Owner, b: Owner) -> None:
    assert b.from_master(a.master("T1")).status_code == 201
    b.ok("POST", "/tjenester/B1/utgaver/1/migrer")
    renamed = b.ok("PATCH", "/tjenester/B1/utgaver/1", {"utgavekode": "2025"})
    assert renamed["utgavekode"] == "2025" and [v["versjon"] for v in renamed["versjoner"]] == [1]
    assert b.call("GET", "/tjenester/B1/utgaver/1").status_code == 404
    # A new service code renames the service the edition is in.
    moved = b.ok("PATCH", "/tjenester/B1/utgaver/2025", {"tjenestekode": "KUM", "utgavekode": "3"})
    assert (moved["tjenestekode"], moved["utgavekode"], moved["versjoner"][0]["versjon"]) == ("KUM", "3", 1)
    assert [s["tjenestekode"] for s in b.ok("GET", "/tjenester")] == ["KUM"]
    assert [e["utgavekode"] for e in b.ok("GET", "/tjenester/KUM/utgaver")] == ["3"]
    assert b.call("GET", "/tjenester/B1/utgaver/2025").status_code == 404
    assert b.ok("POST", "/tjenester/KUM/utgaver/3/migrer")["versjon"]["versjon"] == 2
    # The master knows it under its new codes (rule 7 names it), and it is still one per master (rule 5).
    r = a.call("DELETE", "/tjenester/T1/utgaver/1/master")
    refused(r, 7)
    assert f"{b.kode}/KUM/3" in r.json()["message"]
    refused(b.from_master({"eier": a.kode, "tjenestekode": "T1", "utgavekode": "1"}, tk=None, uk="9"), 5)
    b.ok("DELETE", "/tjenester/KUM/utgaver/3", status=204)
    assert a.ok("DELETE", "/tjenester/T1/utgaver/1/master")["master"] is False


def test_rule_3_a_derived_sub_edition_keeps_its_place_in_the_form_set_when_renamed(a: Owner, b: Owner) -> None:
    a.published("S1", kunUnderskjema=True)
    a.ok("POST", "/tjenester/S1/utgaver/1/master")
    a.service("T1")
    a.edition("T1", "1", underskjema=[{"tjenestekode": "S1", "utgavekode": "1"}])
    a.ok("POST", "/tjenester/T1/utgaver/1/migrer")
    a.ok("POST", "/tjenester/T1/utgaver/1/master")
    assert b.from_master({"eier": a.kode, "tjenestekode": "T1", "utgavekode": "1"}).status_code == 201
    b.ok("PATCH", "/tjenester/S1/utgaver/1", {"tjenestekode": "S9", "utgavekode": "7"})
    assert b.ok("GET", "/tjenester/B1/utgaver/1")["definisjon"]["underskjema"] == [
        {"tjenestekode": "S9", "utgavekode": "7"}]
    r = b.call("DELETE", "/tjenester/S9/utgaver/7")
    assert r.status_code == 409 and "B1/1" in r.json()["message"], r.text


@pytest.mark.parametrize("change", [{"utgavekode": "1"}, {"tjenestekode": "EGEN"}, {"tjenestekode": "EGEN",
                                                                                   "utgavekode": "5"},
                                    {"tjenestekode": "NY", "utgavekode": "1"}])
def test_rule_3_new_codes_that_are_taken_are_409(a: Owner, b: Owner, change: dict[str, str]) -> None:
    first = a.master("T1")
    a.edition("T1", "2")
    a.ok("POST", "/tjenester/T1/utgaver/2/migrer")
    a.ok("POST", "/tjenester/T1/utgaver/2/master")
    assert b.from_master(first).status_code == 201
    assert b.from_master({**first, "utgavekode": "2"}, tk=None, uk="2").status_code == 201
    b.service("EGEN")
    r = b.call("PATCH", "/tjenester/B1/utgaver/2", change)
    assert r.status_code == 409 and "kode" in r.json()["message"], r.text
    assert [e["utgavekode"] for e in b.ok("GET", "/tjenester/B1/utgaver")] == ["1", "2"]


def test_rule_3_concurrent_renames_to_the_same_codes_make_no_duplicates(a: Owner, b: Owner) -> None:
    first = a.master("T1")
    a.edition("T1", "2")
    a.ok("POST", "/tjenester/T1/utgaver/2/migrer")
    a.ok("POST", "/tjenester/T1/utgaver/2/master")
    assert b.from_master(first).status_code == 201
    assert b.from_master({**first, "utgavekode": "2"}, tk=None, uk="2").status_code == 201
    barrier = threading.Barrier(2)

    def rename(uk: str) -> int:
        barrier.wait()
        return b.call("PATCH", f"/tjenester/B1/utgaver/{uk}", {"utgavekode": "SAMME"}).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(rename, ["1", "2"]))
    assert statuses == [200, 409]
    assert sorted(e["utgavekode"] for e in b.ok("GET", "/tjenester/B1/utgaver")) in (["1", "SAMME"], ["2", "SAMME"])


def test_own_editions_keep_their_codes(a: Owner) -> None:
    path = a.published("T1")
    r = a.call("PATCH", path, {"utgavekode": "2"})
    assert r.status_code == 409 and "utgavekode" in r.json()["message"], r.text
    assert a.ok("GET", path)["utgavekode"] == "1"


# --- rule 4: settings from the master at migration time only -----------------------------------------


def test_rule_4_master_changes_reach_a_derived_edition_only_when_it_migrates(a: Owner, b: Owner) -> None:
    master = a.master("T1")
    assert b.from_master(master).status_code == 201
    derived = "/tjenester/B1/utgaver/1"
    first = b.ok("POST", f"{derived}/migrer")["versjon"]
    assert first["masterversjon"] == 1 and first["definisjon"]["skjema"]["vegobjekttyper"] == [83]
    assert b.ok("GET", derived)["masterEndretSidenMigrering"] is False

    a.ok("PATCH", "/tjenester/T1/utgaver/1", {"skjema": {"vegobjekttyper": [83, 95], "operasjoner": ["registrer"],
                                                         "datakatalogversjon": "2.38"}})
    assert b.ok("GET", derived)["masterEndretSidenMigrering"] is False  # a draft is not the master's settings
    a.ok("POST", "/tjenester/T1/utgaver/1/migrer")
    shown = b.ok("GET", derived)
    assert shown["masterEndretSidenMigrering"] is True
    assert shown["versjoner"][-1]["definisjon"]["skjema"]["vegobjekttyper"] == [83]  # still what it took

    second = b.ok("POST", f"{derived}/migrer")["versjon"]
    assert second["versjon"] == 2 and second["masterversjon"] == 2
    assert second["definisjon"]["skjema"]["vegobjekttyper"] == [83, 95]
    shown = b.ok("GET", derived)
    assert shown["masterEndretSidenMigrering"] is False and shown["endringerSidenMigrering"] == []
    assert [v["versjon"] for v in shown["versjoner"]] == [1, 2]


def test_migration_diff_after_two_master_changes(a: Owner, b: Owner) -> None:
    master = a.master("T1")
    assert b.from_master(master).status_code == 201
    derived = "/tjenester/B1/utgaver/1"
    b.ok("POST", f"{derived}/migrer")
    a.ok("PATCH", "/tjenester/T1/utgaver/1", {"navn": "Kumregistrering"})
    a.ok("POST", "/tjenester/T1/utgaver/1/migrer")
    a.ok("PATCH", "/tjenester/T1/utgaver/1", {"vedleggstyper": [
        {"navn": "Foto_kum", "filtyper": ["jpg", "png"], "maksStørrelseMB": 5, "minAntall": 1, "maksAntall": 3}]})
    a.ok("POST", "/tjenester/T1/utgaver/1/migrer")

    shown = b.ok("GET", derived)
    assert shown["masterEndretSidenMigrering"] is True
    assert shown["endringerSidenMigrering"] == [
        {"felt": "navn", "migrertVerdi": "Utgave 1", "gjeldendeVerdi": "Kumregistrering"},
        {"felt": "vedleggstyper.Foto_kum.filtyper", "migrertVerdi": ["jpg"], "gjeldendeVerdi": ["jpg", "png"]},
        {"felt": "vedleggstyper.Foto_kum.minAntall", "migrertVerdi": 0, "gjeldendeVerdi": 1},
    ]


# --- rule 5: one edition per master per owner ----------------------------------------------------------


def test_rule_5_a_second_edition_from_the_same_master_service_goes_into_the_existing_service(
        a: Owner, b: Owner) -> None:
    first = a.master("T1")
    a.edition("T1", "2")
    a.ok("POST", "/tjenester/T1/utgaver/2/migrer")
    a.ok("POST", "/tjenester/T1/utgaver/2/master")
    assert b.from_master(first).status_code == 201
    r = b.from_master({**first, "utgavekode": "2"}, tk=None, uk="2")
    assert r.status_code == 201, r.text
    assert r.json()["utgave"]["tjenestekode"] == "B1"
    assert [s["tjenestekode"] for s in b.ok("GET", "/tjenester")] == ["B1"]
    refused(b.from_master({**first, "utgavekode": "2"}, tk="B2", uk="3"), 5)  # not another service


@pytest.mark.parametrize("break_it", ["twice", "twice-other-codes", "own-owner"])
def test_rule_5_refusals(a: Owner, b: Owner, break_it: str) -> None:
    master = a.master("T1")
    if break_it == "own-owner":
        refused(a.from_master(master, tk="T9"), 5)
        return
    assert b.from_master(master).status_code == 201
    refused(b.from_master(master, tk="B1" if break_it == "twice" else "B7", uk="2"), 5)


# --- rule 6: form sets ---------------------------------------------------------------------------------


def test_rule_6_form_set_masters_and_their_sub_editions(a: Owner, b: Owner) -> None:
    sub = a.published("S1", kunUnderskjema=True, navn="Vedlegg til kum")
    a.service("T1")
    main = a.edition("T1", "1", underskjema=[{"tjenestekode": "S1", "utgavekode": "1"}])
    a.ok("POST", f"{main}/migrer")
    refused(a.call("POST", f"{main}/master"), 6)  # its sub-edition is no master yet
    a.ok("POST", f"{sub}/master")
    assert a.ok("POST", f"{main}/master")["master"] is True

    listed = a.client.request("GET", "/rest/v1/mastertjenester").json()
    mine = [(m["tjenestekode"], m["utgavekode"]) for m in listed if m["eier"] == a.kode]
    assert mine == [("T1", "1")]  # never the "kun underskjema" edition
    refused(b.from_master({"eier": a.kode, "tjenestekode": "S1", "utgavekode": "1"}), 6)
    refused(a.call("DELETE", f"{sub}/master"), 6)  # a master form set uses it
    a.edition("T1", "2")
    refused(a.call("PATCH", main, {"underskjema": [{"tjenestekode": "S1", "utgavekode": "1"},
                                                   {"tjenestekode": "T1", "utgavekode": "2"}]}), 6)

    r = b.from_master({"eier": a.kode, "tjenestekode": "T1", "utgavekode": "1"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert [(s["tjenestekode"], s["utgavekode"]) for s in created["underskjema"]] == [("S1", "1")]
    assert created["utgave"]["definisjon"]["underskjema"] == [{"tjenestekode": "S1", "utgavekode": "1"}]
    assert b.ok("GET", "/tjenester/S1/utgaver/1")["basertPåMaster"]["eier"] == a.kode


def test_rule_6_migrating_a_derived_edition_brings_the_sub_editions_its_master_gained(a: Owner, b: Owner) -> None:
    master = a.master("T1")
    assert b.from_master(master).status_code == 201
    b.ok("POST", "/tjenester/B1/utgaver/1/migrer")
    sub = a.published("S1", kunUnderskjema=True, navn="Vedlegg til kum")
    a.ok("POST", f"{sub}/master")
    a.ok("PATCH", "/tjenester/T1/utgaver/1", {"underskjema": [{"tjenestekode": "S1", "utgavekode": "1"}]})
    a.ok("POST", "/tjenester/T1/utgaver/1/migrer")
    assert b.call("GET", "/tjenester/S1/utgaver/1").status_code == 404  # not before B migrates

    migrated = b.ok("POST", "/tjenester/B1/utgaver/1/migrer")["versjon"]
    assert migrated["masterversjon"] == 2
    assert migrated["definisjon"]["underskjema"] == [{"tjenestekode": "S1", "utgavekode": "1"}]
    made = b.ok("GET", "/tjenester/S1/utgaver/1")
    assert made["basertPåMaster"] == {"eier": a.kode, "tjenestekode": "S1", "utgavekode": "1"}
    assert made["definisjon"]["navn"] == "Vedlegg til kum"
    assert sorted(s["tjenestekode"] for s in b.ok("GET", "/tjenester")) == ["B1", "S1"]
    # Migrating again makes nothing twice; the master's sub-edition now has a derived edition (rule 7).
    assert b.ok("POST", "/tjenester/B1/utgaver/1/migrer")["versjon"]["versjon"] == 3
    assert [e["utgavekode"] for e in b.ok("GET", "/tjenester/S1/utgaver")] == ["1"]
    refused(a.call("DELETE", f"{sub}/master"), 7)
    r = b.call("DELETE", "/tjenester/S1/utgaver/1")  # B's main edition uses it
    assert r.status_code == 409 and "B1/1" in r.json()["message"], r.text


# --- rule 7: a master goes last ---------------------------------------------------------------------


def test_rule_7_unmark_or_delete_a_master_only_after_its_derived_editions(a: Owner, b: Owner) -> None:
    master = a.master("T1")
    path = "/tjenester/T1/utgaver/1"
    assert b.from_master(master).status_code == 201
    refused(a.call("DELETE", f"{path}/master"), 7)
    refused(a.call("DELETE", path), 7)
    b.ok("DELETE", "/tjenester/B1/utgaver/1", status=204)
    assert b.call("GET", "/tjenester/B1/utgaver/1").status_code == 404
    assert a.ok("DELETE", f"{path}/master")["master"] is False
    a.ok("DELETE", path, status=204)
    assert a.call("GET", path).status_code == 404


# --- rule 8: attachment-type names -------------------------------------------------------------------


def test_rule_8_the_using_owners_attachment_type_wins_with_a_warning(a: Owner, b: Owner) -> None:
    master = a.master("T1")
    mine = {"navn": "FOTO_KUM", "filtyper": ["pdf"], "maksStørrelseMB": 20, "minAntall": 0, "maksAntall": 9}
    b.published("EGEN", vedleggstyper=[mine])
    r = b.from_master(master)
    assert r.status_code == 201, r.text
    assert len(r.json()["advarsler"]) == 1 and "Foto_kum" in r.json()["advarsler"][0]
    migrated = b.ok("POST", "/tjenester/B1/utgaver/1/migrer")
    assert len(migrated["advarsler"]) == 1 and migrated["advarsler"][0].startswith("Regel 8 (")
    assert migrated["versjon"]["definisjon"]["vedleggstyper"] == [mine]


def test_rule_8_no_warning_without_a_clash(a: Owner, b: Owner) -> None:
    r = b.from_master(a.master("T1"))
    assert r.status_code == 201 and r.json()["advarsler"] == []


@pytest.mark.parametrize("name", ["xmlBilde", "XMLdata", "foto-kum", "foto kum", ""])
def test_rule_8_attachment_names_are_checked(a: Owner, name: str) -> None:
    a.service("T1")
    r = a.call("POST", "/tjenester/T1/utgaver", edition_body("1", vedleggstyper=[{"navn": name}]))
    assert r.status_code == 400 and "vedleggstyper" in r.json()["message"], r.text


def test_rule_8_attachment_names_are_unique_per_owner_whatever_the_case(a: Owner) -> None:
    a.service("T1")
    twice = [{"navn": "Foto"}, {"navn": "FOTO"}]
    assert a.call("POST", "/tjenester/T1/utgaver", edition_body("1", vedleggstyper=twice)).status_code == 400
    a.edition("T1", "1", vedleggstyper=[{"navn": "Foto", "maksAntall": 2}])
    refused(a.call("POST", "/tjenester/T1/utgaver", edition_body("2", vedleggstyper=[{"navn": "foto"}])), 8)
    a.edition("T1", "3", vedleggstyper=[{"navn": "Foto", "maksAntall": 2}])  # the same type again is fine


# --- who may act ------------------------------------------------------------------------------------


def test_another_owners_administrator_gets_404(stack: LocalStack, a: Owner, b: Owner) -> None:
    path = a.published("T1")
    for method, sub in [("GET", ""), ("GET", "/tjenester"), ("GET", path), ("PATCH", path),
                        ("POST", f"{path}/master"), ("POST", f"{path}/migrer"), ("DELETE", path)]:
        r = b.client.request(method, f"{ROOT}/{a.kode}{sub}", data="{}" if method == "PATCH" else None)
        assert r.status_code == 404, (method, sub, r.text)
    assert a.ok("GET", path)["publisert"] == 1


def test_only_system_admin_creates_owners(stack: LocalStack) -> None:
    r = Client(stack.url, "anna").request("POST", ROOT, data=json.dumps({"kode": "X", "navn": "X"}))
    assert r.status_code == 403
