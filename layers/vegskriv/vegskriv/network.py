"""The road network (vegnett): veglenkesekvenser with length, area and validity period, and —
optionally — their links (veglenker) and ports (porter, each tied to a node) in the shape of
NVDB API Les v3 ``/vegnett/veglenkesekvenser/{id}``. A network file without links and ports
loads as before; the rules that need them (connection links, topology level, nodes) then say
nothing."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    RootModel,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    model_serializer,
    model_validator,
)

Topologinivå = Literal["VEGTRASE", "KJOREBANE", "KJOREFELT"]

# NVDB API Les v3 writes a link's level as ``detaljnivå`` text; one link can carry two levels.
_VEGTRASE: tuple[Topologinivå, ...] = ("VEGTRASE",)
_DETALJNIVÅ: dict[str, tuple[Topologinivå, ...]] = {
    "vegtrase": ("VEGTRASE",), "kjørebane": ("KJOREBANE",), "kjørefelt": ("KJOREFELT",),
    "vegtrase og kjørebane": ("VEGTRASE", "KJOREBANE"),
}


def gyldig(startdato: date, sluttdato: date | None, fra: date, til: date | None) -> bool:
    """Does [startdato, sluttdato) cover the whole period [fra, til) (None = open-ended)?"""
    if fra < startdato:
        return False
    return sluttdato is None or (til is not None and til <= sluttdato)


class _Deferred(BaseModel):
    model_config = ConfigDict(defer_build=True)  # schema built when first used, not at a cold start


class Tilkobling(_Deferred):
    nodeid: int
    portnummer: int | None = None  # the port's number on the node


class Port(_Deferred):
    """A port of the sequence (``id`` is its number on the sequence), connected to a node."""

    id: int
    posisjon: float | None = Field(default=None, ge=0, le=1)
    tilkobling: Tilkobling

    @model_validator(mode="before")
    @classmethod
    def _flat_nodeid(cls, data: object) -> object:
        # The short form {"id": 1, "nodeid": 5} is read as {"id": 1, "tilkobling": {"nodeid": 5}}.
        if isinstance(data, dict) and "nodeid" in data and "tilkobling" not in data:
            data = {**data, "tilkobling": {"nodeid": data["nodeid"]}}
            data.pop("nodeid")
        return data


class Veglenke(_Deferred):
    veglenkenummer: int
    startposisjon: float = Field(ge=0, le=1)
    sluttposisjon: float = Field(ge=0, le=1)
    startport: int | None = None
    sluttport: int | None = None
    type: Literal["HOVED", "KONNEKTERING", "DETALJERT"] = "HOVED"
    topologinivå: list[Topologinivå] = Field(default_factory=lambda: list(_VEGTRASE))
    startdato: date
    sluttdato: date | None = None

    @model_validator(mode="before")
    @classmethod
    def _les_levels(cls, data: object) -> object:
        if isinstance(data, dict):
            data = dict(data)
            tekst = data.pop("detaljnivå", None)
            if "topologinivå" not in data and isinstance(tekst, str) and tekst.lower() in _DETALJNIVÅ:
                data["topologinivå"] = list(_DETALJNIVÅ[tekst.lower()])
            elif isinstance(data.get("topologinivå"), str):
                data["topologinivå"] = [data["topologinivå"]]
        return data

    def gyldig_på(self, dag: date) -> bool:
        return self.startdato <= dag and (self.sluttdato is None or dag < self.sluttdato)

    def berører(self, fra: float, til: float) -> bool:
        """Does the link share a stretch with [fra, til], or — for a point (fra == til) — hold it
        inside (a point on a link's end lies at a port, not on the link)?"""
        if fra == til:
            return self.startposisjon < fra < self.sluttposisjon
        return fra < self.sluttposisjon and til > self.startposisjon


class Veglenkesekvens(_Deferred):
    veglenkesekvensId: int = Field(gt=0)
    lengde: float = Field(gt=0, description="meter")
    kommune: int
    fylke: int
    vegkategori: str = Field(pattern="^[ERFKPS]$")
    startdato: date
    sluttdato: date | None = None
    veglenker: list[Veglenke] | None = None
    porter: list[Port] | None = None

    @model_serializer(mode="wrap")
    def _unknown_links_left_out(self, handler: SerializerFunctionWrapHandler):
        """Links and ports not loaded are left out, as NVDB does, not written as null. (No return
        annotation: with one, pydantic would document the answer by it instead of by the fields.)"""
        data = handler(self)
        for key in ("veglenker", "porter"):
            if data.get(key, ()) is None:
                del data[key]
        return data

    def gyldig_i(self, fra: date, til: date | None) -> bool:
        """Is the sequence valid for the whole period [fra, til) (til None = open-ended)?"""
        return gyldig(self.startdato, self.sluttdato, fra, til)

    def noder(self) -> dict[int, int]:
        """node id -> port number on this sequence."""
        return {p.tilkobling.nodeid: p.id for p in self.porter or []}


class Vegnett(_Deferred):
    veglenkesekvenser: list[Veglenkesekvens]


@cache
def _sequences() -> TypeAdapter[list[Veglenkesekvens]]:
    return TypeAdapter(list[Veglenkesekvens])


class NyttVegnett(RootModel[Vegnett | list[Veglenkesekvens]]):
    """The body of PUT /rest/v3/vegnett/veglenkesekvenser: ``{"veglenkesekvenser": [...]}`` or just the list.

    A root over a union with a list: Powertools' request validation hands a JSON list on whole only
    to a body annotated as a sequence, and any other model gets the list's first element."""

    model_config = ConfigDict(defer_build=True)

    @model_validator(mode="wrap")
    @classmethod
    def _object_or_list(cls, data: Any, handler: ModelWrapValidatorHandler[NyttVegnett]) -> NyttVegnett:
        # Each form validated as itself, so an error names the path the client wrote, not a union member.
        if isinstance(data, dict):
            return cls.model_construct(Vegnett.model_validate(data))
        if isinstance(data, list):
            return cls.model_construct(_sequences().validate_python(data))
        return handler(data)

    @property
    def veglenkesekvenser(self) -> list[Veglenkesekvens]:
        return self.root.veglenkesekvenser if isinstance(self.root, Vegnett) else self.root

    def __repr__(self) -> str:  # Powertools puts route arguments in a debug f-string (see api/changesets.py)
        return f"Vegnett({len(self.veglenkesekvenser)} veglenkesekvenser)"
