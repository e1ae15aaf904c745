"""Consumers and runs of the nightly provisioning (contract: ../shared/spec/provisioning.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

RunStatus = Literal["PÅGÅR", "FULLFØRT", "KARANTENE", "FEILET"]
Handling = Literal["OPPRETTET", "OPPDATERT", "SLETTET", "FEILET", "UENDRET"]
COUNTERS = ("hentet", "uendret", "opprettet", "oppdatert", "slettet", "feilet")


class Utvalg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vegobjekttyper: list[Annotated[int, Field(gt=0, le=2**63 - 1)]] = Field(min_length=1, max_length=50)
    kommuner: list[int] | None = Field(None, max_length=500)


class Mål(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["DYNAMODB", "HTTP"]
    url: str | None = Field(None, pattern=r"^https?://[^\s]+$", max_length=2000)


class Sletteterskel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    antall: int = Field(100, ge=0)
    andel: float = Field(0.05, ge=0, le=1)


class NyKonsument(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    navn: str = Field(min_length=1, max_length=200)
    utvalg: Utvalg
    mål: Mål
    sletteterskel: Sletteterskel = Sletteterskel()


class KonsumentEndring(BaseModel):
    model_config = ConfigDict(extra="forbid")
    navn: str | None = Field(None, min_length=1, max_length=200)
    utvalg: Utvalg | None = None
    mål: Mål | None = None
    sletteterskel: Sletteterskel | None = None


class Konsument(NyKonsument):
    eier: str
    vannmerke: str | None = None  # provider snapshot time of the last completed (non-dry) run


class KjøringForespørsel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    modus: Literal["DELTA", "FULL"] = "DELTA"
    tørrkjøring: bool = False


class Kjøring(BaseModel):
    """A run's report and its resumable position (``etter``: every id up to it is done)."""

    id: str
    konsumentId: str
    modus: Literal["DELTA", "FULL"]
    tørrkjøring: bool = False
    status: RunStatus = "PÅGÅR"
    hentet: int = 0
    uendret: int = 0
    opprettet: int = 0
    oppdatert: int = 0
    slettet: int = 0
    feilet: int = 0
    ventendeSlettinger: int = 0
    konsumentAntall: int = 0  # DELTA: counted only as far as the share rule needs
    startet: str
    ferdig: str | None = None
    lagret: str | None = None  # when the report was last saved (every chunk saves it)
    vannmerke: str | None = None
    merknader: list[str] = []
    etter: int = 0
    endretEtter: str | None = None  # DELTA: the consumer's watermark when the run started
    typeIndeks: int = 0  # DELTA: the type being walked, and where in its change feed
    markør: str | None = None
    fase: Literal["SAMMENLIGN", "SLETT", "FERDIG"] = "SAMMENLIGN"
    loggført: int = 0  # log entries written so far: the number of the next one
    plan: str | None = None  # the nightly execution that created it: a retried plan hands it over again
