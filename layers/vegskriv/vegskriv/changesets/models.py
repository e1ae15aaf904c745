"""The changeset document (endringssett) as pydantic models (its status side: ``changesets.status``).

Field names, codes and shapes follow NVDB API Skriv v3 exactly (JSON flavour as seen in real
traffic: values are lists, location elements are lists, association targets are lists of
``{"verdi": ...}``). Unknown fields are refused so that typos surface at registration time.
"""

# Without ``from __future__ import annotations``: pydantic would compile and evaluate every field's
# annotation from its string at import (~5 ms of each cold start). Forward references are quoted.
import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

# The status side; re-exported so callers import the document and its status from one place.
from vegskriv.changesets.status import (  # noqa: F401
    OSLO,
    TERMINAL,
    TRANSITIONS,
    Avvistårsak,
    Behandlingsparametere,
    BlokkerendeLås,
    Etterbehandling,
    Fremdrift,
    Lenke,
    Resultat,
    Status,
    Transaksjon,
    Varsel,
    VegobjektResultat,
    Venteårsak,
    local_time,
)


def ja_nei(value: Any) -> Any:
    """NVDB reads JA/NEI in any case, and true/false, as the same two values."""
    if isinstance(value, bool):
        return "JA" if value else "NEI"
    if isinstance(value, str):
        word = value.strip().upper()
        return {"TRUE": "JA", "FALSE": "NEI"}.get(word, word)
    return value


JaNei = Annotated[Literal["JA", "NEI"], BeforeValidator(ja_nei)]
Retning = Literal["MED", "MOT"]


def felt(obj: Any, name: str) -> Any:
    """A field's value, or None when the object's model has no such field (e.g. ``nvdbId`` of a
    new object). pydantic keeps fields in the instance ``__dict__``; ``getattr(obj, name, None)``
    on a missing one raises and catches inside pydantic's ``__getattr__``, ~5 µs a miss."""
    return obj.__dict__.get(name)


class Strict(BaseModel):
    # Schemas are built when first used: a cold api request needs only its own models.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


# --- the changeset document ----------------------------------------------------------------


class Gyldighetsperiode(Strict):
    startdato: date | None = None
    sluttdato: date | None = None

    @model_validator(mode="after")
    def _start_before_end(self) -> "Gyldighetsperiode":
        if self.startdato is not None and self.sluttdato is not None and self.sluttdato <= self.startdato:
            raise ValueError("sluttdato må være etter startdato")
        return self


class Validering(Strict):
    lestFraNvdb: datetime | None = None
    overlappsautomatikk: JaNei | None = None
    reduserPunkttetthet: JaNei | None = None


class Kvalitet(BaseModel):
    """Codes and centimetres (oppbygging.md); typed so that XML's text reads as the same numbers."""

    model_config = ConfigDict(extra="allow", defer_build=True)
    målemetode: int | None = None
    målemetodeHøyde: int | None = None
    nøyaktighet: int | None = None
    nøyaktighetHøyde: int | None = None
    synbarhet: int | None = None
    toleranse: int | None = None


class Geometri(BaseModel):
    """A geometry value: srid and wkt are required; quality and capture fields are kept as given."""

    model_config = ConfigDict(extra="allow", defer_build=True)
    srid: int
    wkt: str
    lengde: float | None = None
    datafangstdato: date | None = None
    temakode: int | None = None
    medium: int | None = None
    kommune: str | None = None  # four digits, leading zero kept
    høydereferanse: int | None = None
    sosinavn: str | None = None
    referansegeometri: bool | None = None
    verifiseringsdato: date | None = None
    oppdateringsdato: date | None = None
    prosesshistorikk: str | None = None
    kvalitet: Kvalitet | None = None


class Binaerobjekt(Strict):
    ressursId: str = Field(min_length=1, max_length=1024)  # an S3 key (store.binaries)
    format: str


Verdi = str | int | float | bool


def _listed(value: Any) -> Any:
    """One value where the document allows several (XML's single element, NVDB's own JSON)."""
    return [value] if isinstance(value, dict) else value


class Struktur(Strict):
    medlem: list["Egenskap"] = Field(default_factory=list)


class Egenskap(Strict):
    typeId: int
    verdi: list[Verdi] | None = None
    enum: list[int] | None = None
    geometri: list[Geometri] | None = None
    medlem: list["Egenskap"] | None = None  # Struktur
    binaerobjekt: list[Binaerobjekt] | None = Field(default=None, alias="binærobjekt")
    struktur: Struktur | None = None  # NVDB's shape for a Struktur value: {"medlem": [...]}
    binaer: Annotated[list[Binaerobjekt] | None, BeforeValidator(_listed)] = None  # NVDB's <binaer>
    operasjon: Literal["oppdater", "slett"] | None = None

    def raw_values(self) -> list[Any]:
        """The given values whatever their form (verdi, enum id, geometry, member, binary)."""
        members = self.struktur.medlem if self.struktur is not None else None
        for values in (self.verdi, self.enum, self.geometri, self.medlem, members, self.binaerobjekt, self.binaer):
            if values is not None:
                return list(values)
        return []


Struktur.model_rebuild()


class AssosiasjonsMaal(Strict):
    verdi: str | int
    operasjon: Literal["ny", "slett"] | None = None


class NvdbIdMaal(AssosiasjonsMaal):
    verdi: int  # an NVDB id is a number, also when XML gives it as text


class Assosiasjon(Strict):
    typeId: int
    tempId: list[AssosiasjonsMaal] = Field(default_factory=list)
    nvdbId: list[NvdbIdMaal] = Field(default_factory=list)
    operasjon: Literal["oppdater", "slett"] | None = None


class Stedfestingselement(Strict):
    veglenkesekvensNvdbId: int
    retning: Retning | None = None
    sideposisjon: str | None = None
    kjørefelt: list[str] | None = None
    operasjon: Literal["ny", "slett"] | None = None


class Punkt(Stedfestingselement):
    posisjon: float = Field(ge=0, le=1)


class Linje(Stedfestingselement):
    fra: float = Field(ge=0, le=1)
    til: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _fra_before_til(self) -> "Linje":
        if self.fra >= self.til:
            raise ValueError("fra må være mindre enn til")
        return self


class Svingpunkt(Strict):
    veglenkesekvensNvdbId: int
    posisjon: float = Field(ge=0, le=1)


class Sving(Strict):
    """A turn; NVDB writes its ends nested (``fra``/``til`` with veglenkesekvensNvdbId and posisjon),
    which is read into the flat fields the rest of vegskriv uses."""

    nodeNvdbId: int
    fraVeglenkesekvensNvdbId: int
    fraPosisjon: float = Field(ge=0, le=1)
    tilVeglenkesekvensNvdbId: int
    tilPosisjon: float = Field(ge=0, le=1)
    operasjon: Literal["ny", "slett"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _nested_ends(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("fra" in data or "til" in data):
            data = dict(data)
            for end in ("fra", "til"):
                point = Svingpunkt.model_validate(data.pop(end, None) or {})
                data[f"{end}VeglenkesekvensNvdbId"] = point.veglenkesekvensNvdbId
                data[f"{end}Posisjon"] = point.posisjon
        return data


class Stedfesting(Strict):
    punkt: list[Punkt] | None = None
    linje: list[Linje] | None = None
    sving: list[Sving] | None = None
    operasjon: Literal["oppdater", "slett"] | None = None

    def veglenkesekvenser(self) -> set[int]:
        ids: set[int] = {e.veglenkesekvensNvdbId for e in (self.punkt or [])}
        ids |= {e.veglenkesekvensNvdbId for e in (self.linje or [])}
        for s in self.sving or []:
            ids |= {s.fraVeglenkesekvensNvdbId, s.tilVeglenkesekvensNvdbId}
        return ids


class VegobjektBase(Strict):
    typeId: int
    validering: Validering | None = None


class NyttVegobjekt(VegobjektBase):
    """registrer: a new object; ``tempId`` links it to associations and to the result."""

    tempId: str = Field(min_length=1)
    gyldighetsperiode: Gyldighetsperiode
    egenskaper: list[Egenskap] = Field(default_factory=list)
    assosiasjoner: list[Assosiasjon] = Field(default_factory=list)
    stedfesting: Stedfesting | None = None

    @model_validator(mode="after")
    def _startdato_required(self) -> "NyttVegobjekt":
        if self.gyldighetsperiode.startdato is None:
            raise ValueError("gyldighetsperiode.startdato er påkrevd")
        return self


class EksisterendeVegobjekt(VegobjektBase):
    nvdbId: int = Field(gt=0)
    versjon: int = Field(gt=0)


class OppdatertVegobjekt(EksisterendeVegobjekt):
    """oppdater / korriger: the full new content of the version."""

    gyldighetsperiode: Gyldighetsperiode | None = None
    egenskaper: list[Egenskap] = Field(default_factory=list)
    assosiasjoner: list[Assosiasjon] = Field(default_factory=list)
    stedfesting: Stedfesting | None = None
    overskriv: JaNei | None = None

    def missing_read_time(self) -> str | None:
        """Why this object needs ``validering.lestFraNvdb`` and lacks it (checked by :class:`Endringssett`,
        after the changeset's shared ``validering`` has been given to the objects without their own)."""
        if self.overskriv == "JA" and (self.validering is None or self.validering.lestFraNvdb is None):
            return "overskriv=JA krever validering.lestFraNvdb"
        return None


class KorrigertVegobjekt(OppdatertVegobjekt):
    """korriger: the full corrected content of a version, in place (historic versions too)."""

    def missing_read_time(self) -> str | None:
        if self.validering is None or self.validering.lestFraNvdb is None:
            return "korrigering krever validering.lestFraNvdb"
        return None


class DelvisOppdatertVegobjekt(OppdatertVegobjekt):
    """delvisOppdater: only what changes, each part with ``operasjon``."""


class DelvisKorrigertVegobjekt(DelvisOppdatertVegobjekt, KorrigertVegobjekt):
    """delvisKorriger: partial and in place."""


class LukketVegobjekt(EksisterendeVegobjekt):
    lukkedato: date
    kaskadelukking: JaNei = "NEI"


class FjernetVegobjekt(VegobjektBase):
    """fjern: one version (from the newest backwards), or with no ``versjon`` the whole object."""

    nvdbId: int = Field(gt=0)
    versjon: int | None = Field(default=None, gt=0)
    kaskadefjerning: JaNei = "NEI"


T = TypeVar("T", bound=BaseModel)


class Vegobjekter(Strict, Generic[T]):
    vegobjekter: list[T] = Field(default_factory=list)


OPERATIONS = ("registrer", "oppdater", "delvisOppdater", "korriger", "delvisKorriger", "lukk", "fjern")


class Endringssett(Strict):
    """An endringssett document as a client submits it.

    ``id`` and ``status`` are what a fetched changeset carries; they are ignored, so a fetched
    changeset can be posted again. ``validering`` applies to every object that has none of its own;
    ``låsing`` is kept with the document and has no effect (locks are taken by the processing).
    """

    datakatalogversjon: str = Field(min_length=1)
    ansvarlig: str | None = None
    eksternRef: str | None = None
    kontekst: str | None = None
    låsing: Any = None
    validering: Validering | None = None
    registrer: Vegobjekter[NyttVegobjekt] | None = None
    oppdater: Vegobjekter[OppdatertVegobjekt] | None = None
    delvisOppdater: Vegobjekter[DelvisOppdatertVegobjekt] | None = None
    korriger: Vegobjekter[KorrigertVegobjekt] | None = None
    delvisKorriger: Vegobjekter[DelvisKorrigertVegobjekt] | None = None
    lukk: Vegobjekter[LukketVegobjekt] | None = None
    fjern: Vegobjekter[FjernetVegobjekt] | None = None
    id: str | None = Field(default=None, exclude=True)
    status: Any = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _well_formed(self) -> "Endringssett":
        if self.antall_vegobjekter() == 0:
            raise ValueError("endringssettet må inneholde minst ett vegobjekt i en av operasjonene "
                             + ", ".join(OPERATIONS))
        temp_ids = [o.tempId for o in self.registrer.vegobjekter] if self.registrer else []
        duplicates = sorted(t for t, n in Counter(temp_ids).items() if n > 1)
        if duplicates:
            raise ValueError(f"tempId må være unik i endringssettet: {', '.join(duplicates)}")
        # The shared validering is given here, after the objects are read, and not by a "before"
        # validator: one of those on the document makes pydantic turn the whole JSON into Python
        # dicts first (measured: parsing 1.6x slower). Hence the read-time checks live here too.
        missing = []
        for name, objects in self.operations():
            for i, obj in enumerate(objects):
                if obj.validering is None and self.validering is not None:
                    obj.validering = self.validering
                why = obj.missing_read_time() if isinstance(obj, OppdatertVegobjekt) else None
                if why:
                    missing.append(f"{name}.vegobjekter[{i}]: {why}")
        if missing:
            raise ValueError("; ".join(missing[:10]))
        return self

    def operations(self) -> list[tuple[str, list[Any]]]:
        """(operation name, objects) for every operation present, in a fixed order."""
        result = []
        for name in OPERATIONS:
            group = getattr(self, name)
            if group is not None and group.vegobjekter:
                result.append((name, group.vegobjekter))
        return result

    def antall_vegobjekter(self) -> int:
        return sum(len(objs) for _, objs in self.operations())


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bounded piece of work.

    Parsing or validating thousands of objects allocates millions of small objects that are not
    garbage; the collector's generation-2 passes keep traversing them and cost ~80 % of the time
    (measured by ``make bench``). Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_endringssett(raw: str | bytes | dict[str, Any]) -> Endringssett:
    """Parse a changeset document (JSON text or already-decoded JSON) with the collector paused."""
    with gc_paused():
        if isinstance(raw, str | bytes):
            return Endringssett.model_validate_json(raw)
        return Endringssett.model_validate(raw)
