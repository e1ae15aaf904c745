"""Catalog models: object types, property types, relations and location rules, with the lookups
validation needs precomputed when a catalog is loaded."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vegskriv.catalog.rules import OBJEKT_KODER, Forberedt, _Container, validate_egenskaper
from vegskriv.catalog.values import PÅKREVD_ABSOLUTT, PÅKREVD_IKKE_ABSOLUTT
from vegskriv.changesets.models import Egenskap, Varsel

# --- catalog models ---------------------------------------------------------------------------


class _Model(BaseModel):
    # Schemas are built when first used: the api's cold start needs none of these.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)


class TillattVerdi(_Model):
    id: int
    verdi: str | int | float
    kortnavn: str | None = None


class Enhet(_Model):
    id: int | None = None
    navn: str | None = None
    kortnavn: str | None = None


Grense = int | float | str  # a limit: a number, or an ISO date for Dato properties


class Egenskapstype(_Model):
    id: int
    navn: str
    datatype: str = "Tekst"
    enum: bool = False
    geometritype: str | None = None
    viktighet: str | None = None
    sensitivitet: int | None = None
    feltlengde: int | None = None
    desimaler: int | None = None
    min: Grense | None = None
    maks: Grense | None = None
    min_anbefalt: Grense | None = None
    maks_anbefalt: Grense | None = None
    feltmønster: str | None = None
    enhet: Enhet | None = None
    tillatte_verdier: list[TillattVerdi] = Field(default_factory=list)
    # The enum values are not known (60 Bru in the extract): any value of the datatype passes.
    verdier_ukjente: bool = False
    # Only list properties (several values) have these; an ordinary property takes one value.
    min_antall: int | None = None
    maks_antall: int | None = None
    # NVDB derives the value itself (API Les "avledet"); a given value is overwritten.
    avledet: bool = False
    # Struktur: the member property types, when the catalog gives them.
    medlemmer: list[Egenskapstype] | None = None

    @property
    def liste(self) -> bool:
        """True for a list property, which takes several values (bounded by min/maks_antall)."""
        return self.maks_antall is not None

    @property
    def påkrevd(self) -> bool:
        return self.viktighet in (PÅKREVD_ABSOLUTT, PÅKREVD_IKKE_ABSOLUTT)

    def tillatt_verdi(self, enum_id: int) -> TillattVerdi | None:
        return next((v for v in self.tillatte_verdier if v.id == enum_id), None)


class TypeRef(_Model):
    id: int
    navn: str | None = None


class Relasjonstype(_Model):
    """A relation to another object type; ``vegobjekttype`` is the child (barn) or parent (foreldre)."""

    liste_egenskapstype_id: int | None = None
    assosiasjon_egenskapstype_id: int | None = None
    navn: str | None = None
    relasjonstype: str | None = None  # KOMPOSISJON / AGGREGERING; None = unknown
    innenfor_mor: str | None = None  # JA / NEI / MED_AVVIK
    vegobjekttype: TypeRef
    min_antall: int | None = None
    maks_antall: int | None = None
    viktighet: str | None = None
    antatt: list[str] = Field(default_factory=list)  # fields derived by the build rules, not the source

    @property
    def type_id(self) -> int:
        return self.vegobjekttype.id

    @property
    def child_type_id(self) -> int:
        """For a barn relation: the daughter type (alias kept for the changeset validator)."""
        return self.vegobjekttype.id

    @property
    def er_komposisjon(self) -> bool:
        return self.relasjonstype == "KOMPOSISJON"

    def ids(self) -> tuple[int, ...]:
        return tuple(i for i in (self.liste_egenskapstype_id, self.assosiasjon_egenskapstype_id) if i)


class Relasjoner(_Model):
    barn: list[Relasjonstype] = Field(default_factory=list)
    foreldre: list[Relasjonstype] = Field(default_factory=list)


class Stedfestingsregler(_Model):
    """How objects of a type are located on the network (from API Les ``stedfesting``)."""

    type: str | None = None  # PUNKT / LINJE / SVING
    egenskapstype_id: int | None = None
    geometritype: str | None = None
    overlapp_ok: bool | None = None
    kjørefelt_relevant: str | None = None  # JA / KAN / NEI
    sideposisjon_relevant: str | None = None  # JA / KAN / NEI
    retning_relevant: bool | None = None
    innenfor_mor: bool | None = None
    vegnettsajourhold_splitt: str | None = None


class Datatype(_Model):
    id: int
    navn: str
    kortnavn: str | None = None


class Vegobjekttype(_Model):
    id: int
    navn: str
    kortnavn: str | None = None
    kilde: str | None = None
    datakatalogversjon: str | None = None
    stedfesting: Stedfestingsregler = Field(default_factory=Stedfestingsregler)
    styringsparametere: dict[str, Any] = Field(default_factory=dict)
    egenskapstyper: list[Egenskapstype] = Field(default_factory=list)
    relasjonstyper: Relasjoner = Field(default_factory=Relasjoner)

    # Lookups in plain dicts, built on first use: cached_property keeps them in the instance
    # __dict__, where reading them is a dict access (a pydantic private attribute goes through
    # BaseModel.__getattr__, which costs ~20 times more on every look-up of the validator).

    @cached_property
    def container(self) -> _Container:
        return _Container.build(f"Objektet, av typen {self.navn} ({self.id}),", self.egenskapstyper, OBJEKT_KODER)

    @cached_property
    def egenskapstyper_by_id(self) -> dict[int, Egenskapstype]:
        return {et.id: et for et in self.egenskapstyper}

    @cached_property
    def _relations(self) -> tuple[dict[int, Relasjonstype], dict[int, Relasjonstype]]:
        # Both series name the same relation; N alone does not (it is an ordinary property id).
        return ({i: r for r in self.relasjonstyper.barn for i in r.ids()},
                {i: r for r in self.relasjonstyper.foreldre for i in r.ids()})

    # lookups

    def egenskapstype(self, type_id: int) -> Egenskapstype | None:
        return self.egenskapstyper_by_id.get(type_id)

    def relation_by_id(self, type_id: int) -> Relasjonstype | None:
        """The child relation named by an association typeId, 220000+N or 200000+N."""
        return self._relations[0].get(type_id)

    def relation(self, type_id: int) -> Relasjonstype | None:
        """Alias of :meth:`relation_by_id` (the name the changeset validator uses)."""
        return self._relations[0].get(type_id)

    def parent_relation_by_id(self, type_id: int) -> Relasjonstype | None:
        return self._relations[1].get(type_id)

    def barn_av_type(self, type_id: int) -> list[Relasjonstype]:
        return [r for r in self.relasjonstyper.barn if r.vegobjekttype.id == type_id]

    # location rules; defaults apply when the source has no stedfesting details (XSD types) and
    # are chosen so that nothing valid in real traffic is refused (see docs/datakatalog.md).

    @property
    def stedfestingstype(self) -> str | None:
        return self.stedfesting.type

    @property
    def overlapp_tillatt(self) -> bool:
        return True if self.stedfesting.overlapp_ok is None else self.stedfesting.overlapp_ok

    @property
    def kjørefelt_relevant(self) -> str:
        return self.stedfesting.kjørefelt_relevant or "KAN"

    @property
    def tillater_kjørefelt(self) -> bool:
        return self.kjørefelt_relevant != "NEI"

    @property
    def sideposisjon_relevant(self) -> str:
        return self.stedfesting.sideposisjon_relevant or "KAN"

    @property
    def tillater_sideposisjon(self) -> bool:
        return self.sideposisjon_relevant != "NEI"

    @property
    def retning_påkrevd(self) -> bool:
        # No extract source states direction relevance; real 79/83 objects are located without it.
        return bool(self.stedfesting.retning_relevant)

    @property
    def innenfor_mor(self) -> bool:
        return bool(self.stedfesting.innenfor_mor)

    @property
    def må_ha_mor(self) -> bool:
        return bool(self.styringsparametere.get("må_ha_mor", False))

    @property
    def tidsrom_relevant(self) -> bool:
        return bool(self.styringsparametere.get("tidsrom_relevant", True))

    @property
    def en_versjon(self) -> bool:
        return bool(self.styringsparametere.get("en_versjon", False))


class Datakatalog(_Model):
    versjon: str
    meta: dict[str, Any] = Field(default_factory=dict, alias="_meta")
    datatyper: list[Datatype] = Field(default_factory=list)
    vegobjekttyper: list[Vegobjekttype] = Field(default_factory=list)

    @cached_property
    def _by_id(self) -> dict[int, Vegobjekttype]:
        return {vt.id: vt for vt in self.vegobjekttyper}

    @cached_property
    def _egenskapstype_ids(self) -> frozenset[int]:
        return frozenset(et.id for vt in self.vegobjekttyper for et in vt.egenskapstyper)

    def vegobjekttype(self, type_id: int) -> Vegobjekttype | None:
        return self._by_id.get(type_id)

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._by_id

    def egenskapstype_finnes(self, type_id: int) -> bool:
        """Whether any object type in the catalog has this property type."""
        return type_id in self._egenskapstype_ids

    def validate_egenskaper(self, vt: Vegobjekttype, egenskaper: Sequence[Egenskap], *, referanse: str,
                            complete: bool = True, forberedt: Forberedt | None = None
                            ) -> tuple[list[Varsel], list[Varsel]]:
        return validate_egenskaper(vt, egenskaper, referanse=referanse, complete=complete, katalog=self,
                                   forberedt=forberedt)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


