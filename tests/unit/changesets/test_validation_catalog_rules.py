"""Codes the catalog decides beyond a value's form: where a geometry lies, its quality fields,
derived properties and types blocked for changesets. Each: a raising input and a close valid one."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.changesets.test_validation import ctx, doc, kum
from vegskriv.catalog import Datakatalog, default_catalog
from vegskriv.changesets.models import Egenskap
from vegskriv.changesets.validation import Context, validate

KUM_PUNKT = "POINT (218124.0 7023329.5 350.3)"


def geometri(wkt: str = KUM_PUNKT, srid: int = 25833, **extra: Any) -> list[Egenskap]:
    return [Egenskap.model_validate({"typeId": 4784, "geometri": [{"srid": srid, "wkt": wkt, **extra}]})]


def codes(egenskaper: list[Egenskap], katalog: Datakatalog | None = None) -> tuple[list[str], list[str]]:
    kat = katalog or default_catalog()
    vt = kat.vegobjekttype(83)
    assert vt is not None
    feil, advarsler = kat.validate_egenskaper(vt, egenskaper, referanse="kum#1", complete=False)
    assert all(v.egenskapTypeId == 4784 for v in feil + advarsler)
    return [v.kode for v in feil], [v.kode for v in advarsler]


@pytest.mark.parametrize(("bad", "good"), [
    (geometri("POINT (1 2)"), geometri()),  # E/N near the equator: not in Norway's zone 33
    (geometri("POINT (7023329.5 218124.0)", srid=5973), geometri("POINT (218124.0 7023329.5)", srid=5973)),
    (geometri("POINT (218124 9500000)"), geometri("POINT (500000 8990000)")),  # beyond / on Svalbard
])
def test_a_point_outside_the_zone_33_outline(bad, good):
    assert codes(bad) == (["GEOMETRI_UTENFOR_OMRISSET_AV_EUREF89_UTM33N"], [])
    assert codes(good) == ([], [])


def test_the_outline_is_not_judged_in_a_zone_vegskriv_cannot_transform():
    assert codes(geometri("POINT (1 2)", srid=25832)) == ([], [])


def test_wgs84_that_is_no_longitude_latitude_cannot_be_transformed():
    assert codes(geometri("POINT (190 95)", srid=4326)) == (["UGYLDIG_GEOMETRITRANSFORMASJON"], [])
    assert codes(geometri("POINT (10.4 63.4)", srid=4326)) == ([], [])
    assert codes(geometri("POINT (63.4 10.4)", srid=4326)) == ([], [])  # latitude first is read too


@pytest.mark.parametrize(("bad", "good"), [
    ({"synbarhet": 4}, {"synbarhet": 3}),
    ({"målemetode": 100}, {"målemetode": 96}),
    ({"målemetodeHøyde": -1}, {"målemetodeHøyde": 0}),
    ({"nøyaktighet": -7}, {"nøyaktighet": 7}),
    ({"nøyaktighetHøyde": -1}, {"nøyaktighetHøyde": 0}),
    ({"toleranse": -1}, {"toleranse": 1}),
])
def test_quality_parameters(bad, good):
    assert codes(geometri(kvalitet=bad)) == (["UGYLDIG_KVALITETSPARAMETER"], [])
    assert codes(geometri(kvalitet=good)) == ([], [])


def _catalog(**changes: Any) -> Datakatalog:
    """The default catalog with Kum (83) changed: ``vt`` fields, or ``et`` for property 1411."""
    raw = default_catalog().model_dump(mode="json", by_alias=True)
    for t in raw["vegobjekttyper"]:
        if t["id"] == 83:
            t["styringsparametere"].update(changes.get("vt", {}))
            for et in t["egenskapstyper"]:
                if et["id"] == 1411:
                    et.update(changes.get("et", {}))
    return Datakatalog.model_validate(raw)


def test_a_derived_property_warns_that_the_value_is_overwritten():
    kat = _catalog(et={"avledet": True})
    vt = kat.vegobjekttype(83)
    assert vt is not None
    given = [Egenskap.model_validate({"typeId": 1411, "verdi": ["Betong"]})]
    feil, advarsler = kat.validate_egenskaper(vt, given, referanse="kum#1", complete=False)
    assert feil == [] and [(v.kode, v.egenskapTypeId) for v in advarsler] == [("AVLEDET_EGENSKAPSTYPE", 1411)]
    other = [Egenskap.model_validate({"typeId": 1586, "verdi": ["1.4"]})]
    assert kat.validate_egenskaper(vt, other, referanse="kum#1", complete=False) == ([], [])


@pytest.mark.parametrize("flag", ["abstrakt_type", "avledet"])
def test_an_abstract_or_derived_type_cannot_be_written(flag):
    blocked = Context(catalog=_catalog(vt={flag: True}), current_catalog_version="2.38",
                      network=ctx().network)
    d = doc(registrer={"vegobjekter": [kum()]})
    assert [v.kode for v in validate(d, blocked).vegobjekter[0].feil] == ["VEGOBJEKTTYPE_KAN_IKKE_BEHANDLES"]
    ordinary = Context(catalog=_catalog(vt={flag: False}), current_catalog_version="2.38", network=ctx().network)
    assert not validate(d, ordinary).har_feil()
