"""fjern without versjon removes every version: each one's location needs the rights."""

from __future__ import annotations

from tests.unit.changesets.test_rights import OSLO_E, OSLO_ONLY, TRONDHEIM_E, check, doc, punkt, rights


def test_removing_the_whole_history_needs_rights_where_the_older_versions_lie() -> None:
    """The object lay in Trondheim (v1) before it was moved to Oslo (v2). A user with Skiltpunkt
    rights in Oslo only may not remove v1 along with v2: he may not change it where it lies."""
    moved = {1000: [
        {"id": 1000, "versjon": 1, "typeId": 95, "gyldighetsperiode": {"startdato": "2015-01-01",
                                                                      "sluttdato": "2020-01-01"},
         "egenskaper": [], "stedfesting": punkt(TRONDHEIM_E), "assosiasjoner": []},
        {"id": 1000, "versjon": 2, "typeId": 95, "gyldighetsperiode": {"startdato": "2020-01-01"},
         "egenskaper": [], "stedfesting": punkt(OSLO_E), "assosiasjoner": []}]}
    everything = doc(fjern={"vegobjekter": [{"typeId": 95, "nvdbId": 1000}]})
    [b] = check(everything, rights(OSLO_ONLY), existing=moved)
    assert b.referanse == "1000" and "kommune 5001" in b.varsel.melding
