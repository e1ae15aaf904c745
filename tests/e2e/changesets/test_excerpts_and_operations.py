"""The real excerpts end to end, and one changeset using all seven operations on related objects."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EXCERPTS
from tests.support.client import Client
from tests.support.fixtures import NETWORK, excerpt, excerpt_world, history
from vegskriv.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not EXCERPTS.exists(), reason="../shared not present")]


@pytest.fixture(scope="module")
def stack():
    with LocalStack(port=0, env={"WAIT_FIRST_SECONDS": "1", "POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        admin = Client(running.url, "systemadmin", ("9_system_admin",))
        assert admin.request("PUT", "/rest/v3/vegnett/veglenkesekvenser",
                             data=json.dumps({"veglenkesekvenser": NETWORK})).status_code == 200
        r = admin.request("PUT", "/rest/v3/vegobjekter", data=json.dumps({"vegobjekter": excerpt_world()}))
        assert r.status_code == 200, r.text
        yield running



def versions(client: Client, type_id: int, nvdb_id: int) -> list[dict]:
    r = client.request("GET", f"/rest/v3/vegobjekter/{type_id}/{nvdb_id}")
    assert r.status_code == 200, r.text
    return r.json()["versjoner"]


def periods(client: Client, type_id: int, nvdb_id: int) -> list[dict]:
    return [v["gyldighetsperiode"] for v in versions(client, type_id, nvdb_id)]


@pytest.mark.parametrize("name", ["registrer_79", "registrer_83", "lukk", "delvisOppdater"])
def test_every_real_excerpt_succeeds(olanor, name):
    _, status = olanor.run(excerpt(name))
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET", json.dumps(status["resultat"], ensure_ascii=False)
    assert all(not o["feil"] for o in status["resultat"]["vegobjekter"])


def test_excerpt_effects_on_the_read_side(olanor):
    # lukk: the named versions got the closing date
    assert periods(olanor, 83, 85726571)[-1] == {"startdato": "2017-01-01", "sluttdato": "2024-09-27"}
    # delvisOppdater without overskriv: a new version from 2024-09-27, the old one ends there
    assert periods(olanor, 79, 85753589)[-2:] == [{"startdato": "2018-01-01", "sluttdato": "2024-09-27"},
                                                  {"startdato": "2024-09-27"}]
    moved = versions(olanor, 79, 85753589)[-1]
    assert moved["stedfesting"]["punkt"][0]["posisjon"] == 0.17217295
    # overskriv=JA: same version, changed in place, association 200116 stored as 220116
    [culvert] = versions(olanor, 79, 1017932865)
    assert culvert["assosiasjoner"] == [{"typeId": 220116, "nvdbId": [1013515270]}]
    assert {"typeId": 11068, "verdi": ["06/2024"]} in culvert["egenskaper"]


def test_all_seven_operations_in_one_changeset(olanor, stack):
    admin = Client(stack.url, "systemadmin", ("9_system_admin",))
    world = [*history(501, 79, 1), *history(502, 83, 1), *history(503, 83, 2), *history(504, 83, 1),
             *history(505, 83, 2)]
    assert admin.request("PUT", "/rest/v3/vegobjekter", data=json.dumps({"vegobjekter": world})).status_code == 200
    stored = {(v["id"], v["versjon"]): v for v in world}
    new_kum = excerpt("registrer_83")["registrer"]["vegobjekter"][0]
    new_kum["stedfesting"]["punkt"][0]["veglenkesekvensNvdbId"] = 72817
    new_kum["tempId"] = "ny-kum"
    read_at = "2024-06-01T12:00:00"
    full_502 = {k: stored[(502, 1)][k] for k in ("typeId", "egenskaper", "stedfesting")}
    depth = [{"typeId": 1586, "verdi": ["2.2"]}]
    doc = {
        "datakatalogversjon": "2.38",
        "registrer": {"vegobjekter": [new_kum]},
        "delvisOppdater": {"vegobjekter": [{
            "typeId": 79, "nvdbId": 501, "versjon": 1, "gyldighetsperiode": {"startdato": "2025-01-01"},
            "assosiasjoner": [{"typeId": 200116, "tempId": [{"verdi": "ny-kum", "operasjon": "ny"}],
                               "operasjon": "oppdater"}]}]},
        "oppdater": {"vegobjekter": [{**full_502, "nvdbId": 502, "versjon": 1,
                                      "gyldighetsperiode": {"startdato": "2025-01-01"},
                                      "egenskaper": [e for e in full_502["egenskaper"]
                                                     if e["typeId"] != 1586] + depth}]},
        "korriger": {"vegobjekter": [{**{k: stored[(503, 1)][k] for k in ("typeId", "egenskaper", "stedfesting")},
                                      "nvdbId": 503, "versjon": 1, "validering": {"lestFraNvdb": read_at},
                                      "gyldighetsperiode": {"startdato": "2015-06-01"}}]},
        "delvisKorriger": {"vegobjekter": [{"typeId": 83, "nvdbId": 503, "versjon": 2,
                                            "validering": {"lestFraNvdb": read_at},
                                            "egenskaper": [{"typeId": 1586, "verdi": ["3.3"],
                                                            "operasjon": "oppdater"}]}]},
        "lukk": {"vegobjekter": [{"typeId": 83, "nvdbId": 504, "versjon": 1, "lukkedato": "2025-06-01"}]},
        "fjern": {"vegobjekter": [{"typeId": 83, "nvdbId": 505, "versjon": 2}]},
    }
    _, status = olanor.run(doc)
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET", json.dumps(status["resultat"], ensure_ascii=False)
    by_op = {o["operasjon"]: o for o in status["resultat"]["vegobjekter"]}
    assert set(by_op) == {"registrer", "delvisOppdater", "oppdater", "korriger", "delvisKorriger", "lukk", "fjern"}
    new_id = by_op["registrer"]["nvdbId"]
    # registrer: version 1
    assert periods(olanor, 83, new_id) == [{"startdato": "2024-09-27"}]
    # delvisOppdater: v1 ends 2025-01-01, v2 from then holds the new daughter
    culvert = versions(olanor, 79, 501)
    assert [v["gyldighetsperiode"] for v in culvert] == [{"startdato": "2015-01-01", "sluttdato": "2025-01-01"},
                                                         {"startdato": "2025-01-01"}]
    assert culvert[1]["assosiasjoner"] == [{"typeId": 220116, "nvdbId": [new_id]}]
    assert culvert[0]["assosiasjoner"] == []
    # oppdater: new full version
    kum_502 = versions(olanor, 83, 502)
    assert [v["gyldighetsperiode"] for v in kum_502] == [{"startdato": "2015-01-01", "sluttdato": "2025-01-01"},
                                                         {"startdato": "2025-01-01"}]
    assert {"typeId": 1586, "verdi": ["2.2"]} in kum_502[1]["egenskaper"]
    # korriger (historic version, in place) and delvisKorriger (latest, in place): still two versions
    kum_503 = versions(olanor, 83, 503)
    assert [v["versjon"] for v in kum_503] == [1, 2]
    assert kum_503[0]["gyldighetsperiode"] == {"startdato": "2015-06-01", "sluttdato": "2016-01-01"}
    assert {"typeId": 1586, "verdi": ["3.3"]} in kum_503[1]["egenskaper"]
    # lukk
    assert periods(olanor, 83, 504) == [{"startdato": "2015-01-01", "sluttdato": "2025-06-01"}]
    # fjern of the newest version: v1 remains, open-ended like the removed one
    assert periods(olanor, 83, 505) == [{"startdato": "2015-01-01"}]


def test_correction_after_someone_else_changed_the_version_is_refused(olanor):
    doc = {"datakatalogversjon": "2.38", "delvisKorriger": {"vegobjekter": [{
        "typeId": 83, "nvdbId": 503, "versjon": 2, "validering": {"lestFraNvdb": "2024-06-01T12:00:00"},
        "egenskaper": [{"typeId": 1586, "verdi": ["4.4"], "operasjon": "oppdater"}]}]}}
    _, status = olanor.run(doc)  # 503 v2 was corrected by the previous test, after 2024-06-01
    assert status["fremdrift"] == "AVVIST"
    assert [v["kode"] for v in status["resultat"]["vegobjekter"][0]["feil"]] == [
        "VEGOBJEKTVERSJON_OVERSKREVET_AV_ANDRE"]


def test_dry_run_validates_and_writes_nothing(olanor):
    doc = excerpt("registrer_83")
    doc["registrer"]["vegobjekter"][0]["tempId"] = "tørrkjøring"
    changeset_id = olanor.register(doc, **{"X-NVDB-DryRun": "true"})
    olanor.start(changeset_id)
    assert olanor.wait(changeset_id, until={"UTFØRT", "AVVIST"}) == "UTFØRT"
    status = olanor.status(changeset_id)
    assert status["behandlingsparametere"]["dryrun"] is True
    assert status["etterbehandling"]["tilgjengeligILes"] is False
    assert status.get("transaksjon") is None
    assert status["resultat"]["vegobjekter"][0].get("nvdbId") is None
