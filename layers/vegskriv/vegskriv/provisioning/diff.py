"""Pure pieces of a run: the content hash, what counts as current, and the merge of two sorted
streams (the provider's ids+hashes against the consumer's) into creates, updates and deletes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any


def content_hash(data: dict[str, Any]) -> str:
    """Stable over key order and whitespace: the same content always gives the same hash."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def is_current(data: dict[str, Any], today: date) -> bool:
    """Closed objects (sluttdato today or earlier) are no longer current: the consumer drops them."""
    end = (data.get("gyldighetsperiode") or {}).get("sluttdato")
    return not end or date.fromisoformat(str(end)[:10]) > today


@dataclass(frozen=True)
class Provided:
    id: int
    hash: str
    data: dict[str, Any]


@dataclass
class Diff:
    creates: list[Provided] = field(default_factory=list)
    updates: list[Provided] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)
    unchanged: int = 0


def diff(provided: Iterable[Provided], held: Iterable[tuple[int, str]]) -> Diff:
    """Merge two id-sorted streams; one pass, nothing held beyond the two inputs' current items."""
    result = Diff()
    theirs = iter(held)
    mine = iter(provided)
    p = next(mine, None)
    h = next(theirs, None)
    while p is not None or h is not None:
        if h is None or (p is not None and p.id < h[0]):
            assert p is not None
            result.creates.append(p)
            p = next(mine, None)
        elif p is None or h[0] < p.id:
            result.deletes.append(h[0])
            h = next(theirs, None)
        else:
            if p.hash == h[1]:
                result.unchanged += 1
            else:
                result.updates.append(p)
            p, h = next(mine, None), next(theirs, None)
    return result


def over_threshold(deletes: int, held: int, antall: int, andel: float) -> bool:
    """Entra's accidental-deletion guard: more deletes than a count, or than a share of the copy."""
    return deletes > antall or (held > 0 and deletes / held > andel)


def chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
