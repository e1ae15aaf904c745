"""Existing data for tests: object versions in the read-side shape, built from the real excerpts."""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.conftest import EXCERPTS

EXCERPT_FILES = {
    "registrer_79": "03_utdrag_registrer_79_med_assosiasjon_220116_til_to_83.json",
    "registrer_83": "04_utdrag_registrer_83_kum.json",
    "lukk": "05_utdrag_lukk.json",
    "delvisOppdater": "06_utdrag_delvisOppdater.json",
}
NETWORK = [{"veglenkesekvensId": vls, "lengde": 1500.0, "kommune": 5059, "fylke": 50, "vegkategori": "E",
            "startdato": "2000-01-01"} for vls in (72817, 3325547)]


def excerpt(name: str) -> dict[str, Any]:
    return json.loads((EXCERPTS / EXCERPT_FILES[name]).read_text())


def _properties(type_id: int) -> list[dict[str, Any]]:
    source = excerpt("registrer_79" if type_id == 79 else "registrer_83")["registrer"]["vegobjekter"]
    obj = next(o for o in source if o["typeId"] == type_id)
    return copy.deepcopy(obj["egenskaper"])


def history(nvdb_id: int, type_id: int, versions: int, *, vls: int = 72817, posisjon: float = 0.5,
            closed: str | None = None, assosiasjoner: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """``versions`` consecutive versions, the last open (or closed at ``closed``)."""
    starts = [f"{2015 + i}-01-01" for i in range(versions)]
    result = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < versions else closed
        result.append({"id": nvdb_id, "versjon": i + 1, "typeId": type_id,
                       "gyldighetsperiode": {"startdato": start, **({"sluttdato": end} if end else {})},
                       "egenskaper": _properties(type_id),
                       "stedfesting": {"punkt": [{"veglenkesekvensNvdbId": vls, "posisjon": posisjon,
                                                  "sideposisjon": "H"}]},
                       "assosiasjoner": assosiasjoner or [],
                       "metadata": {"endringssettId": "import", "sistEndret": "2024-01-01T00:00:00Z"}})
    return result


def excerpt_world() -> list[dict[str, Any]]:
    """Every object the lukk and delvisOppdater excerpts refer to, with the versions they name."""
    return [
        *history(85726571, 83, 3), *history(114252463, 83, 1), *history(85753648, 83, 4),
        *history(134676623, 83, 2), *history(1013515270, 83, 1), *history(85753479, 83, 4),
        *history(1017932865, 79, 1), *history(85753589, 79, 4),
    ]
