"""Patches the local stack puts on moto so it can run handlers in-process and concurrently (see
``vegskriv.local``'s docstring): locks around moto's non-atomic steps, SQS long polls that wait
outside the lock, and the undo list that restores moto on stop."""

from __future__ import annotations

import functools
import threading
import time
from typing import Any


class Patches:
    """Monkey patches on moto classes, undone on stop."""

    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any]] = []

    def replace(self, owner: Any, name: str, replacement: Any) -> None:
        self._undo.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, replacement)

    def undo(self) -> None:
        while self._undo:
            owner, name, original = self._undo.pop()
            setattr(owner, name, original)


# One lock for every DynamoDB API call: moto evaluates ConditionExpressions and writes in
# separate steps, so concurrent workers would otherwise both "win" a conditional write.
DYNAMODB_LOCK = threading.RLock()
SQS_LOCK = threading.RLock()
EXPRESSION_LOCK = threading.Lock()


def locked(method: Any, lock: Any) -> Any:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return method(*args, **kwargs)

    return wrapper


def locked_long_poll(receive: Any) -> Any:
    """receive_message under SQS_LOCK, with the long-poll wait done outside the lock."""

    @functools.wraps(receive)
    def wrapper(backend: Any, queue_name: str, count: int, wait_seconds_timeout: int,
                visibility_timeout: int, message_attribute_names: Any = None) -> Any:
        deadline = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            with SQS_LOCK:
                result = receive(backend, queue_name, count, 0, visibility_timeout,
                                 message_attribute_names)
            if result or time.monotonic() >= deadline:
                return result
            time.sleep(0.05)

    return wrapper


def get_header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    getter = getattr(headers, "get", None)
    value = getter(name) if getter else None
    if value is None and hasattr(headers, "items"):
        for key, val in headers.items():
            if key.lower() == name.lower():
                return str(val)
    return value
