"""Submitting through an edition and delivery to its owner, over HTTP against the local stack: the
snapshot in force validates (not the master's later changes), refusals outside validity or before
migration, the download queue (list/get/purge, 404 for another owner), and push delivery with
failures, duplicates and a dead letter."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.e2e.test_services import Owner
from tests.support.client import Client, changeset, kum
from vegskriv import aws
from vegskriv.auth import issue_dev_token
from vegskriv.local.cli import main
from vegskriv.local.stack import LocalStack
from vegskriv.services.delivery import changeset_ended

pytestmark = pytest.mark.e2e
FORM = {"vegobjekttyper": [83], "operasjoner": ["registrer", "oppdater"], "påkrevdeEgenskaper": {"83": [1141]},
        "datakatalogversjon": "2.38"}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    env = {"POWERTOOLS_LOG_LEVEL": "CRITICAL", "WAIT_FIRST_SECONDS": "1", "PUSH_FIRST_PAUSE_SECONDS": "1",
           "PUSH_MAX_ATTEMPTS": "3"}
    with LocalStack(port=0, env=env) as running:
        yield running


def _edition(uk: str, **changes: Any) -> dict[str, Any]:
    return {"utgavekode": uk, "navn": f"Utgave {uk}", "skjema": FORM, **changes}


def _own(owner: Owner, tk: str, **changes: Any) -> str:
    owner.service(tk)
    owner.ok("POST", f"/tjenester/{tk}/utgaver", _edition("1", **changes), 201)
    return f"{owner.kode}/{tk}/1"


def _published(owner: Owner, tk: str, **changes: Any) -> str:
    header = _own(owner, tk, **changes)
    owner.ok("POST", f"/tjenester/{tk}/utgaver/1/migrer")
    return header


def _codes(status: dict[str, Any]) -> set[str]:
    return {f["kode"] for o in status["resultat"]["vegobjekter"] for f in o["feil"]}


def test_derived_edition_validates_by_its_snapshot_and_delivers_to_the_download_queue(stack, admin, olanor):
    a, b = Owner(stack, admin, "a_admin"), Owner(stack, admin, "b_admin")
    a.service("A1")
    a.ok("POST", "/tjenester/A1/utgaver", _edition("1"), 201)
    a.ok("POST", "/tjenester/A1/utgaver/1/migrer")
    a.ok("POST", "/tjenester/A1/utgaver/1/master")
    r = b.from_master({"eier": a.kode, "tjenestekode": "A1", "utgavekode": "1"}, tk="B1")
    assert r.status_code == 201, r.text
    b.ok("POST", "/tjenester/B1/utgaver/1/migrer")
    through_b = {"X-NVDB-Tjeneste": f"{b.kode}/B1/1"}
    # The master stops allowing registrer; B has not migrated since, so its snapshot still allows it.
    a.ok("PATCH", "/tjenester/A1/utgaver/1", {"skjema": {**FORM, "operasjoner": ["oppdater"]}})
    a.ok("POST", "/tjenester/A1/utgaver/1/migrer")

    done_id, done = olanor.run(changeset(registrer=[kum("kum#1")]), **through_b)
    assert done["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET", done
    missing = kum("kum#2", egenskaper=[e for e in kum()["egenskaper"] if e["typeId"] != 1141])
    rejected_id, rejected = olanor.run(changeset(registrer=[missing]), **through_b)
    assert rejected["fremdrift"] == "AVVIST" and _codes(rejected) == {"MANGLER_SKJEMAPÅKREVD_EGENSKAP"}
    # Migrated again, B takes the master's change: registrer is no longer in its form.
    b.ok("POST", "/tjenester/B1/utgaver/1/migrer")
    _, after = olanor.run(changeset(registrer=[kum("kum#3")]), **through_b)
    assert after["fremdrift"] == "AVVIST" and _codes(after) == {"OPERASJON_IKKE_I_SKJEMA"}

    queue = b.ok("GET", "/nedlastingskø")
    assert [e["elementId"] for e in queue][:2] == [done_id, rejected_id]  # oldest first
    assert [e["fremdrift"] for e in queue][:2] == ["UTFØRT_OG_ETTERBEHANDLET", "AVVIST"]
    assert b.ok("GET", "/nedlastingskø?tjenestekode=ANNEN") == []
    assert len(b.ok("GET", "/nedlastingskø?antall=1")) == 1
    item = b.ok("GET", f"/nedlastingskø/{done_id}")
    assert item["endringssett"]["registrer"]["vegobjekter"][0]["tempId"] == "kum#1"
    assert item["resultat"]["vegobjekter"][0]["nvdbId"] and item["versjon"] == 1
    # Another owner's administrator, and the submitter, see nothing of it.
    assert a.client.request("GET", f"/rest/v1/tjenesteeiere/{b.kode}/nedlastingskø").status_code == 404
    assert a.client.request("GET", f"/rest/v1/tjenesteeiere/{b.kode}/nedlastingskø/{done_id}").status_code == 404
    assert olanor.request("GET", f"/rest/v1/tjenesteeiere/{b.kode}/nedlastingskø").status_code == 404
    # Items stay until purged; purging twice is 404 the second time, and a late re-run delivers nothing.
    assert b.ok("GET", f"/nedlastingskø/{done_id}")["elementId"] == done_id
    assert b.call("DELETE", f"/nedlastingskø/{done_id}").status_code == 204
    assert b.call("DELETE", f"/nedlastingskø/{done_id}").status_code == 404
    changeset_ended(done_id)
    assert done_id not in [e["elementId"] for e in b.ok("GET", "/nedlastingskø")]


def test_a_renamed_derived_edition_still_validates_and_delivers_what_was_submitted_before(stack, admin, olanor):
    a, b = Owner(stack, admin, "ra_admin"), Owner(stack, admin, "rb_admin")
    _published(a, "A1")
    a.ok("POST", "/tjenester/A1/utgaver/1/master")
    assert b.from_master({"eier": a.kode, "tjenestekode": "A1", "utgavekode": "1"}, tk="B1").status_code == 201
    b.ok("POST", "/tjenester/B1/utgaver/1/migrer")
    missing = kum("kum#r2", egenskaper=[e for e in kum()["egenskaper"] if e["typeId"] != 1141])
    before = [olanor.register(changeset(registrer=[kum("kum#r1")]), **{"X-NVDB-Tjeneste": f"{b.kode}/B1/1"}),
              olanor.register(changeset(registrer=[missing]), **{"X-NVDB-Tjeneste": f"{b.kode}/B1/1"})]
    b.ok("PATCH", "/tjenester/B1/utgaver/1", {"tjenestekode": "NY", "utgavekode": "2"})
    for changeset_id in before:
        assert olanor.start(changeset_id).status_code == 202
    assert [olanor.wait(i) for i in before] == ["UTFØRT_OG_ETTERBEHANDLET", "AVVIST"]
    assert _codes(olanor.status(before[1])) == {"MANGLER_SKJEMAPÅKREVD_EGENSKAP"}  # the snapshot still applies
    queue = _until(lambda: len(q := b.ok("GET", "/nedlastingskø?tjenestekode=NY")) == 2 and q)
    # Both ran at once, so the queue's order (oldest first) is theirs to decide: compare as a set.
    assert sorted((e["elementId"], e["utgavekode"]) for e in queue) == sorted([(before[0], "2"), (before[1], "2")])
    r = olanor.request("POST", "/rest/v3/endringssett", data=json.dumps(changeset(registrer=[kum()])),
                       headers={"X-NVDB-Tjeneste": f"{b.kode}/B1/1"})
    assert r.status_code == 400 and "finnes ikke" in r.json()["message"], r.text
    after, status = olanor.run(changeset(registrer=[kum("kum#r3")]), **{"X-NVDB-Tjeneste": f"{b.kode}/NY/2"})
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET"
    assert [e["elementId"] for e in b.ok("GET", "/nedlastingskø?tjenestekode=NY")][-1] == after


@pytest.mark.parametrize("case", ["unmigrated", "expired", "not_yet", "unknown", "malformed"])
def test_register_through_an_edition_that_accepts_nothing_now_is_400(stack, admin, olanor, case):
    owner = Owner(stack, admin, "c_admin")
    header = {
        "unmigrated": lambda: _own(owner, "C1"),
        "expired": lambda: _published(owner, "C1", gyldighetsperiode={"fra": "2020-01-01", "til": "2020-12-31"}),
        "not_yet": lambda: _published(owner, "C1", gyldighetsperiode={"fra": "2999-01-01"}),
        "unknown": lambda: f"{owner.kode}/FINNES/IKKE",
        "malformed": lambda: "bare-en-kode",
    }[case]()
    r = olanor.request("POST", "/rest/v3/endringssett", data=json.dumps(changeset(registrer=[kum()])),
                       headers={"X-NVDB-Tjeneste": header})
    assert r.status_code == 400, r.text
    assert "X-NVDB-Tjeneste" in r.json()["message"]


@pytest.mark.parametrize(("form", "doc", "codes"), [
    ({}, changeset(registrer=[kum("v#1")]), set()),
    ({"operasjoner": ["oppdater"]}, changeset(registrer=[kum("v#1")]), {"OPERASJON_IKKE_I_SKJEMA"}),
    ({"vegobjekttyper": [95], "påkrevdeEgenskaper": {}}, changeset(registrer=[kum("v#1")]),
     {"VEGOBJEKTTYPE_IKKE_I_SKJEMA"}),
    ({}, changeset(registrer=[kum("v#1", egenskaper=[e for e in kum()["egenskaper"] if e["typeId"] != 1141])]),
     {"MANGLER_SKJEMAPÅKREVD_EGENSKAP"}),
], ids=["allowed", "operation", "type", "required-property"])
def test_validator_applies_the_editions_published_form(stack, admin, olanor, form, doc, codes):
    owner = Owner(stack, admin, "v_admin")
    header = _published(owner, "V1", skjema={**FORM, **form})
    r = olanor.request("POST", "/rest/v3/endringssett/validator", data=json.dumps(doc),
                       headers={"X-NVDB-Tjeneste": header})
    assert r.status_code == 200, r.text
    assert _codes(r.json()) == codes and r.json()["fremdrift"] == ("AVVIST" if codes else "UTFØRT")
    # A draft change is not the published form; without the header the form does not apply at all.
    owner.ok("PATCH", "/tjenester/V1/utgaver/1", {"skjema": {**FORM, "vegobjekttyper": [96]}})
    assert _codes(olanor.request("POST", "/rest/v3/endringssett/validator", data=json.dumps(doc),
                                 headers={"X-NVDB-Tjeneste": header}).json()) == codes
    assert _codes(olanor.request("POST", "/rest/v3/endringssett/validator", data=json.dumps(doc)).json()) == set()
    unmigrated = _own(owner, "V2")
    r = olanor.request("POST", "/rest/v3/endringssett/validator", data=json.dumps(doc),
                       headers={"X-NVDB-Tjeneste": unmigrated})
    assert r.status_code == 400 and "X-NVDB-Tjeneste" in r.json()["message"], r.text


class Consumer:
    """An owner's endpoint on 127.0.0.1 that fails its first ``failures`` POSTs with 500, then accepts;
    it keeps what it accepted by Idempotency-Key, as a real consumer would."""

    def __init__(self, failures: int):
        self.failures, self.posts, self.accepted = failures, 0, {}
        self.signatures: list[tuple[bytes, str]] = []
        consumer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                consumer.posts += 1
                consumer.signatures.append((body, self.headers["X-Vegskriv-Signatur"]))
                ok = consumer.posts > consumer.failures
                if ok:
                    consumer.accepted.setdefault(self.headers["Idempotency-Key"], []).append(json.loads(body))
                self.send_response(200 if ok else 500)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/levering"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _until(check: Any, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


@pytest.fixture
def pushing(stack, admin) -> Iterator[tuple[Owner, Client]]:
    yield Owner(stack, admin, "d_admin"), Client(stack.url, "olanor")


def test_push_retries_with_growing_pauses_and_is_received_once_per_idempotency_key(stack, pushing):
    owner, olanor = pushing
    consumer = Consumer(failures=2)
    header = _published(owner, "P1", oversendingsmetode={"type": "PUSH", "url": consumer.url})
    began = time.monotonic()
    changeset_id, status = olanor.run(changeset(registrer=[kum("kum#p")]), **{"X-NVDB-Tjeneste": header})
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET"
    element = _until(lambda: (r := owner.call("GET", f"/nedlastingskø/{changeset_id}")).status_code == 200
                     and r.json()["levering"]["status"] == "LEVERT" and r.json(), timeout=60)
    assert element and element["levering"]["forsøk"] == 3 and consumer.posts == 3
    assert time.monotonic() - began >= 3  # pauses of 1 s and 2 s between the tries
    assert list(consumer.accepted) == [changeset_id]
    [item] = consumer.accepted[changeset_id]
    assert item["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET" and item["endringssett"]["registrer"]
    key = owner.ok("GET", "/signeringsnøkkel")["nøkkel"]
    body, sent = consumer.signatures[-1]
    assert sent == "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    # A redelivered message and a re-run of the end both find it delivered: nothing more is posted.
    aws.client("sqs").send_message(QueueUrl=stack.template.queue_url("DeliveryQueue"),
                                   MessageBody=json.dumps({"eier": owner.kode, "elementId": changeset_id}))
    changeset_ended(changeset_id)
    time.sleep(2)
    assert consumer.posts == 3 and len(consumer.accepted[changeset_id]) == 1
    assert owner.ok("GET", "/nedlastingskø") == []  # pushed elements are not in the download queue


def test_the_signing_key_is_a_secret_per_owner_and_rotates(stack, pushing, admin):
    owner, olanor = pushing
    first = owner.ok("GET", "/signeringsnøkkel")["nøkkel"]
    assert owner.ok("GET", "/signeringsnøkkel")["nøkkel"] == first
    sm = aws.client("secretsmanager")
    [secret] = [s["Name"] for s in sm.list_secrets()["SecretList"] if s["Name"].endswith(f"/{owner.kode}")]
    assert sm.get_secret_value(SecretId=secret)["SecretString"] == first
    other = Owner(stack, admin, "e_admin")
    assert other.ok("GET", "/signeringsnøkkel")["nøkkel"] != first
    assert other.client.request("POST", f"/rest/v1/tjenesteeiere/{owner.kode}/signeringsnøkkel").status_code == 404

    rotated = owner.ok("POST", "/signeringsnøkkel")["nøkkel"]
    assert rotated != first and owner.ok("GET", "/signeringsnøkkel")["nøkkel"] == rotated
    assert sm.get_secret_value(SecretId=secret, VersionStage="AWSPREVIOUS")["SecretString"] == first
    consumer = Consumer(failures=0)
    header = _published(owner, "P3", oversendingsmetode={"type": "PUSH", "url": consumer.url})
    olanor.run(changeset(registrer=[kum("kum#s")]), **{"X-NVDB-Tjeneste": header})
    assert _until(lambda: consumer.signatures)
    body, sent = consumer.signatures[0]
    assert sent == "sha256=" + hmac.new(rotated.encode(), body, hashlib.sha256).hexdigest()


def test_push_that_never_succeeds_leaves_a_dead_letter_with_the_last_error(stack, pushing):
    owner, olanor = pushing
    consumer = Consumer(failures=1000)
    header = _published(owner, "P2", oversendingsmetode={"type": "PUSH", "url": consumer.url})
    changeset_id, _ = olanor.run(changeset(registrer=[kum("kum#d")]), **{"X-NVDB-Tjeneste": header})
    # The item appears when post-processing delivers it (404 until then), and dies after three tries.
    element = _until(lambda: (r := owner.call("GET", f"/nedlastingskø/{changeset_id}")).status_code == 200
                     and r.json()["levering"]["status"] == "DØD" and r.json(), timeout=60)
    assert element, owner.ok("GET", f"/nedlastingskø/{changeset_id}")
    assert element["levering"]["forsøk"] == 3 and "500" in element["levering"]["sisteFeil"]
    time.sleep(1.5)
    assert consumer.posts == 3 and consumer.accepted == {}


def test_readme_walkthrough_with_the_cli(stack, olanor, tmp_path, capsys):
    """A publishes a master, B reuses it, a contractor submits through B's edition, B downloads the result."""
    def cli(user: str, roles: list[str], *args: str) -> Any:
        token = issue_dev_token(user, roles)
        assert main(["tjenester", *args, "--url", stack.url, "--token", token]) == 0, capsys.readouterr().err
        out = capsys.readouterr().out
        return json.loads(out) if out.strip() else None

    system = ("systemadmin", ["9_system_admin"])
    cli(*system, "eier", "--kode", "FYLKE_A", "--navn", "Fylke A", "--admin", "anne")
    cli(*system, "eier", "--kode", "KOMMUNE_B", "--navn", "Kommune B", "--admin", "bjorn")
    anne, bjorn = ("anne", ["0_bruker_fagdata"]), ("bjorn", ["0_bruker_fagdata"])
    cli(*anne, "tjeneste", "--eier", "FYLKE_A", "--tjeneste", "KUM", "--navn", "Innmelding av kummer")
    (tmp_path / "utgave.json").write_text(json.dumps(_edition("2025")), encoding="utf-8")
    cli(*anne, "utgave", "--eier", "FYLKE_A", "--tjeneste", "KUM", "--fil", str(tmp_path / "utgave.json"))
    cli(*anne, "migrer", "--eier", "FYLKE_A", "--tjeneste", "KUM", "--utgave", "2025")
    cli(*anne, "master", "--eier", "FYLKE_A", "--tjeneste", "KUM", "--utgave", "2025")
    assert any(m["eier"] == "FYLKE_A" for m in cli(*bjorn, "mastere"))
    made = cli(*bjorn, "fra-master", "--eier", "KOMMUNE_B", "--master", "FYLKE_A/KUM/2025", "--tjeneste", "KUM_B",
               "--utgave", "1")
    assert made["utgave"]["basertPåMaster"]["eier"] == "FYLKE_A"
    cli(*bjorn, "migrer", "--eier", "KOMMUNE_B", "--tjeneste", "KUM_B", "--utgave", "1")
    changeset_id, status = olanor.run(changeset(registrer=[kum("kum#cli")]),
                                      **{"X-NVDB-Tjeneste": "KOMMUNE_B/KUM_B/1"})
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET"
    [queued] = cli(*bjorn, "kø", "--eier", "KOMMUNE_B", "--tjenestekode", "KUM_B")
    assert queued["elementId"] == changeset_id
    assert cli(*bjorn, "hent", "--eier", "KOMMUNE_B", "--element", changeset_id)["resultat"]["vegobjekter"]
    cli(*bjorn, "slett", "--eier", "KOMMUNE_B", "--element", changeset_id)
    assert cli(*bjorn, "kø", "--eier", "KOMMUNE_B") == []
