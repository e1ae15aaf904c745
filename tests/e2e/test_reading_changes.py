"""The read API as the provider's standard API, through the local stack over HTTP: NVDB API Les
v3 shape, opaque cursor paging that stays stable under writes, ETag/304, ``endretEtter`` with
tombstones from the change index, and DELTA/FULL provisioning runs that use it."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.support.client import Client, changeset, kum
from vegskriv.local.stack import LocalStack
from vegskriv.store import changesets, objects
from vegskriv.store import provisioning as store
from vegskriv.store.objects import Write

pytestmark = pytest.mark.e2e
TYPE = 83


@pytest.fixture(scope="module")
def stack():
    env = {"POWERTOOLS_LOG_LEVEL": "CRITICAL", "WAIT_FIRST_SECONDS": "1", "ENDRET_OVERLAPP_SEKUNDER": "1"}
    with LocalStack(port=0, env=env) as running:
        yield running


def version(nvdb_id: int, versjon: int = 1, **period: str) -> dict[str, Any]:
    return {"id": nvdb_id, "versjon": versjon, "typeId": TYPE,
            "gyldighetsperiode": {"startdato": "2020-01-01", **period},
            "egenskaper": [{"typeId": 1141, "verdi": [f"kum {nvdb_id} v{versjon}"]}],
            "stedfesting": {"punkt": [{"veglenkesekvensNvdbId": 1125766, "posisjon": 0.5}]}}


def load(admin: Client, versions: list[dict[str, Any]]) -> None:
    r = admin.request("PUT", "/rest/v3/vegobjekter", data=json.dumps({"vegobjekter": versions}))
    assert r.status_code == 200, r.text


def page(client: Client, **params: Any) -> dict[str, Any]:
    r = client.request("GET", f"/rest/v3/vegobjekter/{TYPE}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def walk(client: Client, between=None, **params: Any) -> tuple[list[dict[str, Any]], str]:
    """Every object of every page, following neste.href as an NVDB client does, until a page is
    empty; and the walk's tidspunkt."""
    answer = page(client, **params)
    found, tidspunkt = list(answer["objekter"]), answer["metadata"]["tidspunkt"]
    while answer["metadata"]["returnert"]:
        if between:
            between()
        r = client.session.get(answer["metadata"]["neste"]["href"], timeout=30)  # the link as given
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["metadata"]["tidspunkt"] == tidspunkt
        found += answer["objekter"]
    assert "neste" not in answer["metadata"]
    return found, tidspunkt


def changed(client: Client, after: str, **params: Any) -> dict[int, dict[str, Any]]:
    found, _ = walk(client, endretEtter=after, antall=1000, **params)
    return {o["id"]: o for o in found}


def test_nvdb_shape_with_inkluder_and_kommune(admin, olanor):
    load(admin, [version(7001)])
    minimal = {o["id"]: o for o in walk(olanor, antall=1000)[0]}[7001]
    assert set(minimal) == {"id", "href", "hash"} and minimal["href"].endswith(f"/rest/v3/vegobjekter/{TYPE}/7001")
    assert olanor.session.get(minimal["href"], timeout=30).status_code == 200
    full = {o["id"]: o for o in walk(olanor, antall=1000, inkluder="alle")[0]}[7001]
    assert full["hash"] == minimal["hash"]
    assert full["metadata"]["type"] == {"id": TYPE, "navn": "Kum"} and full["metadata"]["versjon"] == 1
    assert full["metadata"]["startdato"] == "2020-01-01" and "sist_modifisert" in full["metadata"]
    [egenskap] = full["egenskaper"]
    assert egenskap["id"] == 1141 and egenskap["verdi"] == "kum 7001 v1" and egenskap["navn"]
    [kommune] = full["lokasjon"]["kommuner"]
    assert full["lokasjon"]["stedfestinger"] == [{"type": "Punkt", "veglenkesekvensid": 1125766,
                                                  "relativPosisjon": 0.5}]
    assert 7001 in {o["id"] for o in walk(olanor, antall=1000, kommune=f"{kommune},9999")[0]}
    assert walk(olanor, antall=1000, kommune="9999")[0] == []
    r = olanor.request("GET", f"/rest/v3/vegobjekter/{TYPE}", params={"inkluder": "alt"})
    assert r.status_code == 400 and "inkluder" in r.json()["message"]
    r = olanor.request("GET", f"/rest/v3/vegobjekter/{TYPE}", params={"start": "ikke-en-markør"})
    assert r.status_code == 400 and "start" in r.json()["message"]
    r = olanor.request("GET", f"/rest/v3/vegobjekter/{TYPE}", params={"endretEtter": "i går"})
    assert r.status_code == 400 and "endretEtter" in r.json()["message"]


def test_etag_and_if_none_match(admin, olanor):
    load(admin, [version(7101)])
    first = olanor.request("GET", f"/rest/v3/vegobjekter/{TYPE}", params={"antall": 1000})
    etag = first.headers["ETag"]
    again = olanor.request("GET", f"/rest/v3/vegobjekter/{TYPE}", params={"antall": 1000},
                           headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag and not again.content
    load(admin, [version(7101, 2)])
    changed_page = olanor.request("GET", f"/rest/v3/vegobjekter/{TYPE}", params={"antall": 1000},
                                  headers={"If-None-Match": etag})
    assert changed_page.status_code == 200 and changed_page.headers["ETag"] != etag


def test_cursor_paging_is_stable_while_writes_happen(admin, olanor):
    ids = list(range(7201, 7213))
    load(admin, [version(i) for i in ids])
    writes = iter(range(len(ids)))

    def write_between_pages():
        n = next(writes, None)
        if n is None:
            return
        # an object already passed and one still ahead change; a new object appears at the end
        load(admin, [version(ids[n], 2), version(ids[-1 - n], 3), version(7300 + n)])

    listed, _ = walk(olanor, between=write_between_pages, antall=5)
    seen = [o["id"] for o in listed]
    assert len(seen) == len(set(seen)) and set(ids) <= set(seen)  # each once, none skipped

    after = page(olanor, antall=1)["metadata"]["tidspunkt"]
    time.sleep(1.1)
    load(admin, [version(i, 5) for i in ids])
    writes = iter(range(len(ids)))
    fed, _ = walk(olanor, between=write_between_pages, antall=5, endretEtter=after)
    assert set(ids) <= {o["id"] for o in fed}  # moved entries come again later, never skipped


def _pages(client: Client, **params: Any) -> list[dict[str, Any]]:
    answers = [page(client, **params)]
    while answers[-1]["metadata"]["returnert"]:
        answers.append(client.session.get(answers[-1]["metadata"]["neste"]["href"], timeout=30).json())
    return answers


def test_antall_counts_the_whole_walk_on_every_page(admin, olanor):
    """metadata.antall as NVDB API Les v3 gives it (a real client reads it from the first page)."""
    load(admin, [version(i) for i in range(7601, 7608)])
    answers = _pages(olanor, antall=3)
    found = [o for a in answers for o in a["objekter"]]
    assert len(found) >= 7 and {a["metadata"]["antall"] for a in answers} == {len(found)}
    assert [a["metadata"]["returnert"] for a in answers] == [len(a["objekter"]) for a in answers]
    after = answers[0]["metadata"]["tidspunkt"]
    time.sleep(1.1)
    load(admin, [version(i, 2) for i in range(7601, 7604)])
    fed = _pages(olanor, antall=2, endretEtter=after)
    assert {a["metadata"]["antall"] for a in fed} == {sum(len(a["objekter"]) for a in fed)}


def test_a_changeset_not_yet_committed_is_not_visible(admin, olanor):
    load(admin, [version(7401)])
    after = page(olanor, antall=1)["metadata"]["tidspunkt"]
    # Overlays written, commit not yet: in the index, but readers see what was there before.
    changesets.create("cs-ventende", {"id": "cs-ventende", "fremdrift": "BEHANDLES", "eier": "olanor"}, {})
    objects.write_overlays("cs-ventende", [Write(7401, 1, TYPE, None), Write(7402, 1, TYPE, version(7402))])
    seen = changed(olanor, after)
    assert 7402 not in seen and not seen[7401].get("fjernet")
    assert 7402 not in {o["id"] for o in walk(olanor, antall=1000)[0]}


def register(client: Client, konsument_id: str) -> None:
    r = client.request("POST", "/rest/v1/konsumenter", data=json.dumps({
        "id": konsument_id, "navn": "Test", "utvalg": {"vegobjekttyper": [TYPE]}, "mål": {"type": "DYNAMODB"},
        "sletteterskel": {"antall": 100, "andel": 1.0}}))
    assert r.status_code == 201, r.text


def run(client: Client, konsument_id: str, **body: Any) -> dict[str, Any]:
    r = client.request("POST", f"/rest/v1/konsumenter/{konsument_id}/kjøringer", data=json.dumps(body))
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        report = client.request("GET", f"/rest/v1/konsumenter/{konsument_id}/kjøringer/{r.json()['id']}").json()
        if report["status"] != "PÅGÅR":
            return report
        time.sleep(0.1)
    raise AssertionError(f"run still going: {report}")


def test_changesets_reach_endret_etter_and_the_consumer_in_delta_and_full(stack, admin, olanor):
    """register, then oppdater + lukk + fjern: the feed shows objects and tombstones, the next
    DELTA sends exactly those, and a FULL run after it finds nothing to do."""
    fagadmin = Client(stack.url, "fagadmin", ("5_fagdata_admin",))
    load(admin, [version(7501)])
    register(fagadmin, "endringer")
    # Each run starts past the overlap (1 s here) after the writes before it, so a DELTA run reads
    # only what changed since the previous run.
    time.sleep(1.1)
    first = run(fagadmin, "endringer", modus="FULL")
    assert first["status"] == "FULLFØRT" and first["opprettet"] == first["hentet"] > 0
    _, status = olanor.run(changeset(registrer=[kum("kum#u"), kum("kum#l"), kum("kum#f")]))
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET", status
    updated, closed, removed = (o["nvdbId"] for o in status["resultat"]["vegobjekter"])
    seen = changed(olanor, first["vannmerke"], inkluder="metadata")
    assert all(seen[i]["metadata"]["versjon"] == 1 and seen[i]["hash"] and seen[i]["endret"] > first["vannmerke"]
               for i in (updated, closed, removed))
    time.sleep(1.1)
    delta = run(fagadmin, "endringer", modus="DELTA")
    assert delta["status"] == "FULLFØRT" and delta["endretEtter"] == first["vannmerke"]
    assert (delta["hentet"], delta["oppdatert"], delta["slettet"]) == (3, 3, 0)
    copy = store.DynamoTarget("endringer")
    assert all(copy.get(i) for i in (updated, closed, removed))

    current = olanor.request("GET", f"/rest/v3/vegobjekter/{TYPE}/{updated}").json()["versjoner"][-1]
    update = {k: current[k] for k in ("typeId", "egenskaper", "stedfesting")}
    update.update(nvdbId=updated, versjon=1, gyldighetsperiode={"startdato": "2025-01-01"})
    _, status = olanor.run(changeset(
        oppdater=[update], lukk=[{"typeId": TYPE, "nvdbId": closed, "versjon": 1, "lukkedato": "2025-01-01"}],
        fjern=[{"typeId": TYPE, "nvdbId": removed}]))
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET", status["resultat"]
    seen = changed(olanor, delta["vannmerke"])
    assert {k: v for k, v in seen[closed].items() if k != "endret"} == {"id": closed, "fjernet": True}
    assert seen[removed]["fjernet"] is True and not seen[updated].get("fjernet")
    delta = run(fagadmin, "endringer", modus="DELTA")
    assert (delta["hentet"], delta["oppdatert"], delta["slettet"], delta["feilet"]) == (3, 1, 2, 0)
    assert copy.get(updated)["versjon"] == 2 and copy.get(closed) is None and copy.get(removed) is None
    log = fagadmin.request("GET", f"/rest/v1/konsumenter/endringer/kjøringer/{delta['id']}/logg").json()["logg"]
    assert sorted((e["id"], e["handling"]) for e in log) == sorted(
        [(updated, "OPPDATERT"), (closed, "SLETTET"), (removed, "SLETTET")])

    full = run(fagadmin, "endringer", modus="FULL")  # FULL agrees with what DELTA left
    assert full["status"] == "FULLFØRT" and (full["opprettet"], full["oppdatert"], full["slettet"]) == (0, 0, 0)
