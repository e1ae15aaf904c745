"""The data-rights rule (vegskriv.changesets.rights), without AWS."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from vegskriv.catalog import Datakatalog, Egenskapstype, Vegobjekttype
from vegskriv.changesets.models import Endringssett, Resultat, VegobjektResultat
from vegskriv.changesets.rights import (
    MANGLER_TILGANG,
    Brudd,
    Datarettighet,
    Tilgang,
    add_to_result,
    check_rights,
    default_grants,
    parse_default_rights,
)
from vegskriv.network import Veglenkesekvens

HEMMELIG = 9001  # sensitivity 2
STRUKTUR = 9002  # not sensitive itself, but has a member with sensitivity 3
CATALOG = Datakatalog(versjon="t", vegobjekttyper=[
    Vegobjekttype(id=95, navn="Skiltpunkt", egenskapstyper=[
        Egenskapstype(id=5530, navn="Ansiktsside", sensitivitet=0),
        Egenskapstype(id=HEMMELIG, navn="Hemmelig", sensitivitet=2),
        Egenskapstype(id=STRUKTUR, navn="Struktur", datatype="Struktur",
                      medlemmer=[Egenskapstype(id=9003, navn="Indre", sensitivitet=3)]),
    ]),
    Vegobjekttype(id=83, navn="Kum"),
])


def _seq(vls_id: int, kommune: int, fylke: int, vegkategori: str) -> Veglenkesekvens:
    return Veglenkesekvens(veglenkesekvensId=vls_id, lengde=100, kommune=kommune, fylke=fylke,
                           vegkategori=vegkategori, startdato=date(2000, 1, 1))


NETWORK = {1: _seq(1, 301, 3, "E"), 2: _seq(2, 301, 3, "K"), 3: _seq(3, 5001, 50, "E"), 4: _seq(4, 5001, 50, "E")}
OSLO_E, OSLO_K, TRONDHEIM_E = 1, 2, 3


def punkt(*vls: int) -> dict[str, Any]:
    return {"punkt": [{"veglenkesekvensNvdbId": v, "posisjon": 0.5} for v in vls]}


def ny(type_id: int = 95, *vls: int, temp_id: str = "t1", egenskaper: list[dict[str, Any]] | None = None,
       ) -> dict[str, Any]:
    obj: dict[str, Any] = {"typeId": type_id, "tempId": temp_id, "gyldighetsperiode": {"startdato": "2024-01-01"},
                           "egenskaper": egenskaper or []}
    if vls:
        obj["stedfesting"] = punkt(*vls)
    return obj


def stored(nvdb_id: int = 1000, vls: int = TRONDHEIM_E, egenskaper: list[dict[str, Any]] | None = None,
           ) -> dict[int, list[dict[str, Any]]]:
    return {nvdb_id: [{"id": nvdb_id, "versjon": 1, "typeId": 95, "gyldighetsperiode": {"startdato": "2020-01-01"},
                       "egenskaper": egenskaper or [], "stedfesting": punkt(vls), "assosiasjoner": []}]}


def doc(**ops: Any) -> Endringssett:
    return Endringssett.model_validate({"datakatalogversjon": "t", **ops})


def registrer(*objs: dict[str, Any]) -> Endringssett:
    return doc(registrer={"vegobjekter": list(objs)})


def rights(*grants: dict[str, Any]) -> Datarettighet:
    return Datarettighet.model_validate({"brukernavn": "olanor", "tilganger": list(grants)})


def check(d: Endringssett, r: Datarettighet | None, *, roles: tuple[str, ...] = ("0_bruker_fagdata",),
          existing: dict[int, list[dict[str, Any]]] | None = None, default: list[Tilgang] | None = None,
          ) -> list[Brudd]:
    return check_rights(d, r, roles=roles, network=NETWORK, existing=existing or {}, catalog=CATALOG,
                        default=default)


# --- object types and areas ---------------------------------------------------------------------


def test_type_grant_without_area_allows_everywhere() -> None:
    assert check(registrer(ny(95, OSLO_E, TRONDHEIM_E)), rights({"vegobjekttyper": [95]})) == []


def test_missing_type_names_the_type() -> None:
    [b] = check(registrer(ny(83, OSLO_E)), rights({"vegobjekttyper": [95]}))
    assert (b.operasjon, b.referanse, b.varsel.kode, b.varsel.referanse) == ("registrer", "t1", MANGLER_TILGANG, "t1")
    assert "Kum (83)" in b.varsel.melding


def test_kommune_grant() -> None:
    r = rights({"vegobjekttyper": "alle", "kommuner": [301]})
    assert check(registrer(ny(95, OSLO_E, OSLO_K)), r) == []
    [b] = check(registrer(ny(95, OSLO_E, TRONDHEIM_E)), r)
    assert "kommune 5001" in b.varsel.melding and "veglenkesekvens 3" in b.varsel.melding
    assert b.varsel.melding.endswith("omfatter kommune 5001.")


def test_fylke_grant() -> None:
    r = rights({"vegobjekttyper": [95], "fylker": [50]})
    assert check(registrer(ny(95, TRONDHEIM_E)), r) == []
    [b] = check(registrer(ny(95, OSLO_K)), r)
    assert "omfatter fylke 3." in b.varsel.melding


def test_vegkategori_grant() -> None:
    r = rights({"vegobjekttyper": [95], "vegkategorier": ["E"]})
    assert check(registrer(ny(95, OSLO_E, TRONDHEIM_E)), r) == []
    [b] = check(registrer(ny(95, OSLO_K)), r)
    assert "omfatter vegkategori K." in b.varsel.melding


def test_all_given_dimensions_must_match_and_only_the_missing_one_is_named() -> None:
    r = rights({"vegobjekttyper": [95], "kommuner": [301], "vegkategorier": ["E"]})
    assert check(registrer(ny(95, OSLO_E)), r) == []
    [b] = check(registrer(ny(95, OSLO_K)), r)
    assert "omfatter vegkategori K." in b.varsel.melding and "omfatter kommune" not in b.varsel.melding


def test_grants_add_up() -> None:
    r = rights({"vegobjekttyper": [95], "vegkategorier": ["E"]}, {"vegobjekttyper": [95], "kommuner": [301]})
    assert check(registrer(ny(95, OSLO_E, OSLO_K, TRONDHEIM_E)), r) == []


def test_grant_for_another_type_does_not_cover_the_area() -> None:
    r = rights({"vegobjekttyper": [83]}, {"vegobjekttyper": [95], "kommuner": [301]})
    [b] = check(registrer(ny(95, TRONDHEIM_E)), r)
    assert "Skiltpunkt (95)" in b.varsel.melding


def test_sequences_in_the_same_area_give_one_varsel() -> None:
    [b] = check(registrer(ny(95, 3, 4)), rights({"vegobjekttyper": [95], "kommuner": [301]}))
    assert "veglenkesekvens 3, 4" in b.varsel.melding


def test_unlocated_object_needs_a_grant_without_area() -> None:
    assert check(registrer(ny(95)), rights({"vegobjekttyper": [95]})) == []
    [b] = check(registrer(ny(95)), rights({"vegobjekttyper": [95], "fylker": [3]}))
    assert "ikke stedfestet" in b.varsel.melding


def test_unknown_sequence_is_not_covered_by_an_area_grant() -> None:
    [b] = check(registrer(ny(95, 99)), rights({"vegobjekttyper": [95], "fylker": [3]}))
    assert "veglenkesekvens 99" in b.varsel.melding and "finnes ikke" in b.varsel.melding


# --- existing objects: where they were ------------------------------------------------------------

OSLO_ONLY = {"vegobjekttyper": [95], "kommuner": [301]}


def test_lukk_and_fjern_use_the_stored_location() -> None:
    lukk = doc(lukk={"vegobjekter": [{"typeId": 95, "nvdbId": 1000, "versjon": 1, "lukkedato": "2024-01-01"}]})
    fjern = doc(fjern={"vegobjekter": [{"typeId": 95, "nvdbId": 1000, "versjon": 1}]})
    for d in (lukk, fjern):
        assert check(d, rights(OSLO_ONLY), existing=stored(vls=OSLO_E)) == []
        [b] = check(d, rights(OSLO_ONLY), existing=stored(vls=TRONDHEIM_E))
        assert b.referanse == "1000" and "kommune 5001" in b.varsel.melding


def test_moving_an_object_needs_rights_where_it_was() -> None:
    d = doc(oppdater={"vegobjekter": [{"typeId": 95, "nvdbId": 1000, "versjon": 1,
                                        "gyldighetsperiode": {"startdato": "2024-01-01"},
                                        "stedfesting": punkt(OSLO_E)}]})
    assert check(d, rights(OSLO_ONLY), existing=stored(vls=OSLO_K)) == []
    [b] = check(d, rights(OSLO_ONLY), existing=stored(vls=TRONDHEIM_E))
    assert b.operasjon == "oppdater" and "(veglenkesekvens 3)" in b.varsel.melding


def test_partial_update_without_location_uses_the_stored_one() -> None:
    d = doc(delvisOppdater={"vegobjekter": [{"typeId": 95, "nvdbId": 1000, "versjon": 1,
                                              "egenskaper": [{"typeId": 5530, "verdi": ["x"]}]}]})
    assert check(d, rights(OSLO_ONLY), existing=stored(vls=OSLO_E)) == []
    assert len(check(d, rights(OSLO_ONLY), existing=stored(vls=TRONDHEIM_E))) == 1


# --- sensitivity, admin, defaults -------------------------------------------------------------------

EVERYTHING = {"vegobjekttyper": "alle"}


def test_sensitive_property_needs_its_role() -> None:
    d = registrer(ny(95, OSLO_E, egenskaper=[{"typeId": HEMMELIG, "verdi": ["x"]}, {"typeId": 5530, "verdi": ["y"]}]))
    [b] = check(d, rights(EVERYTHING))
    assert b.varsel.egenskapTypeId == HEMMELIG and "0_sensitive_role2" in b.varsel.melding
    assert len(check(d, rights(EVERYTHING), roles=("0_sensitive_role1",))) == 1  # another level does not do
    assert check(d, rights(EVERYTHING), roles=("0_sensitive_role2",)) == []


def test_sensitive_struktur_member_counts() -> None:
    d = registrer(ny(95, OSLO_E, egenskaper=[{"typeId": STRUKTUR, "medlem": [{"typeId": 9003, "verdi": ["z"]}]}]))
    [b] = check(d, rights(EVERYTHING))
    assert b.varsel.egenskapTypeId == STRUKTUR and "0_sensitive_role3" in b.varsel.melding


def _oppdater(op: str, egenskaper: list[dict[str, Any]]) -> Endringssett:
    obj: dict[str, Any] = {"typeId": 95, "nvdbId": 1000, "versjon": 1, "egenskaper": egenskaper}
    if not op.startswith("delvis"):
        obj["gyldighetsperiode"] = {"startdato": "2024-01-01"}
    if "orriger" in op:  # a correction must say when the object was read
        obj["validering"] = {"lestFraNvdb": "2024-01-01T12:00:00"}
    return doc(**{op: {"vegobjekter": [obj]}})


def test_sensitive_value_sent_back_unchanged_is_not_a_change() -> None:
    old = stored(vls=OSLO_E, egenskaper=[{"typeId": HEMMELIG, "verdi": ["x"]}])
    same = _oppdater("oppdater", [{"typeId": HEMMELIG, "verdi": ["x"]}, {"typeId": 5530, "verdi": ["ny"]}])
    assert check(same, rights(EVERYTHING), existing=old) == []
    changed = _oppdater("korriger", [{"typeId": HEMMELIG, "verdi": ["y"]}])
    assert [b.varsel.egenskapTypeId for b in check(changed, rights(EVERYTHING), existing=old)] == [HEMMELIG]
    removed = _oppdater("oppdater", [{"typeId": 5530, "verdi": ["ny"]}])  # full update leaves it out
    assert [b.varsel.egenskapTypeId for b in check(removed, rights(EVERYTHING), existing=old)] == [HEMMELIG]


def test_partial_update_of_sensitive_property() -> None:
    old = stored(vls=OSLO_E, egenskaper=[{"typeId": HEMMELIG, "verdi": ["x"]}])
    untouched = _oppdater("delvisOppdater", [{"typeId": 5530, "verdi": ["ny"]}])
    assert check(untouched, rights(EVERYTHING), existing=old) == []
    slett = _oppdater("delvisKorriger", [{"typeId": HEMMELIG, "operasjon": "slett"}])
    assert [b.varsel.egenskapTypeId for b in check(slett, rights(EVERYTHING), existing=old)] == [HEMMELIG]


def test_lukk_does_not_need_sensitivity_roles() -> None:
    old = stored(vls=OSLO_E, egenskaper=[{"typeId": HEMMELIG, "verdi": ["x"]}])
    lukk = doc(lukk={"vegobjekter": [{"typeId": 95, "nvdbId": 1000, "versjon": 1, "lukkedato": "2024-01-01"}]})
    assert check(lukk, rights(EVERYTHING), existing=old) == []


def test_system_admin_bypasses_everything() -> None:
    d = registrer(ny(83, TRONDHEIM_E, egenskaper=[]), ny(95, 99, temp_id="t2",
                                                           egenskaper=[{"typeId": HEMMELIG, "verdi": ["x"]}]))
    assert check(d, rights(), roles=("9_system_admin",)) == []
    assert len(check(d, rights())) == 3


def test_empty_record_denies_even_when_the_default_allows() -> None:
    assert len(check(registrer(ny(95, OSLO_E)), rights(), default=[Tilgang(vegobjekttyper="alle")])) == 1


def test_no_record_uses_the_given_default() -> None:
    d = registrer(ny(95, OSLO_E))
    assert check(d, None, default=[Tilgang(vegobjekttyper="alle")]) == []
    assert len(check(d, None, default=[])) == 1


def test_no_record_uses_default_rights_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    d = registrer(ny(95, TRONDHEIM_E))
    monkeypatch.delenv("DEFAULT_RIGHTS", raising=False)
    assert check(d, None) == []  # unset: everything (local development, existing e2e tests)
    monkeypatch.setenv("DEFAULT_RIGHTS", "ingen")
    assert len(check(d, None)) == 1
    monkeypatch.setenv("DEFAULT_RIGHTS", '[{"vegobjekttyper": [95], "fylker": [50]}]')
    assert check(d, None) == []
    monkeypatch.setenv("DEFAULT_RIGHTS", '[{"vegobjekttyper": [95], "fylker": [3]}]')
    assert len(check(d, None)) == 1


def test_default_rights_parsing() -> None:
    assert parse_default_rights(" ALLE ") == [Tilgang(vegobjekttyper="alle")]
    assert parse_default_rights("ingen") == []
    assert default_grants({}) == [Tilgang(vegobjekttyper="alle")]
    with pytest.raises(ValueError, match="DEFAULT_RIGHTS"):
        parse_default_rights("kanskje")
    with pytest.raises(ValueError, match="DEFAULT_RIGHTS"):
        parse_default_rights('[{"vegobjekttyper": [95], "vegkategorier": ["X"]}]')


# --- model and result ----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [
    {"brukernavn": "ola nor", "tilganger": []},
    {"brukernavn": "olanor", "tilganger": [{"vegobjekttyper": []}]},
    {"brukernavn": "olanor", "tilganger": [{"vegobjekttyper": "noen"}]},
    {"brukernavn": "olanor", "tilganger": [{"vegobjekttyper": [95], "vegkategorier": ["X"]}]},
    {"brukernavn": "olanor", "tilganger": [{"vegobjekttyper": [95], "typerVeg": ["RAMPE"]}]},
])
def test_model_refuses_bad_input(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Datarettighet.model_validate(bad)


def test_add_to_result_puts_varsler_on_their_objects() -> None:
    d = doc(registrer={"vegobjekter": [ny(83, OSLO_E)]},
            lukk={"vegobjekter": [{"typeId": 95, "nvdbId": 1000, "versjon": 1, "lukkedato": "2024-01-01"}]})
    breaches = check(d, rights({"vegobjekttyper": [95], "kommuner": [301]}), existing=stored(vls=TRONDHEIM_E))
    resultat = Resultat(vegobjekter=[VegobjektResultat(tempId="t1", typeId=83, operasjon="registrer"),
                                     VegobjektResultat(nvdbId=1000, versjon=1, typeId=95, operasjon="lukk")])
    add_to_result(resultat, [*breaches, Brudd("fjern", "42", breaches[0].varsel)])
    assert [v.kode for v in resultat.vegobjekter[0].feil] == [MANGLER_TILGANG]
    assert [v.kode for v in resultat.vegobjekter[1].feil] == [MANGLER_TILGANG]
    assert [v.kode for v in resultat.feil] == [MANGLER_TILGANG]  # no matching entry: on the changeset
    assert resultat.har_feil()


# --- CLI -----------------------------------------------------------------------------------------


def test_cli_builds_the_requests(tmp_path: Any) -> None:
    import argparse

    from vegskriv.local.rights_cli import _request, add_rights_parser

    parser = argparse.ArgumentParser(prog="vegskriv")
    add_rights_parser(parser.add_subparsers(dest="command", required=True))
    url = ["--url", "http://h:1/", "--token", "T"]
    assert _request(parser.parse_args(["rettigheter", "vis", *url])) == ("GET", "http://h:1/rest/v3/rettigheter/meg",
                                                                         None)
    args = parser.parse_args(["rettigheter", "slett", *url, "--bruker", "ola@x"])
    assert _request(args) == ("DELETE", "http://h:1/rest/v3/rettigheter/ola%40x", None)
    fil = tmp_path / "r.json"
    fil.write_text('{"tilganger": []}')
    args = parser.parse_args(["rettigheter", "sett", *url, "--bruker", "kari", "--fil", str(fil)])
    assert _request(args) == ("PUT", "http://h:1/rest/v3/rettigheter/kari", b'{"tilganger": []}')
    with pytest.raises(SystemExit, match="--fil"):
        _request(parser.parse_args(["rettigheter", "sett", *url, "--bruker", "kari"]))
    with pytest.raises(SystemExit, match="--bruker"):
        _request(parser.parse_args(["rettigheter", "slett", *url]))
