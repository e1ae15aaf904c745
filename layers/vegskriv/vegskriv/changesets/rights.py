"""Data rights (datarettigheter): which object types a user may change where, and the check (pure).

Mirrors NVDB API Skriv's access control (``tilgangskontroll.md`` in nvdb-vegdata/apiskrivdokumentasjon):

* A :class:`Datarettighet` holds the grants (:class:`Tilgang`) an administrator gave one user. A
  grant names object types (HVA) and an area (HVOR): kommuner, fylker and vegkategorier. It applies
  where *all* the dimensions it gives match; an empty dimension means "any". Real NVDB has one such
  grant per user; a list lets one user have e.g. "all types in kommune 301" *and* "95 on E roads".
* Property types with sensitivity code 1-3 need the LDAP roles ``nva/0_sensitive_role1..3``. Those
  are roles of the caller (token), not part of the data rights; this project drops the ``nva/``
  prefix as it does for ``0_bruker_fagdata``, so the role names are ``0_sensitive_role1..3``.
* ``9_system_admin`` has every right ("API-administratoren selv har automatisk alle datarettigheter").
* A user without a rights record gets the grants of the ``DEFAULT_RIGHTS`` setting (see
  :func:`default_grants`); ``alle`` (the default) keeps a fresh local stack usable without an
  administrator step, ``ingen`` denies everything until rights are assigned.

:func:`check_rights` answers one :class:`Brudd` per breach; the workflow adds them to the result
(:func:`add_to_result`) and rejects the changeset with avvistårsak ``IKKE_AUTORISERT``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from vegskriv.auth import ROLE_SYSTEM_ADMIN
from vegskriv.changesets.models import Egenskap, Endringssett, Resultat, Varsel
from vegskriv.network import Veglenkesekvens

if TYPE_CHECKING:  # only annotations here; the catalog loads where one is read, not at the api's init
    from vegskriv.catalog import Datakatalog, Egenskapstype, Vegobjekttype

MANGLER_TILGANG = "MANGLER_TILGANG"
SENSITIVITY_ROLE = "0_sensitive_role{}"
DEFAULT_RIGHTS_ENV = "DEFAULT_RIGHTS"
ALLE = "alle"
INGEN = "ingen"
# Usernames become part of a DynamoDB sort key and a URL path segment: keep them plain.
BRUKERNAVN_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$"

Vegkategori = Literal["E", "R", "F", "K", "P", "S"]


class Tilgang(BaseModel):
    """One grant: these object types, where every given area dimension matches."""

    model_config = ConfigDict(extra="forbid")

    vegobjekttyper: list[int] | Literal["alle"] = Field(
        description='Vegobjekttype-id-er, eller "alle"', min_length=1)
    kommuner: list[int] = Field(default_factory=list, description="Tom = alle kommuner")
    fylker: list[int] = Field(default_factory=list, description="Tom = alle fylker")
    vegkategorier: list[Vegkategori] = Field(default_factory=list, description="Tom = alle vegkategorier")

    def gjelder_type(self, type_id: int) -> bool:
        return self.vegobjekttyper == ALLE or type_id in self.vegobjekttyper

    @property
    def uavgrenset(self) -> bool:
        """No area limit: the only kind of grant that covers objects whose area is unknown."""
        return not (self.kommuner or self.fylker or self.vegkategorier)

    def avvik(self, seq: Veglenkesekvens) -> list[str]:
        """The area dimensions of ``seq`` this grant does not cover (empty = covered)."""
        missing = []
        if self.kommuner and seq.kommune not in self.kommuner:
            missing.append(f"kommune {seq.kommune}")
        if self.fylker and seq.fylke not in self.fylker:
            missing.append(f"fylke {seq.fylke}")
        if self.vegkategorier and seq.vegkategori not in self.vegkategorier:
            missing.append(f"vegkategori {seq.vegkategori}")
        return missing


class Datarettighet(BaseModel):
    """The data rights of one user. ``oppdatert``/``oppdatertAv`` are set by the server."""

    model_config = ConfigDict(extra="forbid")

    brukernavn: str = Field(pattern=BRUKERNAVN_PATTERN)
    tilganger: list[Tilgang] = Field(default_factory=list)
    oppdatert: datetime | None = None
    oppdatertAv: str | None = None


@dataclass(frozen=True)
class Brudd:
    """One breach, keyed like validation.py keys objects: the operation and tempId/nvdbId."""

    operasjon: str
    referanse: str
    varsel: Varsel


# --- defaults -----------------------------------------------------------------------------------

_GRANTS = TypeAdapter(list[Tilgang])


def parse_default_rights(text: str) -> list[Tilgang]:
    """``alle`` (everything), ``ingen`` (nothing) or a JSON list of grants. Raises ValueError."""
    value = text.strip()
    if value.lower() == ALLE:
        return [Tilgang(vegobjekttyper=ALLE)]
    if value.lower() in (INGEN, ""):
        return []
    try:
        return _GRANTS.validate_python(json.loads(value))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ValueError(f"{DEFAULT_RIGHTS_ENV} må være 'alle', 'ingen' eller en JSON-liste med tilganger: "
                         f"{exc}") from exc


def default_grants(environ: Mapping[str, str] | None = None) -> list[Tilgang]:
    """The grants of a user without a rights record, from ``DEFAULT_RIGHTS`` (default ``alle``).

    A malformed setting raises rather than silently granting or denying: the workflow step then
    fails into VENTER:SYSTEMFEIL, which an operator sees and fixes, instead of wrong decisions.
    """
    env = os.environ if environ is None else environ
    return parse_default_rights(env.get(DEFAULT_RIGHTS_ENV, ALLE))


def effective_grants(rights: Datarettighet | None, default: Sequence[Tilgang] | None = None) -> list[Tilgang]:
    if rights is not None:
        return list(rights.tilganger)
    return list(default) if default is not None else default_grants()


# --- the check ----------------------------------------------------------------------------------


def check_rights(doc: Endringssett, rights: Datarettighet | None, *, roles: Iterable[str],
                 network: Mapping[int, Veglenkesekvens], existing: Mapping[int, list[dict[str, Any]]],
                 catalog: Datakatalog, default: Sequence[Tilgang] | None = None,
                 cascades: list[tuple[str, int, dict[str, Any]]] | None = None) -> list[Brudd]:
    """Every breach of the data rights and sensitivity roles in ``doc`` (empty = authorised);
    ``cascades``: operations.cascade_writes, when the caller has it already.

    ``rights`` is the user's record (None = none stored: ``default``, else ``DEFAULT_RIGHTS``,
    applies); ``roles`` the roles the owner had when registering. ``network`` and ``existing`` are
    what the validation context already holds: the sequences the changeset names and the stored
    versions of the objects it changes (their old location counts as well, see :func:`_sequences`).
    """
    role_set = frozenset(roles)
    if ROLE_SYSTEM_ADMIN in role_set:
        return []
    grants = effective_grants(rights, default)
    breaches: list[Brudd] = []
    for op, objects in doc.operations():
        for o in objects:
            ref = o.tempId if op == "registrer" else str(o.nvdbId)
            old = None if op == "registrer" else _old_version(existing.get(o.nvdbId) or [], o.versjon)
            vt = catalog.vegobjekttype(o.typeId)
            where = _sequences(o, old)
            if op == "fjern" and o.versjon is None:  # every version goes, wherever it lay
                where |= {i for v in existing.get(o.nvdbId) or [] for i in _stored_sequences(v.get("stedfesting"))}
            varsler = _area_breaches(o.typeId, _type_name(vt, o.typeId), where, grants, network, ref)
            if vt is not None and op not in ("lukk", "fjern"):
                varsler += _sensitivity_breaches(op, o.egenskaper, old, vt, role_set, ref)
            breaches += [Brudd(op, ref, v) for v in varsler]
    if cascades is None:
        from vegskriv.changesets.operations import cascade_writes  # operations imports the object store

        cascades = cascade_writes(doc, existing, catalog)
    for op, mother, daughter in cascades:
        vt = catalog.vegobjekttype(daughter["typeId"])
        breaches += [Brudd(op, str(mother), v) for v in _area_breaches(
            daughter["typeId"], _type_name(vt, daughter["typeId"]), _stored_sequences(daughter.get("stedfesting")),
            grants, network, str(mother))]
    return breaches


def sequences_to_read(doc: Endringssett, existing: Mapping[int, list[dict[str, Any]]],
                      cascades: list[tuple[str, int, dict[str, Any]]]) -> set[int]:
    """Where the stored versions the changeset acts on (and ``cascades``' daughters) lie: the check
    needs their areas too, and the validation context holds only the sequences the document names."""
    ids: set[int] = set()
    for op, objects in doc.operations():
        if op == "registrer":
            continue
        for o in objects:
            versions = existing.get(o.nvdbId) or []
            chosen = versions if op == "fjern" and o.versjon is None else [_old_version(versions, o.versjon)]
            ids |= {i for v in chosen if v for i in _stored_sequences(v.get("stedfesting"))}
    for _, _, daughter in cascades:
        ids |= _stored_sequences(daughter.get("stedfesting"))
    return ids


def add_to_result(resultat: Resultat, breaches: Iterable[Brudd]) -> None:
    """Put each breach on its object's entry in ``resultat`` (or on the changeset if none matches)."""
    entries = {(e.operasjon, e.tempId if e.operasjon == "registrer" else str(e.nvdbId)): e
               for e in resultat.vegobjekter}
    for b in breaches:
        entry = entries.get((b.operasjon, b.referanse))
        (entry.feil if entry is not None else resultat.feil).append(b.varsel)


def _varsel(melding: str, ref: str, egenskap: int | None = None) -> Varsel:
    return Varsel(kode=MANGLER_TILGANG, melding=melding, referanse=ref, egenskapTypeId=egenskap)


def _type_name(vt: Vegobjekttype | None, type_id: int) -> str:
    return f"{vt.navn} ({type_id})" if vt is not None else f"vegobjekttype {type_id}"


def _old_version(versions: list[dict[str, Any]], versjon: int) -> dict[str, Any] | None:
    """The version the operation acts on; the latest when that one is unknown (validation says so)."""
    return next((v for v in versions if v.get("versjon") == versjon), versions[-1] if versions else None)


def _stored_sequences(stedfesting: dict[str, Any] | None) -> set[int]:
    """Sequence ids of a stored location, read leniently (older data must not break the check)."""
    ids: set[int] = set()
    for kind in ("punkt", "linje"):
        ids |= {int(e["veglenkesekvensNvdbId"]) for e in (stedfesting or {}).get(kind) or []}
    for s in (stedfesting or {}).get("sving") or []:
        ids |= {int(s["fraVeglenkesekvensNvdbId"]), int(s["tilVeglenkesekvensNvdbId"])}
    return ids


def _sequences(o: Any, old: dict[str, Any] | None) -> set[int]:
    """Where the object is and was: moving an object out of an area manipulates it there too,
    and lukk/fjern (no location in the document) act where the stored version lies."""
    ids = _stored_sequences(old.get("stedfesting")) if old else set()
    stedfesting = getattr(o, "stedfesting", None)
    if stedfesting is not None:
        ids |= stedfesting.veglenkesekvenser()
    return ids


def _area_breaches(type_id: int, navn: str, vls_ids: set[int], grants: list[Tilgang],
                   network: Mapping[int, Veglenkesekvens], ref: str) -> list[Varsel]:
    typed = [g for g in grants if g.gjelder_type(type_id)]
    if not typed:
        return [_varsel(f"Brukeren mangler tilgang til vegobjekttypen {navn}.", ref)]
    if any(g.uavgrenset for g in typed):
        return []
    if not vls_ids:
        return [_varsel(f"Vegobjektet av typen {navn} er ikke stedfestet, og brukerens tilganger til typen er "
                        "avgrenset til kommuner, fylker eller vegkategorier. Et vegobjekt uten stedfesting krever "
                        "tilgang til typen uten områdeavgrensning.", ref)]
    unknown = sorted(i for i in vls_ids if i not in network)
    varsler = [_varsel(f"Brukeren mangler tilgang til å endre {navn} på veglenkesekvens "
                       f"{', '.join(map(str, unknown))}: veglenkesekvensen finnes ikke i vegnettet, så området "
                       "kan ikke fastslås, og brukerens tilganger til typen er avgrenset til områder.", ref)] \
        if unknown else []
    by_area: dict[tuple[int, int, str], list[int]] = {}
    for vls_id in sorted(vls_ids - set(unknown)):
        seq = network[vls_id]
        if all(g.avvik(seq) for g in typed):
            by_area.setdefault((seq.kommune, seq.fylke, seq.vegkategori), []).append(vls_id)
    for ids in by_area.values():
        seq = network[ids[0]]
        # Name what the nearest grant lacks: that is what an administrator would have to add.
        nearest = min((g.avvik(seq) for g in typed), key=len)
        varsler.append(_varsel(
            f"Brukeren mangler tilgang til å endre {navn} i kommune {seq.kommune}, fylke {seq.fylke}, vegkategori "
            f"{seq.vegkategori} (veglenkesekvens {', '.join(map(str, ids))}): ingen av brukerens tilganger til "
            f"typen omfatter {' og '.join(nearest)}.", ref))
    return varsler


# --- sensitive property types ---------------------------------------------------------------------


def _dump(e: Egenskap) -> dict[str, Any]:
    # The stored form (operations.py) so that an unchanged value compares equal.
    return e.model_dump(mode="json", exclude_none=True, by_alias=True, exclude={"operasjon"})


def _changed_property_ids(op: str, egenskaper: list[Egenskap], old: dict[str, Any] | None) -> set[int]:
    """Property types the operation registers, adds, changes or removes.

    A full update that sends a sensitive value back unchanged does not manipulate it (clients
    routinely read an object and send it all back), so values are compared with the old version.
    """
    given = {e.typeId: e for e in egenskaper}
    if op == "registrer" or old is None:
        return set(given)
    before = {int(e["typeId"]): e for e in old.get("egenskaper") or []}
    if op.startswith("delvis"):
        return {t for t, e in given.items()
                if (t in before if e.operasjon == "slett" else before.get(t) != _dump(e))}
    after = {t: _dump(e) for t, e in given.items()}
    return {t for t in set(before) | set(after) if before.get(t) != after.get(t)}


def _sensitivity(et: Egenskapstype, e: Egenskap | None) -> int:
    """The highest sensitivity code of a property and the Struktur members it is given with (in
    either shape: ``medlem``, or NVDB's ``struktur.medlem``)."""
    level = et.sensitivitet or 0
    members = {m.id: m for m in et.medlemmer or []}
    given = [*(e.medlem or []), *(e.struktur.medlem if e.struktur is not None else [])] if e is not None else []
    for member in given:
        met = members.get(member.typeId)
        if met is not None:
            level = max(level, _sensitivity(met, member))
    return level


def _sensitivity_breaches(op: str, egenskaper: list[Egenskap], old: dict[str, Any] | None, vt: Vegobjekttype,
                          roles: frozenset[str], ref: str) -> list[Varsel]:
    given = {e.typeId: e for e in egenskaper}
    before = {int(e["typeId"]): e for e in (old or {}).get("egenskaper") or []}
    varsler = []
    for type_id in sorted(_changed_property_ids(op, egenskaper, old)):
        et = vt.egenskapstype(type_id)
        if et is None:  # unknown property types are the validator's to report
            continue
        # What it held counts as well as what it gets: removing a sensitive member changes it too.
        was = Egenskap.model_validate(before[type_id]) if type_id in before else None
        level = max(_sensitivity(et, given.get(type_id)), _sensitivity(et, was))
        role = SENSITIVITY_ROLE.format(level)
        if level > 0 and role not in roles:
            varsler.append(_varsel(
                f"Egenskapstypen {et.navn} ({type_id}) på {vt.navn} ({vt.id}) har sensitivitetskode {level}; "
                f"å registrere, endre eller fjerne den krever rollen {role}, som brukeren mangler.",
                ref, type_id))
    return varsler
