"""Changesets: one META item with the state, plus gzip chunks for the document, the result,
the existing data read under the locks (the work context) and the effectuation plan. Every state
change is a single conditional update."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import ConditionBase, Key
from botocore.exceptions import ClientError

from vegskriv import aws
from vegskriv.changesets.models import TERMINAL, TRANSITIONS, Fremdrift
from vegskriv.errors import TransitionRefused
from vegskriv.observability import logger, measure
from vegskriv.settings import get_settings
from vegskriv.store.blobs import get_blob, get_first_blob, put_blob

GSI_PARTITION = "ENDRINGSSETT"


def _pk(changeset_id: str) -> str:
    return f"ES#{changeset_id}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _table() -> Any:
    return aws.table(get_settings().changesets_table)


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; callers want ints."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if type(value).__name__ == "Decimal":
        return int(value) if value == int(value) else float(value)
    return value


def create(changeset_id: str, meta: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """Store the document first, then the META item: a changeset without META does not exist."""
    table = _table()
    put_blob(table, _pk(changeset_id), "DOK", document)
    now_ms = int(time.time() * 1000)
    item = {"pk": _pk(changeset_id), "sk": "META", "id": changeset_id, "gsi1pk": GSI_PARTITION,
            "mottattMs": now_ms, "mottatt": now_iso(), "fremdrift": Fremdrift.IKKE_STARTET.value,
            "fremdriftOppdatert": now_iso(), "kanselleringBestilt": False, "harVaertBehandlet": False,
            **meta}
    table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    count(item, received=True)
    return _plain(item)


def get(changeset_id: str) -> dict[str, Any] | None:
    item = _table().get_item(Key={"pk": _pk(changeset_id), "sk": "META"}, ConsistentRead=True).get("Item")
    return _plain(item) if item else None


def document(changeset_id: str) -> dict[str, Any]:
    doc = get_blob(_table(), _pk(changeset_id), "DOK")
    if doc is None:
        raise KeyError(changeset_id)
    return doc


def save_result(changeset_id: str, resultat: dict[str, Any]) -> None:
    """The result of an end without commit (a cancel, a give-up): validation's, with why."""
    put_blob(_table(), _pk(changeset_id), "RES", resultat)


def save_committed_result(changeset_id: str, resultat: dict[str, Any]) -> None:
    """Commit's result (validation's with the effectuation's ids), written before the commit write
    and shown once META says committed: an attempt whose commit write is refused (a cancel or a
    give-up landed first) leaves no ids in what is shown, and cannot write over an end's result."""
    put_blob(_table(), _pk(changeset_id), "RESC", resultat)


def result(changeset_id: str, *, committed: bool) -> dict[str, Any] | None:
    """The result shown: commit's once committed (RES for a changeset committed before commit had
    a blob of its own), else an end's, else validation's. One Query."""
    shown = ("RESC", "RES", "RESV") if committed else ("RES", "RESV")
    return get_first_blob(_table(), _pk(changeset_id), shown)


def save_validated_result(changeset_id: str, resultat: dict[str, Any]) -> None:
    """Validation's result has a blob of its own, so a validation that runs late (a duplicate
    execution still under way after the commit) cannot write over the committed result's ids."""
    put_blob(_table(), _pk(changeset_id), "RESV", resultat)


def validated_result(changeset_id: str) -> dict[str, Any] | None:
    """Validation's result (RES for one validated before it had a blob of its own)."""
    return get_first_blob(_table(), _pk(changeset_id), ("RESV", "RES"))


def save_plan(changeset_id: str, plan: dict[str, Any]) -> None:
    put_blob(_table(), _pk(changeset_id), "PLAN", plan)


def plan(changeset_id: str) -> dict[str, Any] | None:
    return get_blob(_table(), _pk(changeset_id), "PLAN")


def save_context(changeset_id: str, context: dict[str, Any]) -> None:
    put_blob(_table(), _pk(changeset_id), "CTX", context)


def context(changeset_id: str) -> dict[str, Any] | None:
    return get_blob(_table(), _pk(changeset_id), "CTX")


def save_fold(changeset_id: str, folded: list[dict[str, Any]]) -> None:
    put_blob(_table(), _pk(changeset_id), "FOLD", folded)


def fold(changeset_id: str) -> list[dict[str, Any]] | None:
    return get_blob(_table(), _pk(changeset_id), "FOLD")


def transition(changeset_id: str, leaving: Iterable[Fremdrift], to: Fremdrift, *,
               condition: str | None = None, values: dict[str, Any] | None = None,
               **fields: Any) -> dict[str, Any]:
    """Move the changeset to ``to`` from one of ``leaving`` in one conditional write.

    ``fields`` are set in the same write (``None`` removes the attribute). Raises
    TransitionRefused if the changeset was not in a state it may leave this way.
    """
    leaving = [s for s in leaving if to in TRANSITIONS[s] or s == to]
    if not leaving:
        raise TransitionRefused(f"no state may move to {to}")
    names = {"#f": "fremdrift"}
    vals: dict[str, Any] = {":to": to.value, ":now": now_iso(), **(values or {})}
    sets = ["#f = :to", "fremdriftOppdatert = :now"]
    removes = []
    for i, (key, value) in enumerate(fields.items()):
        names[f"#a{i}"] = key
        if value is None:
            removes.append(f"#a{i}")
        else:
            sets.append(f"#a{i} = :a{i}")
            vals[f":a{i}"] = value
    if to == Fremdrift.BEHANDLES:
        sets.append("harVaertBehandlet = :true")
        vals[":true"] = True
    leave_names = []
    for i, state in enumerate(leaving):
        vals[f":l{i}"] = state.value
        leave_names.append(f":l{i}")
    cond = f"#f IN ({', '.join(leave_names)})"
    if condition:
        cond = f"({cond}) AND ({condition})"
    expr = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    try:
        item = _table().update_item(
            Key={"pk": _pk(changeset_id), "sk": "META"}, UpdateExpression=expr,
            ConditionExpression=f"attribute_exists(pk) AND {cond}", ExpressionAttributeNames=names,
            ExpressionAttributeValues=vals, ReturnValues="ALL_NEW")["Attributes"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise TransitionRefused(f"{changeset_id}: cannot move to {to}") from exc
        raise
    _announce(changeset_id, item)
    return _plain(item)


def _announce(changeset_id: str, item: dict[str, Any]) -> None:
    """Every state change passes here: one log line, and the finished-metric when it ends."""
    state = Fremdrift(item["fremdrift"])
    reason = item.get("avvistårsak") if state == Fremdrift.AVVIST else \
        item.get("venteårsak") if state == Fremdrift.VENTER else None
    logger.info("fremdrift endret", extra={"endringssettId": changeset_id, "fremdrift": state.value,
                                           "årsak": reason})
    if state in TERMINAL or (state == Fremdrift.UTFØRT and item.get("dryrun")):
        measure("EndringssettFerdig", fremdrift=state.value, aarsak=reason or "INGEN")
    count(item)


# Upper bounds (seconds) of the processing-time buckets of the statistics; the last bucket is open.
BUCKETS = (1, 5, 30, 120, 600)
STATS = "STATISTIKK"  # pk of the day counters over everyone; STATISTIKK#{eier} per owner


def _bucket(seconds: float) -> str:
    return next((f"≤{b} s" for b in BUCKETS if seconds <= b), f">{BUCKETS[-1]} s")


def count(item: dict[str, Any], *, received: bool = False) -> None:
    """The statistics' per-day counters (day received, UTC), so reading them costs one query a day
    range, not a read of every changeset. One ADD per counter item (everyone's and the owner's);
    each state is entered once (conditional transitions), so nothing is counted twice."""
    state = Fremdrift(item["fremdrift"])
    adds: dict[str, int] = {}
    if received:
        adds["mottatt"] = 1
    elif state in TERMINAL or (state == Fremdrift.UTFØRT and item.get("dryrun")):
        if not (item.get("dryrun") and state == Fremdrift.UTFØRT_OG_ETTERBEHANDLET):
            adds[state.value] = 1
            adds[_bucket((datetime.fromisoformat(str(item["fremdriftOppdatert"]))
                          - datetime.fromisoformat(str(item["mottatt"]))).total_seconds())] = 1
    elif state == Fremdrift.VENTER and item.get("venteårsak") == "VENTER_PÅ_LÅS":
        adds["forsøk"] = 1
        if int(item.get("ventForsok") or 0) <= 1:
            adds["endringssett"] = 1  # the first attempt of a wait: one changeset that waited
    if not adds:
        return
    names = {f"#c{i}": k for i, k in enumerate(adds)}
    expr = "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(adds)))
    values = {f":c{i}": v for i, v in enumerate(adds.values())}
    for pk in (STATS, f"{STATS}#{item.get('eier', '')}"):
        try:
            _table().update_item(Key={"pk": pk, "sk": str(item["mottatt"])[:10]}, UpdateExpression=expr,
                                 ExpressionAttributeNames=names, ExpressionAttributeValues=values)
        except ClientError:  # the state change stands; a lost count only skews a chart
            logger.warning("statistikkteller ikke oppdatert", exc_info=True)


def statistics_days(owner: str | None, from_day: str | None, to_day: str | None) -> list[dict[str, Any]]:
    """The day counters (everyone's, or one owner's) in [from_day, to_day], oldest first."""
    key: ConditionBase = Key("pk").eq(f"{STATS}#{owner}" if owner else STATS)
    if from_day or to_day:
        key &= Key("sk").between(from_day or "0000", to_day or "9999")
    kwargs: dict[str, Any] = {"KeyConditionExpression": key}
    days = []
    while True:
        page = _table().query(**kwargs)
        days += [_plain(item) for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return days
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def update(changeset_id: str, *, condition: str | None = None, values: dict[str, Any] | None = None,
           **fields: Any) -> dict[str, Any] | None:
    """Set fields without a state change; returns None if ``condition`` did not hold."""
    names, vals, sets = {}, dict(values or {}), []
    for i, (key, value) in enumerate(fields.items()):
        names[f"#a{i}"] = key
        vals[f":a{i}"] = value
        sets.append(f"#a{i} = :a{i}")
    try:
        item = _table().update_item(
            Key={"pk": _pk(changeset_id), "sk": "META"}, UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="attribute_exists(pk)" + (f" AND ({condition})" if condition else ""),
            ExpressionAttributeNames=names, ExpressionAttributeValues=vals, ReturnValues="ALL_NEW")["Attributes"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return None
        raise
    return _plain(item)


def scan_by_time(*, from_ms: int | None, to_ms: int | None, ascending: bool) -> Iterator[dict[str, Any]]:
    """All changesets received in [from_ms, to_ms], newest first unless ``ascending``."""
    key: ConditionBase = Key("gsi1pk").eq(GSI_PARTITION)
    if from_ms is not None and to_ms is not None:
        key &= Key("mottattMs").between(from_ms, to_ms)
    elif from_ms is not None:
        key &= Key("mottattMs").gte(from_ms)
    elif to_ms is not None:
        key &= Key("mottattMs").lte(to_ms)
    kwargs: dict[str, Any] = {"IndexName": "ByMottatt", "KeyConditionExpression": key,
                              "ScanIndexForward": ascending}
    while True:
        page = _table().query(**kwargs)
        for item in page["Items"]:
            yield _plain(item)
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def by_oppdrag(oppdrag_id: int) -> dict[str, Any] | None:
    """The changeset whose commit wrote this oppdragId, read from ByOppdrag: only a commit writes
    oppdragId, so the index holds committed changesets and nothing else. (A GSI is eventually
    consistent: for a moment after the commit the oppdrag may not be found.)"""
    items = _table().query(IndexName="ByOppdrag", KeyConditionExpression=Key("oppdragId").eq(oppdrag_id),
                           Limit=1)["Items"]
    return _plain(items[0]) if items else None


_committed: set[str] = set()


def is_committed(changeset_id: str) -> bool:
    """Has the changeset's commit write happened? Positive answers never change, so cache them."""
    if changeset_id in _committed:
        return True
    meta = get(changeset_id)
    if meta and meta.get("committed"):
        _committed.add(changeset_id)
        return True
    return False
