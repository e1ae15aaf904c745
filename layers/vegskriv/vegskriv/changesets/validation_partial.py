"""Element-wise changes of a delvisOppdater/delvisKorriger against the stored version (pure).

``operasjon="ny"``/``"slett"`` on one daughter id of an association or on one location element
adds or removes that value only (endringssett/oppbygging.md, "Delvise assosiasjoner" and "Delvis
stedfesting"). NVDB refuses a value added twice, a value removed that is not there, and a location
element added on top of a stored one (endringssett/migrering_fra_v2.md: "Det er heller ikke
tillatt å legge til en verdi som er identisk med eller overlapper en gjeldende verdi").
"""

from __future__ import annotations

from typing import Any

from vegskriv import catalog as cat
from vegskriv.changesets.models import Varsel
from vegskriv.changesets.operations import normalize_association_type

_KINDS = ("punkt", "linje", "sving")


def check_elements(o: Any, vt: cat.Vegobjekttype, old: dict[str, Any]) -> list[Varsel]:
    """EGENSKAPSVERDI_FINNES_ALLEREDE / _FINNES_IKKE / _OVERLAPPER for ``o`` against version ``old``."""
    ref = str(o.nvdbId)
    return _associations(o, old, ref) + _location(o, vt, old, ref)


def _v(kode: str, melding: str, ref: str, type_id: int | None) -> Varsel:
    return Varsel(kode=kode, melding=melding, referanse=ref, egenskapTypeId=type_id)


def _associations(o: Any, old: dict[str, Any], ref: str) -> list[Varsel]:
    stored = {a["typeId"]: set(a.get("nvdbId") or []) for a in old.get("assosiasjoner") or []}
    found: list[Varsel] = []
    for a in o.assosiasjoner:
        if a.operasjon == "slett":
            continue
        held = stored.get(normalize_association_type(a.typeId) or a.typeId, set())
        for t in a.nvdbId:
            if t.operasjon == "ny" and t.verdi in held:
                found.append(_v("EGENSKAPSVERDI_FINNES_ALLEREDE",
                                f"Datterobjektet {t.verdi} skal legges til assosiasjon {a.typeId}, men vegobjekt "
                                f"{o.nvdbId} versjon {o.versjon} har det allerede. Fjern operasjon='ny'-verdien.",
                                ref, a.typeId))
            elif t.operasjon == "slett" and t.verdi not in held:
                found.append(_v("EGENSKAPSVERDI_FINNES_IKKE",
                                f"Datterobjektet {t.verdi} skal fjernes fra assosiasjon {a.typeId}, men vegobjekt "
                                f"{o.nvdbId} versjon {o.versjon} har det ikke.", ref, a.typeId))
        for t in a.tempId:
            if t.operasjon == "slett":  # a tempId names an object this changeset creates: never stored
                found.append(_v("EGENSKAPSVERDI_FINNES_IKKE",
                                f"Datterobjektet {t.verdi} skal fjernes fra assosiasjon {a.typeId}, men et nytt "
                                f"objekt (tempId) kan ikke allerede være datterobjekt av {o.nvdbId}.",
                                ref, a.typeId))
    return found


def _plain(element: Any) -> dict[str, Any]:
    return dict(element.model_dump(mode="json", exclude_none=True, exclude={"operasjon"}))


def _span(kind: str, e: dict[str, Any]) -> tuple[float, float] | None:
    if kind == "linje":
        return e["fra"], e["til"]
    return (e["posisjon"], e["posisjon"]) if kind == "punkt" else None


def _overlap(kind: str, a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.get("veglenkesekvensNvdbId") != b.get("veglenkesekvensNvdbId"):
        return False
    sa, sb = _span(kind, a), _span(kind, b)
    if sa is None or sb is None:
        return False
    if kind == "punkt":
        return sa == sb
    return max(sa[0], sb[0]) < min(sa[1], sb[1])  # end to end is not overlap


def _location(o: Any, vt: cat.Vegobjekttype, old: dict[str, Any], ref: str) -> list[Varsel]:
    stedfesting = o.stedfesting
    if stedfesting is None or stedfesting.operasjon == "slett":
        return []
    et_id = vt.stedfesting.egenskapstype_id
    stored = old.get("stedfesting") or {}
    found: list[Varsel] = []
    for kind in _KINDS:
        elements = getattr(stedfesting, kind) or []
        removed = [_plain(e) for e in elements if e.operasjon == "slett"]
        kept = [s for s in stored.get(kind) or [] if s not in removed]
        for e in elements:
            plain = _plain(e)
            where = f"{kind} på veglenkesekvens {plain.get('veglenkesekvensNvdbId', plain.get('nodeNvdbId'))}"
            if e.operasjon == "slett" and plain not in (stored.get(kind) or []):
                found.append(_v("EGENSKAPSVERDI_FINNES_IKKE",
                                f"Stedfestingselementet ({where}) skal fjernes, men vegobjekt {o.nvdbId} versjon "
                                f"{o.versjon} har det ikke. Oppgi elementet nøyaktig slik det er lagret.",
                                ref, et_id))
            elif e.operasjon == "ny" and plain in kept:
                found.append(_v("EGENSKAPSVERDI_FINNES_ALLEREDE",
                                f"Stedfestingselementet ({where}) skal legges til, men vegobjekt {o.nvdbId} "
                                f"versjon {o.versjon} har det allerede.", ref, et_id))
            elif e.operasjon == "ny" and any(_overlap(kind, plain, s) for s in kept):
                found.append(_v("EGENSKAPSVERDI_OVERLAPPER",
                                f"Stedfestingselementet ({where}) overlapper et stedfestingselement vegobjekt "
                                f"{o.nvdbId} versjon {o.versjon} allerede har. Legg til bare den delen som "
                                "mangler, eller oppdater hele stedfestingen.", ref, et_id))
    return found
