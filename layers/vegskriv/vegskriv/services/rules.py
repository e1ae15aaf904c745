"""The eight master rules of Altinn 2 (spec/services.md), pure: each refusal is a Conflict naming its rule.

The store enforces the parts that race (one edition per master per owner, no unmarking while a
derived edition exists) with conditional writes; these functions decide everything else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vegskriv.errors import Conflict
from vegskriv.services.models import DERIVED_EDITABLE, Definisjon, Tjeneste, Tjenestetype, Utgave, Vedleggstype

RULES = {
    1: "bare innsendingstjenester kan være master",
    2: "master bare når utgaven er ferdig",
    3: "utgave basert på master",
    4: "innstillinger fra master ved migrering",
    5: "én utgave per master per eier",
    6: "skjemasett i master",
    7: "master fjernes sist",
    8: "vedleggstypenavn",
}


def refused(rule: int, detail: str) -> Conflict:
    return Conflict(f"Regel {rule} ({RULES[rule]}): {detail}")


def name(edition: Utgave) -> str:
    return f"{edition.eier}/{edition.tjenestekode}/{edition.utgavekode}"


def incomplete(definition: Definisjon) -> list[str]:
    """What keeps a definition from being published (empty when complete)."""
    problems = []
    if not definition.skjema.vegobjekttyper:
        problems.append("skjema.vegobjekttyper er tom")
    if not definition.skjema.operasjoner:
        problems.append("skjema.operasjoner er tom")
    if not definition.skjema.datakatalogversjon:
        problems.append("skjema.datakatalogversjon mangler")
    stray = sorted(set(definition.skjema.påkrevdeEgenskaper) - set(definition.skjema.vegobjekttyper))
    if stray:
        problems.append(f"skjema.påkrevdeEgenskaper nevner typer utenfor skjema.vegobjekttyper: {stray}")
    return problems


def check_may_mark_master(service: Tjeneste, edition: Utgave, subs: Iterable[Utgave]) -> None:
    if service.tjenestetype != Tjenestetype.INNSENDING:
        raise refused(1, f"{service.tjenestekode} er en {service.tjenestetype}-tjeneste")
    if edition.basertPåMaster is not None:
        raise refused(3, f"{name(edition)} er selv basert på en master og kan ikke bli master")
    if edition.publisert == 0:
        raise refused(2, f"{name(edition)} er ikke migrert; migrer den ferdige utgaven før den merkes som master")
    if problems := incomplete(edition.definisjon):
        raise refused(2, f"{name(edition)} er ikke ferdig: {'; '.join(problems)}")
    check_form_set_masters(edition, subs)


def check_form_set_masters(edition: Utgave, subs: Iterable[Utgave]) -> None:
    """A master's sub-editions must all be masters (rule 6)."""
    not_masters = [name(s) for s in subs if not s.master]
    if not_masters:
        raise refused(6, f"underskjema {', '.join(not_masters)} i skjemasettet til {name(edition)} er ikke master")


def check_may_unmark(edition: Utgave, derived: list[str], master_mains: list[str]) -> None:
    """Unmark or delete a master: no derived edition may exist (7), no master form set may use it (6)."""
    if derived:
        raise refused(7, f"{name(edition)} brukes av {', '.join(derived)}; de må slettes permanent først")
    if master_mains:
        raise refused(6, f"{name(edition)} er underskjema i masterutgavene {', '.join(master_mains)}")


def check_derived_patch(fields: Iterable[str]) -> None:
    others = sorted(set(fields) - DERIVED_EDITABLE)
    if others:
        raise refused(3, f"en utgave basert på master kan bare endre {', '.join(sorted(DERIVED_EDITABLE))}; "
                         f"ikke {', '.join(others)}")


def check_owner_attachment_types(owner: str, mine: list[Vedleggstype], others: dict[str, Vedleggstype]) -> None:
    """A name names one attachment type per owner, whatever its case (rule 8)."""
    for vt in mine:
        other = others.get(vt.navn.lower())
        if other is not None and other != vt:
            raise refused(8, f"vedleggstyper: {owner} har allerede vedleggstypen {other.navn} med en annen "
                             f"definisjon ({vt.navn}); navn er unike per eier uten hensyn til store/små bokstaver")


def merge_attachment_types(definition: Definisjon, master_owner: str, using_owner: str,
                           own_types: dict[str, Vedleggstype]) -> tuple[Definisjon, list[str]]:
    """The using owner's attachment type of the same name wins over the master's (rule 8), with a warning each."""
    merged, warnings = [], []
    for vt in definition.vedleggstyper:
        own = own_types.get(vt.navn.lower())
        if own is None:
            merged.append(vt)
            continue
        merged.append(own)
        warnings.append(f"Regel 8 ({RULES[8]}): vedleggstypen {vt.navn} fra master-eieren {master_owner} har samme "
                        f"navn som {using_owner} sin vedleggstype {own.navn}; {using_owner} sin brukes")
    return definition.model_copy(update={"vedleggstyper": merged}), warnings


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def _comparable(definition: Definisjon) -> dict[str, Any]:
    data = definition.model_dump(mode="json")
    # Attachment types are compared by name, so a changed size reads as one field, not a new list.
    data["vedleggstyper"] = {vt["navn"]: vt for vt in data["vedleggstyper"]}
    data["underskjema"] = sorted(f"{u['tjenestekode']}/{u['utgavekode']}" for u in data["underskjema"])
    return _flatten(data)


def diff(before: Definisjon, after: Definisjon) -> list[dict[str, Any]]:
    """Field-by-field changes from ``before`` to ``after`` (``endringerSidenMigrering``)."""
    old, new = _comparable(before), _comparable(after)
    return [{"felt": key, "migrertVerdi": old.get(key), "gjeldendeVerdi": new.get(key)}
            for key in sorted(old.keys() | new.keys()) if old.get(key) != new.get(key)]
