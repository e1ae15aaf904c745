"""Cutting into the object store's batched writes, for fault-injection tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vegskriv.store import batch, objects


def _changeset_object(request: dict[str, Any]) -> bool:
    item = request.get("PutRequest", {}).get("Item", {})
    return item.get("sk") == objects.OBJECT_SK and item.get("cs") != objects.IMPORT


def object_writes(monkeypatch: Any, action: Callable[[int], None]) -> dict[str, int]:
    """Run ``action(n)`` before a changeset's n-th object-item write (0-based). If it raises, the
    writes before it in the same batch are durable and the rest never happen, as when a
    BatchWriteItem's caller dies between two of its items."""
    real = batch.send_batch
    count = {"n": 0}

    def send(table_name: str, requests: list[dict[str, Any]]) -> None:
        for i, request in enumerate(requests):
            if _changeset_object(request):
                try:
                    action(count["n"])
                except BaseException:
                    if i:
                        real(table_name, requests[:i])
                    raise
                count["n"] += 1
        real(table_name, requests)

    monkeypatch.setattr(batch, "send_batch", send)
    return count
