"""The road network (vegnett): veglenkesekvenser with length, area and validity period."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Veglenkesekvens(BaseModel):
    veglenkesekvensId: int = Field(gt=0)
    lengde: float = Field(gt=0, description="meter")
    kommune: int
    fylke: int
    vegkategori: str = Field(pattern="^[ERFKPS]$")
    startdato: date
    sluttdato: date | None = None

    def gyldig_i(self, fra: date, til: date | None) -> bool:
        """Is the sequence valid for the whole period [fra, til) (til None = open-ended)?"""
        if fra < self.startdato:
            return False
        if self.sluttdato is None:
            return True
        return til is not None and til <= self.sluttdato


class Vegnett(BaseModel):
    veglenkesekvenser: list[Veglenkesekvens]
