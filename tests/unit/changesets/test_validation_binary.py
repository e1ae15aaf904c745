"""BINÆRVERDI_FINNES_IKKE (behandlingsresultat.md): a Binærobjekt value names an uploaded object."""

from tests.unit.changesets.test_validation import ctx, doc, kum
from vegskriv.changesets.validation import validate

UPLOADED = "12d57307-8ba8-4866-8373-153768cfbd09"


def with_picture(ressurs_id: str, temp_id: str = "kum#1") -> dict:
    # NVDB's <binaer ressursId=".." format=".."/> (binaere_objekter/introduksjon.md), also inside a Struktur
    obj = kum(temp_id)
    obj["egenskaper"] += [{"typeId": 7900, "binaer": {"ressursId": ressurs_id, "format": "image/png"}},
                          {"typeId": 7901, "struktur": {"medlem": [
                              {"typeId": 7902, "binærobjekt": [{"ressursId": ressurs_id, "format": "image/png"}]}]}}]
    return obj


def codes(result, index=0):
    return [(v.kode, v.egenskapTypeId) for v in result.vegobjekter[index].feil if v.kode == "BINÆRVERDI_FINNES_IKKE"]


def test_unknown_ressurs_id_is_binaerverdi_finnes_ikke_on_its_object_and_property():
    asked = []
    context = ctx()
    context.binaries = lambda ids: asked.append(set(ids)) or {UPLOADED}
    result = validate(doc(registrer={"vegobjekter": [with_picture(UPLOADED, "kum#1"), with_picture("borte", "kum#2")]}),
                      context)
    assert asked == [{UPLOADED, "borte"}]  # one lookup for the whole changeset
    assert codes(result, 0) == []
    assert codes(result, 1) == [("BINÆRVERDI_FINNES_IKKE", 7900), ("BINÆRVERDI_FINNES_IKKE", 7902)]
    assert result.vegobjekter[1].feil[-1].referanse == "kum#2"


def test_changed_objects_are_checked_and_no_lookup_without_binaries():
    context = ctx()
    context.binaries = lambda ids: set()
    changed = with_picture("borte")
    changed.pop("tempId")
    result = validate(doc(delvisOppdater={"vegobjekter": [{**changed, "nvdbId": 5, "versjon": 1}]}), context)
    assert codes(result) == [("BINÆRVERDI_FINNES_IKKE", 7900), ("BINÆRVERDI_FINNES_IKKE", 7902)]
    context.binaries = lambda ids: (_ for _ in ()).throw(AssertionError("no binary values, no lookup"))
    assert codes(validate(doc(registrer={"vegobjekter": [kum()]}), context)) == []
