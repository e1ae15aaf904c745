"""Sensitive Struktur members: removing one is a change of it, and needs its role too."""

from __future__ import annotations

from tests.unit.changesets.test_rights import EVERYTHING, OSLO_E, STRUKTUR, _oppdater, check, rights, stored

SECRET_MEMBER = {"typeId": STRUKTUR, "medlem": [{"typeId": 9003, "verdi": ["z"]}]}  # 9003: sensitivity 3


def test_removing_a_struktur_with_a_sensitive_member_needs_the_members_role() -> None:
    old = stored(vls=OSLO_E, egenskaper=[SECRET_MEMBER])
    for d in (_oppdater("oppdater", [{"typeId": 5530, "verdi": ["ny"]}]),  # full update leaves it out
              _oppdater("delvisKorriger", [{"typeId": STRUKTUR, "operasjon": "slett"}])):
        breaches = check(d, rights(EVERYTHING), existing=old)
        assert [b.varsel.egenskapTypeId for b in breaches] == [STRUKTUR], d
        assert "0_sensitive_role3" in breaches[0].varsel.melding


def test_replacing_a_struktur_without_its_sensitive_member_needs_the_members_role() -> None:
    old = stored(vls=OSLO_E, egenskaper=[SECRET_MEMBER])
    d = _oppdater("delvisOppdater", [{"typeId": STRUKTUR, "medlem": [], "operasjon": "oppdater"}])
    assert [b.varsel.egenskapTypeId for b in check(d, rights(EVERYTHING), existing=old)] == [STRUKTUR]


def test_a_sensitive_member_in_nvdbs_struktur_shape_needs_its_role() -> None:
    """NVDB writes a Struktur value as {"struktur": {"medlem": [...]}} (models.Egenskap reads both
    shapes); the member's sensitivity counts whichever shape the client used."""
    from tests.unit.changesets.test_rights import ny, registrer

    d = registrer(ny(95, OSLO_E, egenskaper=[{"typeId": STRUKTUR, "struktur": {"medlem": [
        {"typeId": 9003, "verdi": ["z"]}]}}]))
    [b] = check(d, rights(EVERYTHING))
    assert b.varsel.egenskapTypeId == STRUKTUR and "0_sensitive_role3" in b.varsel.melding
