"""STEDFESTET_PÅ_KONNEKTERINGSVEGLENKE, STEDFESTET_PÅ_UGYLDIG_TOPOLOGINIVÅ, UKJENT_NODE and
NODE_UGYLDIG_PÅ_TIDSPUNKT: sequences with links and ports, a raising case and a close valid case
each, and a sequence without links or ports that gives none of them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.varsel_cases import fartsgrense, punkt, tunnel
from vegskriv.catalog import Datakatalog, Vegobjekttype, default_catalog
from vegskriv.changesets.models import Endringssett
from vegskriv.changesets.validation import Context, validate
from vegskriv.network import Veglenkesekvens

VLS, VLS_FRA, VLS_TIL, VLS_BAR = 1125766, 501, 502, 503
NODE, NODE_NY = 9001, 9002
CODES = {"STEDFESTET_PÅ_KONNEKTERINGSVEGLENKE", "STEDFESTET_PÅ_UGYLDIG_TOPOLOGINIVÅ", "UKJENT_NODE",
         "NODE_UGYLDIG_PÅ_TIDSPUNKT"}


def _seq(vls_id: int, **extra: Any) -> Veglenkesekvens:
    return Veglenkesekvens.model_validate({"veglenkesekvensId": vls_id, "lengde": 500, "kommune": 301, "fylke": 3,
                                           "vegkategori": "E", "startdato": "2000-01-01", **extra})


def _link(nummer: int, fra: float, til: float, **extra: Any) -> dict[str, Any]:
    return {"veglenkenummer": nummer, "startposisjon": fra, "sluttposisjon": til, "startdato": "2000-01-01", **extra}


NETWORK = {
    # 0-0.4 main link on the road line; 0.4-0.6 a connection link; 0.6-1 a carriageway in the
    # NVDB API Les spelling (detaljnivå); a link closed in 2010 lay where the connection link is now.
    VLS: _seq(VLS, veglenker=[_link(1, 0, 0.4), _link(2, 0.4, 0.6, type="KONNEKTERING"),
                              _link(3, 0.6, 1, detaljnivå="Kjørebane"),
                              _link(4, 0.4, 0.6, type="KONNEKTERING", topologinivå="KJOREFELT",
                                    sluttdato="2010-01-01")]),
    # A turn from 501 to 502 through NODE (ports 2 and 1); NODE_NY only meets links from 2021.
    VLS_FRA: _seq(VLS_FRA, veglenker=[_link(1, 0, 1, startport=1, sluttport=2)],
                  porter=[{"id": 1, "tilkobling": {"nodeid": 9000, "portnummer": 1}},
                          {"id": 2, "tilkobling": {"nodeid": NODE, "portnummer": 1}},
                          {"id": 3, "nodeid": NODE_NY}]),
    VLS_TIL: _seq(VLS_TIL, veglenker=[_link(1, 0, 1, startport=1, sluttport=2),
                                      _link(2, 0.9, 1, startport=3, sluttport=2, startdato="2021-01-01")],
                  porter=[{"id": 1, "tilkobling": {"nodeid": NODE, "portnummer": 2}},
                          {"id": 2, "tilkobling": {"nodeid": 9003}}, {"id": 3, "nodeid": NODE_NY}]),
    VLS_BAR: _seq(VLS_BAR),  # an old network file: no links, no ports
}


def _catalog() -> Datakatalog:
    raw = default_catalog().model_dump(mode="json", by_alias=True)
    raw["vegobjekttyper"].append(Vegobjekttype.model_validate(
        {"id": 573, "navn": "Svingerestriksjon", "stedfesting": {"type": "SVING"}}).model_dump(mode="json"))
    return Datakatalog.model_validate(raw)


CATALOG = _catalog()


def codes(obj: dict[str, Any], network: dict[int, Veglenkesekvens] = NETWORK,
          catalog: Datakatalog = CATALOG) -> list[str]:
    d = Endringssett.model_validate({"datakatalogversjon": "2.38", "registrer": {"vegobjekter": [obj]}})
    result = validate(d, Context(catalog=catalog, current_catalog_version="2.38", network=network, existing={}))
    entry = result.vegobjekter[0]
    return [v.kode for v in entry.feil + entry.advarsler if v.kode in CODES]


def sving(node: int = NODE, start: str = "2020-01-01", fra: int = VLS_FRA, til: int = VLS_TIL) -> dict[str, Any]:
    return {"typeId": 573, "tempId": "sving#1", "gyldighetsperiode": {"startdato": start}, "egenskaper": [],
            "stedfesting": {"sving": [{"nodeNvdbId": node, "fra": {"veglenkesekvensNvdbId": fra, "posisjon": 0.99},
                                       "til": {"veglenkesekvensNvdbId": til, "posisjon": 0.01}}]}}


def test_the_catalog_extract_forbids_connection_links_for_tunnel_and_allows_them_for_fartsgrense():
    assert CATALOG.vegobjekttype(581).styringsparametere["konnekteringslenke_ok"] is False
    assert CATALOG.vegobjekttype(105).styringsparametere["konnekteringslenke_ok"] is True


@pytest.mark.parametrize(("obj", "expected"), [
    (tunnel(stedfesting=punkt(0.5)), ["STEDFESTET_PÅ_KONNEKTERINGSVEGLENKE"]),
    (tunnel(stedfesting=punkt(0.3)), []),
    (tunnel(stedfesting=punkt(0.4)), []),  # at the port between the links, not inside the connection link
    (tunnel(stedfesting=punkt(0.5, vls=VLS_BAR)), []),
    (fartsgrense("fart#1", (0.3, 0.5)), []),  # Fartsgrense may lie on connection links
])
def test_connection_link(obj, expected):
    assert codes(obj) == expected


@pytest.mark.parametrize(("obj", "expected"), [
    (fartsgrense("fart#1", (0.5, 0.7)), ["STEDFESTET_PÅ_UGYLDIG_TOPOLOGINIVÅ"]),
    (fartsgrense("fart#1", (0.1, 0.6)), []),  # ends where the carriageway begins
    (tunnel(stedfesting=punkt(0.8)), ["STEDFESTET_PÅ_UGYLDIG_TOPOLOGINIVÅ"]),
    (fartsgrense("fart#1", (0.5, 0.7), vls=VLS_BAR), []),
])
def test_topology_level(obj, expected):
    assert codes(obj) == expected


def test_a_type_whose_catalog_entry_lists_the_carriageway_level_may_use_it():
    catalog = _catalog()
    catalog.vegobjekttype(105).styringsparametere["topologinivåer"] = ["VEGTRASE", "KJOREBANE"]
    assert codes(fartsgrense("fart#1", (0.5, 0.7)), catalog=catalog) == []


@pytest.mark.parametrize(("obj", "expected"), [
    (sving(), []),
    (sving(node=4656776), ["UKJENT_NODE"]),
    (sving(node=4656776, fra=VLS_BAR, til=VLS_BAR), []),  # no ports: not decidable
    (sving(node=NODE_NY, start="2021-06-01"), []),
    (sving(node=NODE_NY, start="2020-01-01"), ["NODE_UGYLDIG_PÅ_TIDSPUNKT"]),
])
def test_turn_node(obj, expected):
    assert codes(obj) == expected


def test_a_node_lives_as_long_as_links_meet_there_one_after_another():
    older = _link(3, 0.9, 1, startport=3, sluttport=2, sluttdato="2021-01-01")
    til = NETWORK[VLS_TIL].model_dump(mode="json")
    network = {**NETWORK, VLS_TIL: _seq(VLS_TIL, porter=til["porter"], veglenker=[*til["veglenker"], older])}
    assert codes(sving(node=NODE_NY, start="2020-01-01"), network) == []
    assert codes(sving(node=NODE_NY, start="1999-01-01"), network) == ["NODE_UGYLDIG_PÅ_TIDSPUNKT"]


def test_sequences_round_trip_through_json_with_links_and_ports():
    seq = NETWORK[VLS_TIL]
    assert Veglenkesekvens.model_validate_json(seq.model_dump_json()) == seq
    assert seq.noder() == {NODE: 1, 9003: 2, NODE_NY: 3}
    assert [v.topologinivå for v in NETWORK[VLS].veglenker or []][2] == ["KJOREBANE"]
