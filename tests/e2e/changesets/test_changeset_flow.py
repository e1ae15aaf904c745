"""The whole life of a changeset through the local stack over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.client import EXCERPT_KUM, Client, changeset, kum
from vegskriv.local.stack import LocalStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack():
    with LocalStack(port=0, env={"WAIT_FIRST_SECONDS": "1", "POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running




def test_two_objects_reach_the_read_side_in_under_ten_seconds(olanor):
    began = time.monotonic()
    changeset_id, status = olanor.run(changeset(registrer=[kum("kum#1"), kum("kum#2")]))
    elapsed = time.monotonic() - began
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET", status
    assert elapsed < 10
    assert status["etterbehandling"]["tilgjengeligILes"] is True
    assert status["transaksjon"]["oppdragId"]
    ids = {o["tempId"]: o["nvdbId"] for o in status["resultat"]["vegobjekter"]}
    assert set(ids) == {"kum#1", "kum#2"} and all(ids.values())
    for nvdb_id in ids.values():
        r = olanor.request("GET", f"/rest/v3/vegobjekter/83/{nvdb_id}")
        assert r.status_code == 200
        [version] = r.json()["versjoner"]
        assert version["versjon"] == 1 and version["metadata"]["endringssettId"] == changeset_id
    listed = olanor.request("GET", "/rest/v3/vegobjekter/83?antall=1000").json()["objekter"]
    assert set(ids.values()) <= {o["id"] for o in listed}


def test_a_failed_release_of_the_locks_still_folds_and_lets_go_when_retried(olanor, monkeypatch):
    from vegskriv.store import locks, objects

    real_fold, calls = objects.fold_overlays, []

    def fold_fails_once(changeset_id, keys, **kwargs):
        calls.append(changeset_id)
        if len(calls) == 1:
            raise RuntimeError("simulated outage in releaseLocks")
        return real_fold(changeset_id, keys, **kwargs)

    monkeypatch.setattr(objects, "fold_overlays", fold_fails_once)
    changeset_id, status = olanor.run(changeset(registrer=[kum("fold#1")]))
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET", status
    assert calls == [changeset_id, changeset_id]  # the retry folded (it had gone straight to postProcess)
    assert locks.get(changeset_id) is None


def test_invalid_changeset_is_rejected_with_varsler_per_object(olanor):
    bad = kum("kum#bad", egenskaper=[{"typeId": 1586, "verdi": ["dyp"]}, {"typeId": 999999, "verdi": ["x"]}])
    changeset_id, status = olanor.run(changeset(registrer=[kum("kum#ok"), bad]))
    assert status["fremdrift"] == "AVVIST" and status["avvistårsak"] == "VALIDERINGSFEIL"
    text = olanor.request("GET", f"/rest/v3/endringssett/{changeset_id}/fremdriftOgÅrsak")
    assert text.text == "AVVIST:VALIDERINGSFEIL" and text.headers["Content-Type"].startswith("text/plain")
    entries = {o["tempId"]: o for o in status["resultat"]["vegobjekter"]}
    assert entries["kum#ok"]["feil"] == []
    codes = {(v["kode"], v.get("egenskapTypeId")) for v in entries["kum#bad"]["feil"]}
    assert ("UGYLDIG_FLYTTALLFORMAT", 1586) in codes
    assert ("UKJENT_EGENSKAPSTYPE", 999999) in codes
    assert all(v["referanse"] == "kum#bad" for v in entries["kum#bad"]["feil"])
    assert olanor.request("GET", "/rest/v3/vegobjekter/83?antall=1000").status_code == 200


def test_unknown_sequence_then_excerpt_accepted_once_the_network_has_it(olanor, admin):
    excerpt = json.loads(EXCERPT_KUM.read_text())
    _, status = olanor.run(excerpt)
    assert status["fremdrift"] == "AVVIST"
    assert [v["kode"] for v in status["resultat"]["vegobjekter"][0]["feil"]] == ["UKJENT_VEGLENKESEKVENS"]
    r = admin.request("PUT", "/rest/v3/vegnett/veglenkesekvenser", data=json.dumps({"veglenkesekvenser": [
        {"veglenkesekvensId": 3325547, "lengde": 812.5, "kommune": 5059, "fylke": 50, "vegkategori": "E",
         "startdato": "2010-01-01"}]}))
    assert r.status_code == 200, r.text
    _, status = olanor.run(excerpt)
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET", status["resultat"]
    assert [v["kode"] for v in status["resultat"]["advarsler"]] == ["IKKE_GJELDENDE_DATAKATALOGVERSJON"]


def test_oppdater_then_lukk_an_existing_object(olanor):
    _, status = olanor.run(changeset(registrer=[kum("kum#v1")]))
    nvdb_id = status["resultat"]["vegobjekter"][0]["nvdbId"]
    current = olanor.request("GET", f"/rest/v3/vegobjekter/83/{nvdb_id}").json()["versjoner"][-1]
    update = {k: current[k] for k in ("typeId", "egenskaper", "stedfesting")}
    update["egenskaper"] = [e for e in update["egenskaper"] if e["typeId"] != 1586] + [
        {"typeId": 1586, "verdi": ["2.5"]}]
    update.update(nvdbId=nvdb_id, versjon=1, gyldighetsperiode={"startdato": "2025-01-01"})
    _, status = olanor.run(changeset(oppdater=[update]))
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET", status["resultat"]
    assert status["resultat"]["vegobjekter"][0]["versjon"] == 2
    _, status = olanor.run(changeset(lukk=[{"typeId": 83, "nvdbId": nvdb_id, "versjon": 2,
                                            "lukkedato": "2026-01-01"}]))
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET", status["resultat"]
    versions = olanor.request("GET", f"/rest/v3/vegobjekter/83/{nvdb_id}").json()["versjoner"]
    assert [v["gyldighetsperiode"] for v in versions] == [
        {"startdato": "2024-09-27", "sluttdato": "2025-01-01"},
        {"startdato": "2025-01-01", "sluttdato": "2026-01-01"}]
    assert {"typeId": 1586, "verdi": ["2.5"]} in versions[1]["egenskaper"]
    # Closing it again, or updating an old version, is refused with a precise code.
    _, status = olanor.run(changeset(lukk=[{"typeId": 83, "nvdbId": nvdb_id, "versjon": 2,
                                            "lukkedato": "2026-02-01"}]))
    assert [v["kode"] for v in status["resultat"]["vegobjekter"][0]["feil"]] == ["VEGOBJEKTET_ER_LUKKET"]


def test_cancel_before_start_and_conflict_after_completion(olanor):
    changeset_id = olanor.register(changeset(registrer=[kum()]))
    assert olanor.request("POST", f"/rest/v3/endringssett/{changeset_id}/kanseller").status_code == 202
    assert olanor.fremdrift(changeset_id) == "KANSELLERT"
    olanor.start(changeset_id)
    assert olanor.fremdrift(changeset_id) == "KANSELLERT"
    done, _ = olanor.run(changeset(registrer=[kum()]))
    r = olanor.request("POST", f"/rest/v3/endringssett/{done}/kanseller")
    assert r.status_code == 409 and "kan ikke kanselleres" in r.json()["message"]


def test_cancel_while_delayed_ends_kansellert(olanor):
    changeset_id = olanor.register(changeset(registrer=[kum()]), **{"X-NVDB-Delay": "3"})
    olanor.start(changeset_id)
    assert olanor.wait(changeset_id, until={"BEHANDLES"}) == "BEHANDLES"
    assert olanor.request("POST", f"/rest/v3/endringssett/{changeset_id}/kanseller").status_code == 202
    assert olanor.wait(changeset_id) == "KANSELLERT"
    assert olanor.status(changeset_id)["kanselleringBestilt"] is True


def test_starting_twice_at_once_processes_once(stack, olanor):
    changeset_id = olanor.register(changeset(registrer=[kum()]))
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: olanor.start(changeset_id).status_code, range(4)))
    assert answers == [202] * 4
    assert olanor.wait(changeset_id) == "UTFØRT_OG_ETTERBEHANDLET"
    olanor.start(changeset_id)
    sfn = stack.client("stepfunctions")
    arn = next(iter(stack.state_machine_arns.values()))
    runs = [e for e in sfn.list_executions(stateMachineArn=arn)["executions"] if e["name"] == changeset_id]
    assert len(runs) == 1
    assert len(olanor.status(changeset_id)["resultat"]["vegobjekter"]) == 1


def test_fremdrift_states_retry_after(olanor):
    changeset_id = olanor.register(changeset(registrer=[kum()]))
    r = olanor.request("GET", f"/rest/v3/endringssett/{changeset_id}/fremdrift")
    assert r.json() == "IKKE_STARTET" and "Retry-After" not in r.headers
    olanor.start(changeset_id)
    olanor.wait(changeset_id)
    r = olanor.request("GET", f"/rest/v3/endringssett/{changeset_id}/fremdrift")
    assert r.json() == "UTFØRT_OG_ETTERBEHANDLET" and "Retry-After" not in r.headers


def test_search_filters_and_paging(stack):
    kari = Client(stack.url, "karinor", client_name="søkeklient")
    done, _ = kari.run(changeset(registrer=[kum()]))
    rejected, _ = kari.run(changeset(registrer=[kum(typeId=424242)]))
    waiting = kari.register(changeset(registrer=[kum()]))

    def search(**params):
        r = kari.request("GET", "/rest/v3/endringssett", params=params)
        assert r.status_code == 200, r.text
        return r.json()

    everything = search()
    assert everything["antallTotalt"] == 3
    assert [e["id"] for e in everything["endringssett"]] == [waiting, rejected, done]  # newest first
    assert [e["id"] for e in search(sorterStigende="true")["endringssett"]] == [done, rejected, waiting]
    assert [e["id"] for e in search(status="AVVIST")["endringssett"]] == [rejected]
    assert [e["id"] for e in search(årsak="VALIDERINGSFEIL")["endringssett"]] == [rejected]
    assert search(brukernavnEllerKlient="søkeklient")["antallTotalt"] == 3
    assert search(brukernavnEllerKlient="olanor")["antallTotalt"] == 0
    page = search(antall=1, start=2)
    assert page["antallTotalt"] == 3 and [e["id"] for e in page["endringssett"]] == [rejected]
    first_ms = int(time.time() * 1000) + 60_000
    assert search(fraEpochMs=first_ms)["antallTotalt"] == 0
    too_many = kari.request("GET", "/rest/v3/endringssett", params={"antall": 5000})
    assert too_many.status_code == 400 and "antall" in too_many.json()["message"]


def test_roles_decide_what_is_visible(stack, olanor):
    mine = olanor.register(changeset(registrer=[kum()]))
    other = Client(stack.url, "pernor")
    service_user = Client(stack.url, "tjeneste", ("TjeNVDBAPIskriv/user",))
    fagadmin = Client(stack.url, "fagadmin", ("5_fagdata_admin",))
    # Another ordinary user sees nothing: 404 exactly like an unknown id, and not in search.
    for path in ("", "/status", "/fremdrift"):
        r = other.request("GET", f"/rest/v3/endringssett/{mine}{path}")
        assert r.status_code == 404, path
    assert other.request("POST", f"/rest/v3/endringssett/{mine}/start").status_code == 404
    assert mine not in {e["id"] for e in other.request("GET", "/rest/v3/endringssett").json()["endringssett"]}
    # A service user may read the status but not act; admins may do both.
    assert service_user.request("GET", f"/rest/v3/endringssett/{mine}/status").status_code == 200
    assert service_user.request("POST", f"/rest/v3/endringssett/{mine}/kanseller").status_code == 404
    assert mine in {e["id"] for e in fagadmin.request("GET", "/rest/v3/endringssett").json()["endringssett"]}
    assert fagadmin.request("POST", f"/rest/v3/endringssett/{mine}/kanseller").status_code == 202


def test_bad_input_is_refused_and_nothing_is_stored(stack, olanor):
    def count():
        return olanor.request("GET", "/rest/v3/endringssett").json()["antallTotalt"]

    before = count()
    post = "/rest/v3/endringssett"
    r = olanor.request("POST", post, data="{not json")
    assert r.status_code == 400 and "Ugyldig JSON" in r.json()["message"]
    r = olanor.request("POST", post, data=json.dumps(changeset(registrer=[kum(typeId="åtti-tre")])))
    assert r.status_code == 400 and "registrer.vegobjekter[0].typeId" in r.json()["message"]
    line = kum(stedfesting={"linje": [{"veglenkesekvensNvdbId": 1125766, "fra": 0.8, "til": 0.2}]})
    r = olanor.request("POST", post, data=json.dumps(changeset(registrer=[line])))
    assert r.status_code == 400
    assert "registrer.vegobjekter[0].stedfesting.linje[0]" in r.json()["message"]
    assert "fra må være mindre enn til" in r.json()["message"]
    r = olanor.request("POST", post, data=json.dumps({"registrer": {"vegobjekter": [kum()]}}))
    assert r.status_code == 400 and "datakatalogversjon" in r.json()["message"]
    r = olanor.request("POST", post, data=json.dumps([1, 2]))
    assert r.status_code == 400
    r = olanor.request("POST", post, data="<endringssett/>", headers={"Content-Type": "application/xml"})
    assert r.status_code == 400 and "datakatalogversjon" in r.text  # XML is read (and answered in XML)
    r = olanor.request("POST", post, data="endringssett", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    huge = changeset(registrer=[kum(f"k{i}") for i in range(11000)])
    r = olanor.request("POST", post, data=json.dumps(huge))
    assert r.status_code == 413 and "grensen" in r.json()["message"]
    assert count() == before
    assert olanor.request("GET", "/rest/v3/endringssett/00000000-0000-0000-0000-000000000000/status"
                          ).status_code == 404
    anonymous = olanor.session.headers.pop("Authorization")
    try:
        assert olanor.request("GET", "/rest/v3/endringssett").status_code == 401
        olanor.session.headers["Authorization"] = "Bearer not-a-jwt"
        assert olanor.request("GET", "/rest/v3/endringssett").status_code == 401
    finally:
        olanor.session.headers["Authorization"] = anonymous
    assert olanor.request("GET", "/health").status_code == 200


def test_catalog_and_network_read_endpoints(olanor):
    types = olanor.request("GET", "/rest/v3/datakatalog/vegobjekttyper").json()
    assert len(types) == 19 and {t["id"] for t in types} >= {79, 83, 581}
    kum_type = olanor.request("GET", "/rest/v3/datakatalog/vegobjekttyper/83").json()
    materialtype = next(e for e in kum_type["egenskapstyper"] if e["id"] == 1411)
    assert "Betong" in {v["verdi"] for v in materialtype["tillatte_verdier"]}
    assert olanor.request("GET", "/rest/v3/datakatalog/vegobjekttyper/1").status_code == 404
    page = olanor.request("GET", "/rest/v3/vegnett/veglenkesekvenser?kommune=301&antall=3").json()
    assert len(page["objekter"]) == 3 and all(s["kommune"] == 301 for s in page["objekter"])
    following = olanor.request("GET", "/rest/v3/vegnett/veglenkesekvenser",
                               params={"kommune": 301, "antall": 3, "start": page["metadata"]["neste"]["start"]})
    assert following.json()["objekter"][0]["veglenkesekvensId"] > page["objekter"][-1]["veglenkesekvensId"]
    assert olanor.request("GET", "/rest/v3/vegnett/veglenkesekvenser/1125766").json()["kommune"] == 301
    assert olanor.request("PUT", "/rest/v3/vegnett/veglenkesekvenser", data="{}").status_code == 403
    openapi = olanor.request("GET", "/openapi.json").json()
    assert "/rest/v3/endringssett" in openapi["paths"]
