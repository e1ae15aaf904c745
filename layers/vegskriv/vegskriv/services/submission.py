"""Submitting a changeset through an edition (``X-NVDB-Tjeneste``) and the edition's form check.

The changeset records the published version it was accepted under, so a later migration (or a
change in the master) cannot change how an already registered changeset is validated.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from vegskriv.changesets.models import Endringssett, Resultat, Varsel, VegobjektResultat
from vegskriv.errors import BadRequest
from vegskriv.services.models import KODE, Skjema
from vegskriv.store import services as store

HEADER = "X-NVDB-Tjeneste"


def parse(header: str) -> tuple[str, str, str]:
    parts = header.strip().split("/")
    if len(parts) != 3 or not all(re.match(KODE, p) for p in parts):
        raise BadRequest(f"{HEADER}: '{header}' er ikke på formen {{eier}}/{{tjenestekode}}/{{utgavekode}}")
    return parts[0], parts[1], parts[2]


def accepting(header: str, today: date | None = None) -> dict[str, Any]:
    """The edition a changeset is submitted through, as stored on the changeset; 400 if it accepts nothing now."""
    eier, tk, uk = parse(header)
    found = store.get_edition(eier, tk, uk)
    if found is None:
        raise BadRequest(f"{HEADER}: utgaven {eier}/{tk}/{uk} finnes ikke")
    edition = found[0]
    published = store.version(eier, edition.key, edition.publisert) if edition.publisert else None
    if published is None:
        raise BadRequest(f"{HEADER}: utgaven {eier}/{tk}/{uk} er ikke migrert og tar ikke imot innsendinger")
    today = today or date.today()
    period = published.gyldighetsperiode
    if period is not None and (today < period.fra or (period.til is not None and today > period.til)):
        raise BadRequest(f"{HEADER}: utgaven {eier}/{tk}/{uk} tar imot innsendinger fra {period.fra}"
                         + (f" til {period.til}" if period.til else "") + f", ikke {today}")
    return {"eier": eier, "tjenestekode": tk, "utgavekode": uk, "versjon": published.versjon, "id": edition.key}


def edition_key(tjeneste: dict[str, Any]) -> str:
    """The key of the edition a changeset was submitted through (its codes then, if it was stored before ids)."""
    return str(tjeneste.get("id") or f"{tjeneste['tjenestekode']}#{tjeneste['utgavekode']}")


def _form(tjeneste: dict[str, Any]) -> Skjema | None:
    published = store.version(tjeneste["eier"], edition_key(tjeneste), int(tjeneste["versjon"]))
    return published.definisjon.skjema if published else None


def form_errors(doc: Endringssett, form: Skjema) -> list[tuple[str, Any, Varsel]]:
    """(operation, object, feil) for everything the form does not allow."""
    found = []
    for op, objects in doc.operations():
        for o in objects:
            ref = o.tempId if op == "registrer" else str(o.nvdbId)
            if o.typeId not in form.vegobjekttyper:
                found.append((op, o, Varsel(kode="VEGOBJEKTTYPE_IKKE_I_SKJEMA", referanse=ref, melding=(
                    f"Vegobjekttypen {o.typeId} er ikke med i skjemaet til tjenesten."))))
            if op not in form.operasjoner:
                found.append((op, o, Varsel(kode="OPERASJON_IKKE_I_SKJEMA", referanse=ref, melding=(
                    f"Operasjonen {op} er ikke med i skjemaet til tjenesten."))))
            # Required properties can be checked only where the whole object is given.
            if op in ("registrer", "oppdater", "korriger"):
                given = {e.typeId for e in o.egenskaper}
                for missing in sorted(set(form.påkrevdeEgenskaper.get(o.typeId, [])) - given):
                    found.append((op, o, Varsel(kode="MANGLER_SKJEMAPÅKREVD_EGENSKAP", referanse=ref,
                                                egenskapTypeId=missing, melding=(
                        f"Egenskapstype {missing} er påkrevd av skjemaet til tjenesten, men mangler."))))
    return found


def check_form_now(doc: Endringssett, header: str | None, resultat: Resultat) -> None:
    """POST /validator with ``X-NVDB-Tjeneste``: the form of the edition's published version, as register applies it."""
    if header is not None:
        check_form(doc, {"tjeneste": accepting(header)}, resultat)


def check_form(doc: Endringssett, meta: dict[str, Any], resultat: Resultat) -> None:
    """Add the edition's form errors to each object's ``feil`` (nothing for a changeset without an edition)."""
    tjeneste = meta.get("tjeneste")
    if not tjeneste or (form := _form(tjeneste)) is None:
        return
    for op, o, feil in form_errors(doc, form):
        key = (op, getattr(o, "tempId", None), getattr(o, "nvdbId", None))
        entry = next((e for e in resultat.vegobjekter if (e.operasjon, e.tempId, e.nvdbId) == key), None)
        if entry is None:
            entry = VegobjektResultat(typeId=o.typeId, operasjon=op, tempId=key[1], nvdbId=key[2])
            resultat.vegobjekter.append(entry)
        entry.feil.append(feil)
