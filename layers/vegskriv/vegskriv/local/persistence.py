"""``vegskriv local --data DIR``: keep the stack's DynamoDB tables across restarts.

Every table the template declares is written to one JSON file, ``DIR/tables.json``, whenever a
write happened since the last save (checked every ``interval`` seconds) and on a clean stop.
The file is written to a temporary name and renamed, so a kill -9 leaves either the previous
snapshot or the new one, never half of one; it is taken under the stack's DynamoDB lock, so it
is one consistent moment across all tables (a changeset's commit and its objects together).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import Binary, TypeSerializer

from vegskriv.local.runtime import FunctionError, FunctionRuntime
from vegskriv.local.template import FunctionSpec

log = logging.getLogger("vegskriv_local.data")

SNAPSHOT = "tables.json"
FORMAT = 1


def _encode(value: Any) -> Any:
    """A DynamoDB attribute value as JSON: binary values (B, BS) become base64 text."""
    if isinstance(value, Binary):
        value = bytes(value)  # type: ignore[call-overload]  # Binary has __bytes__; the stubs miss it
    if isinstance(value, bytes | bytearray):
        return {"$b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$b64"} and isinstance(value["$b64"], str):  # typed values are dicts
            return base64.b64decode(value["$b64"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class TableSnapshots:
    """Saves the items of ``table_names`` (read by ``items``) and loads them with batch writes."""

    def __init__(self, directory: str | Path, ddb: Any, table_names: list[str], lock: Any,
                 items: Any, interval: float = 1.0) -> None:
        self.directory = Path(directory)
        self.path = self.directory / SNAPSHOT
        self.ddb = ddb
        self.table_names = table_names
        self.lock = lock  # held by every DynamoDB call of the stack
        self.items = items  # table name -> its items as Python values (taken under the lock)
        self.interval = interval
        self.writes = 0  # bumped by the stack on every DynamoDB write
        self.saves = 0
        self._last_seconds = 0.0
        self._saved_at_writes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ load

    def load(self) -> dict[str, int]:
        """Put the saved items back into the (new, empty) tables; items per table."""
        if not self.path.is_file():
            return {}
        data = json.loads(self.path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"{self.path}: unknown snapshot format {data.get('format')!r}")
        counts: dict[str, int] = {}
        for name, items in data["tables"].items():
            if name not in self.table_names:
                log.warning("%s: table %s is not in the template; its %d items are not loaded",
                            self.path, name, len(items))
                continue
            for start in range(0, len(items), 25):
                requests = [{"PutRequest": {"Item": _decode(item)}} for item in items[start:start + 25]]
                pending: dict[str, Any] = {name: requests}
                while pending:
                    pending = self.ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            counts[name] = len(items)
        self._saved_at_writes = self.writes
        return counts

    # ------------------------------------------------------------------ save

    def save(self) -> bool:
        """Write a snapshot if anything was written since the last one; True if it did."""
        began = time.monotonic()
        with self.lock:
            writes = self.writes
            if writes == self._saved_at_writes and self.path.is_file():
                return False
            tables = {name: self.items(name) for name in self.table_names}
        serialize = TypeSerializer().serialize
        payload = json.dumps({"format": FORMAT, "savedAt": time.time(), "tables": {
            name: [{k: _encode(serialize(v)) for k, v in item.items()} for item in items]
            for name, items in tables.items()}}, separators=(",", ":"))
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".tables-", suffix=".json", dir=self.directory)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(payload)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        self._saved_at_writes = writes
        self.saves += 1
        self._last_seconds = time.monotonic() - began
        return True

    # ------------------------------------------------------------------ background saver

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="vegskriv-data", daemon=True)
        self._thread.start()

    def stop(self, *, save: bool = True) -> None:
        """Stop the saver and write a last snapshot (a clean shutdown loses nothing)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if save:
            self.save()

    def _run(self) -> None:
        # Big tables take a while to save (0.6 s of 1.9 s under the lock for 10,000 items): space
        # the saves out so that the stack spends most of its time working, not saving.
        while not self._stop.wait(max(self.interval, 3 * self._last_seconds)):
            try:
                self.save()
            except Exception:
                log.exception("saving %s failed; trying again in %.0f s", self.path, self.interval)


# ---------------------------------------------------------------------------- after loading


def resume_interrupted(runtime: FunctionRuntime, events: Any, account: str, region: str) -> int:
    """The saved tables outlive the Step Functions executions: a changeset that was started and
    not finished gets what AWS gives an aborted execution — the function subscribed to ABORTED
    executions (the janitor) releases its locks and starts a fresh execution. Returns how many."""
    from vegskriv.changesets.models import TERMINAL, Fremdrift
    from vegskriv.changesets.recovery import nth_execution
    from vegskriv.store import changesets

    listeners = [(spec, machine) for spec in runtime.functions.values()
                 for machine in _aborted_execution_subscriptions(spec, events)]
    resumed = 0
    for meta in changesets.scan_by_time(from_ms=None, to_ms=None, ascending=True):
        state = Fremdrift(meta["fremdrift"])
        if (state in TERMINAL or (state == Fremdrift.IKKE_STARTET and not meta.get("startBestilt"))
                or (state == Fremdrift.UTFØRT and not meta.get("committed"))):  # a finished dry run
            continue
        name = nth_execution(meta["id"], int(meta.get("gjenopptak") or 0))  # its newest execution
        for spec, machine in listeners:
            execution = f"{machine.replace(':stateMachine:', ':execution:')}:{name}"
            event = {"version": "0", "id": str(uuid.uuid4()), "source": "aws.states",
                     "detail-type": "Step Functions Execution Status Change", "account": account,
                     "region": region, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     "resources": [execution],
                     "detail": {"executionArn": execution, "stateMachineArn": machine, "name": name,
                                "status": "ABORTED", "input": json.dumps({"endringssettId": meta["id"]})}}
            try:
                log.info("changeset %s was %s when the stack stopped: %s", meta["id"], state.value,
                         runtime.invoke(spec, event))
                resumed += 1
            except FunctionError as err:
                log.error("could not resume changeset %s: %s", meta["id"], err)
    return resumed


def _aborted_execution_subscriptions(spec: FunctionSpec, events: Any) -> list[str]:
    """State machines whose ABORTED executions the function is subscribed to (an EventBridge rule
    of moto's, ``events`` its boto3 client)."""
    machines: list[str] = []
    for page in events.get_paginator("list_rule_names_by_target").paginate(TargetArn=spec.arn):
        for name in page["RuleNames"]:
            pattern = json.loads(events.describe_rule(Name=name).get("EventPattern") or "{}")
            detail = pattern.get("detail") or {}
            if "ABORTED" in (detail.get("status") or []):
                machines.extend(str(arn) for arn in detail.get("stateMachineArn") or [])
    return machines
