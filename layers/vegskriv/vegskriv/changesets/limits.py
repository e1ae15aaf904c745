"""Size limits checked at registration, so that nothing a changeset may contain is unstorable.

Storage no longer needs them (version lists too large for an item are spilled to chunks, see
``store/objects.py``); they bound what one changeset and one object may cost (README "Limits").
The limits are settings; a breach answers 413 naming the path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from vegskriv.changesets.models import Egenskap, Endringssett
from vegskriv.errors import PayloadTooLarge
from vegskriv.settings import get_settings


def _values(egenskaper: list[Egenskap], path: str) -> Iterator[tuple[str, str, bool]]:
    """(path, text, is_geometry) of every text value and geometry, structure members included."""
    for i, e in enumerate(egenskaper):
        for j, v in enumerate(e.verdi or []):
            if isinstance(v, str):
                yield f"{path}.egenskaper[{i}].verdi[{j}]", v, False
        for j, g in enumerate(e.geometri or []):
            yield f"{path}.egenskaper[{i}].geometri[{j}].wkt", g.wkt, True
        yield from _values(e.medlem or [], f"{path}.egenskaper[{i}].medlem")


def check(doc: Endringssett, raw: dict[str, Any]) -> None:
    s = get_settings()
    count = doc.antall_vegobjekter()
    if count > s.max_objects_per_changeset:
        raise PayloadTooLarge(f"Endringssettet har {count} vegobjekter, men høyst {s.max_objects_per_changeset} "
                              "er tillatt i ett endringssett (MAX_VEGOBJEKTER); del det opp")
    for op, objs in doc.operations():
        for n, (obj, source) in enumerate(zip(objs, raw[op]["vegobjekter"], strict=True)):
            path = f"{op}.vegobjekter[{n}]"
            for where, text, geometry in _values(getattr(obj, "egenskaper", []), path):
                if geometry and len(text) > s.max_wkt_length:
                    raise PayloadTooLarge(f"{where}: geometrien har {len(text)} tegn, men høyst {s.max_wkt_length} "
                                          "er tillatt (MAX_WKT_LENGDE); forenkle geometrien")
                if not geometry and len(text) > s.max_text_length:
                    raise PayloadTooLarge(f"{where}: verdien har {len(text)} tegn, men høyst {s.max_text_length} "
                                          "er tillatt (MAX_TEKST_LENGDE)")
            size = len(json.dumps(source, ensure_ascii=False, separators=(",", ":")).encode())
            if size > s.max_object_bytes:
                raise PayloadTooLarge(f"{path}: vegobjektet er {size} byte, men høyst {s.max_object_bytes} er "
                                      "tillatt (MAX_VEGOBJEKT_BYTES)")
