"""Service use cases behind the HTTP API: owners, services, editions, masters and migration.

Only an owner's administrators (and 9_system_admin) act on its services; anyone else is told the
owner does not exist (404), so owners cannot be probed.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from vegskriv.auth import ROLE_SYSTEM_ADMIN, Caller
from vegskriv.errors import BadRequest, Conflict, Forbidden, NotFound
from vegskriv.services import rules
from vegskriv.services.models import (
    Definisjon,
    EndreTjenesteeier,
    EndreUtgave,
    Masterreferanse,
    NyTjeneste,
    NyTjenesteeier,
    NyUtgave,
    NyUtgaveFraMaster,
    Publisering,
    Tjeneste,
    Tjenesteeier,
    Utgave,
    Utgavereferanse,
    Vedleggstype,
)
from vegskriv.store import services as store
from vegskriv.store.services import Refused

RACED = "Utgaven ble endret samtidig av en annen forespørsel; hent den og prøv igjen"
RACED_TYPES = (f"Regel 8 ({rules.RULES[8]}): eierens vedleggstyper ble endret samtidig av en annen forespørsel; "
               "prøv igjen")


# --- owners -------------------------------------------------------------------------------------


def _require_system_admin(who: Caller) -> None:
    if not who.is_system_admin:
        raise Forbidden(f"Krever rollen {ROLE_SYSTEM_ADMIN}")


def administered(who: Caller, kode: str) -> Tjenesteeier:
    owner = store.get_owner(kode)
    if owner is None or not (who.is_system_admin or who.user in owner.administratorer):
        raise NotFound(f"Tjenesteeier {kode} finnes ikke")
    return owner


def create_owner(who: Caller, new: NyTjenesteeier) -> Tjenesteeier:
    _require_system_admin(who)
    owner = Tjenesteeier.model_validate(new.model_dump())
    try:
        store.create_owner(owner)
    except Refused as exc:
        raise Conflict(f"kode: tjenesteeier {new.kode} finnes allerede") from exc
    return owner


def list_owners(who: Caller) -> list[Tjenesteeier]:
    return [o for o in store.list_owners() if who.is_system_admin or who.user in o.administratorer]


def change_owner(who: Caller, kode: str, change: EndreTjenesteeier) -> Tjenesteeier:
    _require_system_admin(who)
    before = administered(who, kode)
    owner = before.model_copy(update=change.model_dump(exclude_none=True))
    try:
        store.put_owner(owner, before)
    except Refused as exc:
        raise Conflict(f"Tjenesteeier {kode} ble endret samtidig av en annen forespørsel; "
                       "hent den og prøv igjen") from exc
    return owner


# --- services -----------------------------------------------------------------------------------


def create_service(who: Caller, eier: str, new: NyTjeneste) -> Tjeneste:
    administered(who, eier)
    service = Tjeneste.model_validate(new.model_dump())
    try:
        store.create_service(eier, service)
    except Refused as exc:
        raise Conflict(f"tjenestekode: {eier} har allerede tjenesten {new.tjenestekode}") from exc
    return service


def list_services(who: Caller, eier: str) -> list[Tjeneste]:
    administered(who, eier)
    return store.list_services(eier)


def list_editions(who: Caller, eier: str, tk: str) -> list[Utgave]:
    administered(who, eier)
    service_of(eier, tk)
    return store.list_editions(eier, tk)


def service_of(eier: str, tk: str) -> Tjeneste:
    service = store.get_service(eier, tk)
    if service is None:
        raise NotFound(f"Tjeneste {eier}/{tk} finnes ikke")
    return service


# --- editions -----------------------------------------------------------------------------------


def _edition(eier: str, tk: str, uk: str) -> tuple[Utgave, int]:
    found = store.get_edition(eier, tk, uk)
    if found is None:
        raise NotFound(f"Utgave {eier}/{tk}/{uk} finnes ikke")
    return found


def _own_attachment_types(eier: str, besides: tuple[str, str] | None = None) -> dict[str, Vedleggstype]:
    """The owner's attachment types by lower-case name, from its own (not derived) editions."""
    types: dict[str, Vedleggstype] = {}
    for e in store.list_editions(eier):
        if e.basertPåMaster is None and (e.tjenestekode, e.utgavekode) != besides:
            types.update({vt.navn.lower(): vt for vt in e.definisjon.vedleggstyper})
    return types


def _check_subs(eier: str, subs: list[Utgavereferanse], *, masters_only: Utgave | None = None) -> list[Utgave]:
    found = []
    for ref in subs:
        sub = store.get_edition(eier, ref.tjenestekode, ref.utgavekode)
        if sub is None:
            raise BadRequest(f"underskjema: {eier}/{ref.tjenestekode}/{ref.utgavekode} finnes ikke")
        found.append(sub[0])
    if masters_only is not None:
        rules.check_form_set_masters(masters_only, found)
    return found


def create_edition(who: Caller, eier: str, tk: str, new: NyUtgave) -> Utgave:
    administered(who, eier)
    service = service_of(eier, tk)
    if new.master:
        raise rules.refused(2, "en utgave er aldri master når den opprettes; "
                                  "merk den ferdige utgaven med POST …/master")
    if service.basertPåMastertjeneste is not None:
        raise rules.refused(3, f"tjenesten {eier}/{tk} er basert på master; nye utgaver i den lages fra master")
    definition = Definisjon.model_validate(new.model_dump(include=set(Definisjon.model_fields)))
    _check_subs(eier, definition.underskjema)
    seen = store.attachment_types_rev(eier) if definition.vedleggstyper else None
    rules.check_owner_attachment_types(eier, definition.vedleggstyper, _own_attachment_types(eier))
    edition = Utgave(eier=eier, tjenestekode=tk, utgavekode=new.utgavekode, id=str(uuid.uuid4()),
                     definisjon=definition, oversendingsmetode=new.oversendingsmetode,
                     gyldighetsperiode=new.gyldighetsperiode)
    try:
        store.create_edition(edition, who.user, attachment_rev=seen)
    except Refused as exc:
        if seen is not None and exc.reasons[-1] is not None:
            raise Conflict(RACED_TYPES) from exc
        raise Conflict(f"utgavekode: {eier}/{tk} har allerede utgaven {new.utgavekode}") from exc
    return edition


def view(edition: Utgave) -> dict[str, Any]:
    """An edition with its published versions and, if derived, how its master changed since."""
    body = edition.model_dump(mode="json", exclude_none=True)
    published = store.versions(edition.eier, edition.key)
    body["versjoner"] = [v.model_dump(mode="json", exclude_none=True) for v in published]
    if (master := edition.basertPåMaster) is not None and published:
        taken = published[-1].masterversjon
        current = store.get_edition(master.eier, master.tjenestekode, master.utgavekode)
        newest = current[0].publisert if current else taken
        body["masterEndretSidenMigrering"] = newest != taken
        body["endringerSidenMigrering"] = []
        if current and newest != taken and taken is not None and newest is not None:
            before = store.version(master.eier, current[0].key, taken)
            after = store.version(master.eier, current[0].key, newest)
            if before and after:
                body["endringerSidenMigrering"] = rules.diff(before.definisjon, after.definisjon)
    return body


def get_edition(who: Caller, eier: str, tk: str, uk: str) -> Utgave:
    administered(who, eier)
    return _edition(eier, tk, uk)[0]


def change_edition(who: Caller, eier: str, tk: str, uk: str, change: EndreUtgave) -> Utgave:
    administered(who, eier)
    edition, rev = _edition(eier, tk, uk)
    fields = change.model_fields_set
    if "master" in fields:
        raise rules.refused(2, "master settes med POST …/master og fjernes med DELETE …/master")
    if edition.basertPåMaster is not None:
        rules.check_derived_patch(fields)
    codes = (change.tjenestekode or tk, change.utgavekode or uk)
    if codes != (tk, uk) and edition.basertPåMaster is None:
        # Own editions are named by codes in form sets and in other owners' derived editions.
        raise Conflict("tjenestekode/utgavekode: bare en utgave basert på master kan endre kodene sine; "
                       "opprett en ny utgave med de nye kodene")
    own = {k: getattr(change, k) for k in fields if k in Definisjon.model_fields and getattr(change, k) is not None}
    definition = edition.definisjon.model_copy(update=own)
    definition = Definisjon.model_validate(definition.model_dump())
    old_subs = {(s.tjenestekode, s.utgavekode) for s in edition.definisjon.underskjema}
    new_subs = {(s.tjenestekode, s.utgavekode) for s in definition.underskjema}
    if (tk, uk) in new_subs:
        raise BadRequest(f"underskjema: {eier}/{tk}/{uk} kan ikke være underskjema i seg selv")
    _check_subs(eier, [s for s in definition.underskjema if (s.tjenestekode, s.utgavekode) not in old_subs],
                masters_only=edition if edition.master else None)
    seen = store.attachment_types_rev(eier) if "vedleggstyper" in own else None
    if "vedleggstyper" in own:
        rules.check_owner_attachment_types(eier, definition.vedleggstyper, _own_attachment_types(eier, (tk, uk)))
    settings = {k: getattr(change, k) for k in ("oversendingsmetode", "gyldighetsperiode") if k in fields}
    edition = edition.model_copy(update={"definisjon": definition, **settings})
    if codes != (tk, uk):
        return _rename(who, edition, rev, *codes)

    def ref(pair: tuple[str, str]) -> Masterreferanse:
        return Masterreferanse(eier=eier, tjenestekode=pair[0], utgavekode=pair[1])

    try:
        store.save_edition(edition, rev, who.user, summary=_summary(edition),
                           added_subs=[ref(p) for p in new_subs - old_subs],
                           removed_subs=[ref(p) for p in old_subs - new_subs], attachment_rev=seen)
    except Refused as exc:
        raise Conflict(RACED) from exc
    return edition


def _rename(who: Caller, edition: Utgave, rev: int, tk2: str, uk2: str) -> Utgave:
    """New codes for a derived edition (rule 3): it moves to them, its id and published versions stay.

    A new service code renames the service, so every edition of it moves along (rule 5 keeps one
    service per master service); form sets naming a moved edition are updated in the same transaction."""
    eier, tk = edition.eier, edition.tjenestekode
    moving = [(edition, rev)]
    if tk2 != tk:
        if store.get_service(eier, tk2) is not None:
            raise Conflict(f"tjenestekode: {eier} har allerede tjenesten {tk2}")
        moving += [found for e in store.list_editions(eier, tk) if e.utgavekode != edition.utgavekode
                   and (found := store.get_edition(eier, tk, e.utgavekode)) is not None]
    elif store.get_edition(eier, tk2, uk2) is not None:
        raise Conflict(f"utgavekode: {eier}/{tk2} har allerede utgaven {uk2}")
    new_codes = {(e.tjenestekode, e.utgavekode): (tk2, uk2 if e is edition else e.utgavekode) for e, _ in moving}
    if len(set(new_codes.values())) < len(new_codes):  # onto an edition that moves along
        raise Conflict(f"utgavekode: {eier}/{tk} har allerede utgaven {uk2}, som flyttes med til {tk2}")

    def recoded(e: Utgave) -> Utgave:
        subs = [Utgavereferanse(tjenestekode=c[0], utgavekode=c[1]) for c in (
            new_codes.get((s.tjenestekode, s.utgavekode), (s.tjenestekode, s.utgavekode))
            for s in e.definisjon.underskjema)]
        return e.model_copy(update={"definisjon": e.definisjon.model_copy(update={"underskjema": subs})})

    moves = [(e, r, recoded(e).model_copy(update={"tjenestekode": new_codes[(e.tjenestekode, e.utgavekode)][0],
                                                  "utgavekode": new_codes[(e.tjenestekode, e.utgavekode)][1],
                                                  "id": e.key})) for e, r in moving]
    updated = []
    for e in store.list_editions(eier):
        names_moved = any((s.tjenestekode, s.utgavekode) in new_codes for s in e.definisjon.underskjema)
        if (names_moved and (e.tjenestekode, e.utgavekode) not in new_codes
                and (found := store.get_edition(eier, e.tjenestekode, e.utgavekode)) is not None):
            updated.append((recoded(found[0]), found[1]))
    service = None
    if tk2 != tk:
        service = (tk, service_of(eier, tk).model_copy(update={"tjenestekode": tk2}))
    try:
        store.move_editions(moves, who.user, service=service, updated=updated)
    except Refused as exc:
        if exc.reasons == [store.TOO_MANY]:
            raise Conflict(f"tjenestekode: tjenesten {eier}/{tk} har for mange utgaver til å flyttes samlet") from exc
        raise Conflict(f"tjenestekode/utgavekode: {eier}/{tk2}/{uk2} ble tatt, eller utgaven ble endret, "
                       "samtidig av en annen forespørsel; hent den og prøv igjen") from exc
    return moves[0][2]


def _summary(edition: Utgave) -> dict[str, Any]:
    service = store.get_service(edition.eier, edition.tjenestekode)
    return {"eier": edition.eier, "tjenestekode": edition.tjenestekode, "utgavekode": edition.utgavekode,
            "tjenestenavn": service.navn if service else None, "navn": edition.definisjon.navn,
            "kunUnderskjema": edition.definisjon.kunUnderskjema}


def _users(edition: Utgave) -> tuple[list[str], list[str]]:
    """Who depends on an edition: derived editions (rule 7) and master editions whose form set has it (rule 6)."""
    derived = [f"{d.eier}/{d.tjenestekode}/{d.utgavekode}" for d in store.derived_from(edition.ref)]
    me = (edition.tjenestekode, edition.utgavekode)
    mains = []
    for e in store.list_editions(edition.eier):
        if not e.master:
            continue
        published = store.version(e.eier, e.key, e.publisert)  # what other owners take from it now (rule 4)
        subs = [*e.definisjon.underskjema, *(published.definisjon.underskjema if published else [])]
        if any((s.tjenestekode, s.utgavekode) == me for s in subs):
            mains.append(rules.name(e))
    return derived, mains


def delete_edition(who: Caller, eier: str, tk: str, uk: str) -> None:
    administered(who, eier)
    edition, rev = _edition(eier, tk, uk)
    derived, mains = _users(edition)
    rules.check_may_unmark(edition, derived, mains)
    users = [rules.name(e) for e in store.list_editions(eier) if any(
        (s.tjenestekode, s.utgavekode) == (tk, uk) for s in e.definisjon.underskjema)]
    if users:
        raise Conflict(f"{rules.name(edition)} er underskjema i {', '.join(users)}; fjern den derfra først")
    try:
        store.delete_edition(edition, rev)
    except Refused as exc:
        raise Conflict(RACED) from exc


def mark_master(who: Caller, eier: str, tk: str, uk: str) -> Utgave:
    administered(who, eier)
    edition, rev = _edition(eier, tk, uk)
    if edition.master:
        return edition
    subs = list({(s.tjenestekode, s.utgavekode): s for s in _check_subs(eier, edition.definisjon.underskjema)}.values())
    rules.check_may_mark_master(service_of(eier, tk), edition, subs)
    edition = edition.model_copy(update={"master": True})
    try:
        store.set_master(edition, rev, [s.ref for s in subs], who.user, _summary(edition))
    except Refused as exc:
        raise Conflict(RACED) from exc
    return edition


def unmark_master(who: Caller, eier: str, tk: str, uk: str) -> Utgave:
    administered(who, eier)
    edition, rev = _edition(eier, tk, uk)
    if not edition.master:
        return edition
    rules.check_may_unmark(edition, *_users(edition))
    edition = edition.model_copy(update={"master": False})
    subs = [Masterreferanse(eier=eier, tjenestekode=tk, utgavekode=uk)
            for tk, uk in sorted({(s.tjenestekode, s.utgavekode) for s in edition.definisjon.underskjema})]
    try:
        store.set_master(edition, rev, subs, who.user, _summary(edition))
    except Refused as exc:
        raise Conflict(RACED) from exc
    return edition


def list_masters() -> list[dict[str, Any]]:
    """Masters available for reuse; "kun underskjema" editions only come along with a form set (rule 6)."""
    return [m for m in store.list_masters() if not m.get("kunUnderskjema")]


# --- migration ----------------------------------------------------------------------------------


def _master_published(ref: Masterreferanse) -> tuple[Utgave, Publisering]:
    found = store.get_edition(ref.eier, ref.tjenestekode, ref.utgavekode)
    if found is None or not found[0].master:
        raise NotFound(f"Masterutgave {ref.eier}/{ref.tjenestekode}/{ref.utgavekode} finnes ikke")
    master = found[0]
    published = store.version(ref.eier, master.key, master.publisert)
    assert published is not None  # a master is migrated before it is marked (rule 2)
    return master, published


def _derived_in(eier: str, master: Masterreferanse) -> Utgave | None:
    return next((e for e in store.list_editions(eier) if e.basertPåMaster == master), None)


class _Plan:
    """Derived editions to create in one transaction: a main edition and the sub-editions of its form set."""

    def __init__(self, eier: str):
        self.eier = eier
        self.new: list[tuple[Utgave, Tjeneste | None]] = []
        self.warnings: list[str] = []
        self.own_types = _own_attachment_types(eier)

    def service_for(self, master: Masterreferanse, tk: str | None) -> tuple[str, Tjeneste | None]:
        """The owner's service from this master service (rule 5), or a new one named ``tk``."""
        source = Masterreferanse(eier=master.eier, tjenestekode=master.tjenestekode, utgavekode="-")
        planned = [s for _, s in self.new if s is not None] + store.list_services(self.eier)
        existing = next((s for s in planned if s.basertPåMastertjeneste == source), None)
        if existing is not None:
            if tk not in (None, existing.tjenestekode):
                raise rules.refused(5, f"{self.eier} har allerede tjenesten {existing.tjenestekode} fra "
                                       f"mastertjenesten {master.eier}/{master.tjenestekode}; utgaven legges der")
            return existing.tjenestekode, None
        if tk is None:
            raise BadRequest("tjenestekode: mangler (eieren har ingen tjeneste fra denne mastertjenesten ennå)")
        if any(s.tjenestekode == tk for s in planned):
            raise Conflict(f"tjenestekode: {self.eier} har allerede tjenesten {tk}")
        master_service = service_of(master.eier, master.tjenestekode)
        return tk, Tjeneste(tjenestekode=tk, navn=master_service.navn, tjenestetype=master_service.tjenestetype,
                            basertPåMastertjeneste=source)

    def definition(self, master: Masterreferanse, published: Publisering) -> Definisjon:
        """The master's snapshot as the using owner gets it: its sub-editions, its attachment types (rule 8)."""
        subs = [self.derive(Masterreferanse(eier=master.eier, **s.model_dump()), None, None, None)
                for s in published.definisjon.underskjema]
        definition = published.definisjon.model_copy(update={"underskjema": subs})
        definition, warnings = rules.merge_attachment_types(definition, master.eier, self.eier, self.own_types)
        self.warnings += warnings
        return definition

    def derive(self, master: Masterreferanse, tk: str | None, uk: str | None, request: NyUtgaveFraMaster | None,
               ) -> Utgavereferanse:
        existing = _derived_in(self.eier, master) or next(
            (e for e, _ in self.new if e.basertPåMaster == master), None)
        if existing is not None:
            if request is not None:
                raise rules.refused(5, f"{self.eier} har allerede utgaven {rules.name(existing)} fra master "
                                       f"{master.eier}/{master.tjenestekode}/{master.utgavekode}")
            return Utgavereferanse(tjenestekode=existing.tjenestekode, utgavekode=existing.utgavekode)
        if master.eier == self.eier:
            raise rules.refused(5, f"{self.eier} eier selv masteren; en utgave basert på den kan ikke ligge der")
        master_edition, published = _master_published(master)
        if request is not None and master_edition.definisjon.kunUnderskjema:
            raise rules.refused(6, f"{rules.name(master_edition)} er kun underskjema og brukes bare i et skjemasett")
        tk, service = self.service_for(master, tk if tk is not None else (None if request else master.tjenestekode))
        uk = uk or master.utgavekode
        if store.get_edition(self.eier, tk, uk) is not None or any(
                (e.tjenestekode, e.utgavekode) == (tk, uk) for e, _ in self.new):
            raise Conflict(f"utgavekode: {self.eier}/{tk} har allerede utgaven {uk}")
        edition = Utgave(eier=self.eier, tjenestekode=tk, utgavekode=uk, id=str(uuid.uuid4()),
                         definisjon=published.definisjon, basertPåMaster=master)
        if request is not None:
            edition = edition.model_copy(update={"oversendingsmetode": request.oversendingsmetode,
                                                 "gyldighetsperiode": request.gyldighetsperiode})
        self.new.append((edition, service))
        index = len(self.new) - 1
        edition = edition.model_copy(update={"definisjon": self.definition(master, published)})
        self.new[index] = (edition, service)
        return Utgavereferanse(tjenestekode=tk, utgavekode=uk)


def create_from_master(who: Caller, eier: str, request: NyUtgaveFraMaster) -> dict[str, Any]:
    administered(who, eier)
    plan = _Plan(eier)
    plan.derive(request.master, request.tjenestekode, request.utgavekode, request)
    try:
        store.create_derived(plan.new, who.user)
    except Refused as exc:
        raise rules.refused(5, f"{eier} fikk samtidig en utgave fra samme master, eller masteren ble "
                               "avmerket; hent listen og prøv igjen") from exc
    main, *subs = (e for e, _ in plan.new)
    return {"utgave": view(main), "underskjema": [view(s) for s in subs], "advarsler": plan.warnings}


def migrate(who: Caller, eier: str, tk: str, uk: str) -> dict[str, Any]:
    """Publish version n+1; a derived edition takes its master's newest published version now (rule 4)."""
    administered(who, eier)
    edition, rev = _edition(eier, tk, uk)
    warnings: list[str] = []
    masterversjon = None
    new_subs: list[tuple[Utgave, Tjeneste | None]] = []
    if (master := edition.basertPåMaster) is not None:
        plan = _Plan(eier)
        _, published = _master_published(master)
        definition = plan.definition(master, published)  # creates sub-editions the master gained since
        warnings, masterversjon, new_subs = plan.warnings, published.versjon, plan.new
    else:
        service = service_of(eier, tk)
        definition = edition.definisjon.model_copy(update={"tjenestenavn": service.navn})
        _check_subs(eier, definition.underskjema)
    if problems := rules.incomplete(definition):
        raise Conflict(f"Utgaven {rules.name(edition)} er ikke ferdig: {'; '.join(problems)}")
    snapshot = Publisering(versjon=edition.publisert + 1, migrert=datetime.now(UTC), migrertAv=who.user,
                           definisjon=definition, oversendingsmetode=edition.oversendingsmetode,
                           gyldighetsperiode=edition.gyldighetsperiode, masterversjon=masterversjon)
    try:
        if new_subs:
            store.create_derived(new_subs, who.user)
        store.publish(edition.model_copy(update={"definisjon": definition}), rev, snapshot, who.user)
    except Refused as exc:
        raise Conflict(RACED) from exc
    return {"versjon": snapshot.model_dump(mode="json", exclude_none=True), "advarsler": warnings}
