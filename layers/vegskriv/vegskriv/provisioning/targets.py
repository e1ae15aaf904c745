"""The HTTP consumer contract, client side (stdlib only: the Lambda layer carries no requests).

``GET {url}/objekter?start=&antall=`` lists ids+hashes in ascending id order (``start`` = list ids
after this one); ``POST {url}/endringer`` takes at most 500 upserts/deletes and answers per id.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from typing import Any
from urllib.parse import urlencode

TIMEOUT_SECONDS = 60


class ConsumerError(Exception):
    """The consumer did not answer per its contract (down, 5xx, not JSON)."""


class HttpTarget:
    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def _call(self, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        request = urllib.request.Request(self.url + path, data=data, method="GET" if data is None else "POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return json.loads(response.read())
        except (OSError, ValueError) as exc:
            raise ConsumerError(f"{self.url}{path}: {exc}") from exc

    @contextmanager
    def _shape(self, path: str) -> Iterator[None]:
        """JSON of another shape than the contract's (a list, ids that are not numbers, ...)."""
        try:
            yield
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ConsumerError(f"{self.url}{path}: svaret følger ikke kontrakten ({exc!r})") from exc

    def held(self, start: int | None, antall: int) -> tuple[list[tuple[int, str]], int | None]:
        query = urlencode({"antall": antall, **({"start": start} if start else {})})
        path = f"/objekter?{query}"
        answer = self._call(path)
        with self._shape(path):
            objekter, more = answer["objekter"], answer.get("neste") is not None
            if not isinstance(objekter, list) or (more and not objekter):
                raise ValueError("objekter: en liste, ikke tom når neste er satt")
            held = [(int(o["id"]), str(o["hash"])) for o in objekter]
        if any(b[0] <= a[0] for a, b in pairwise(held)) or (held and start and held[0][0] <= start):
            raise ConsumerError(f"{self.url}{path}: id-ene kommer ikke stigende etter start")
        return held, (held[-1][0] if more and held else None)

    def apply(self, changes: list[dict[str, Any]]) -> dict[int, str | None]:
        answer = self._call("/endringer", {"endringer": changes})
        with self._shape("/endringer"):
            results = {int(r["id"]): r for r in answer.get("resultat") or []}
        # An item the consumer did not answer for counts as failed: it is sent again next run.
        return {int(c["id"]): None if (results.get(int(c["id"])) or {}).get("ok") is True
                else str((results.get(int(c["id"])) or {}).get("melding") or "ikke bekreftet av konsumenten")
                for c in changes}
