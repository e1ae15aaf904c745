"""Provisioning in DynamoDB (one table): consumers, runs, per-object logs, parked deletes, the
built-in DYNAMODB target's copy, and the provider port on top of the read functions.

Keys: ``KONSUMENTER``/``<id>`` a consumer; ``KONSUMENT#<id>``/``KJ#<runId>`` a run (run ids sort
by start time); ``KJ#<runId>``/``LOGG#<n>`` its log, entries numbered in the order written, many to
an item (``n`` = the first's number: a FULL of 100,000 objects writes 100 log items, not 100,000),
and ``KJ#<runId>``/``SLETT#<nvdbId>`` its parked deletes. A run item gets ``etterfolger`` (the next
run's id) in the transaction that saves the next run, and ``KONSUMENT#<id>``/``FORSTE`` is made with
the consumer's first run: so each run has at most one successor, and a replaced run is never saved again;
``KOPI#<consumerId>``/``<nvdbId>`` the built-in consumer's copy (ids zero-padded: they sort).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from vegskriv import aws
from vegskriv.provisioning.diff import Provided, content_hash
from vegskriv.provisioning.model import Kjøring, Konsument
from vegskriv.provisioning.run import Page
from vegskriv.settings import get_settings
from vegskriv.store import batch, changes, objects, reference

_ser = TypeSerializer()
FIRST_RUN = "FORSTE"  # sort key of the marker a consumer's first run makes (not a KJ# item: no run)


def _wire(values: dict[str, Any]) -> dict[str, Any]:
    """Plain values as the low-level client (and so a transaction) takes them."""
    return {k: _ser.serialize(v) for k, v in values.items()}


def _table() -> Any:
    return aws.table(get_settings().provisioning_table)


def _n(nvdb_id: int) -> str:
    return f"{nvdb_id:015d}"


def _query(pk: str, prefix: str, after: str | None = None, limit: int | None = None,
           forward: bool = True, upto: str | None = None, projection: str | None = None) -> list[dict[str, Any]]:
    cond: Any = Key("pk").eq(pk)
    if upto:
        cond &= Key("sk").lte(upto)
    elif after:
        cond &= Key("sk").between(after + "\x00", prefix + "\uffff")
    elif prefix:
        cond &= Key("sk").begins_with(prefix)
    kwargs: dict[str, Any] = {"KeyConditionExpression": cond, "ScanIndexForward": forward, "ConsistentRead": True,
                              **({"ProjectionExpression": projection} if projection else {})}
    if projection and "#h" in projection:
        kwargs["ExpressionAttributeNames"] = {"#h": "hash"}  # a reserved word
    found: list[dict[str, Any]] = []
    while True:
        if limit:
            kwargs["Limit"] = limit - len(found)
        page = _table().query(**kwargs)
        found.extend(page["Items"])
        if "LastEvaluatedKey" not in page or (limit and len(found) >= limit):
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# ---------------------------------------------------------------- consumers

def create_consumer(konsument: Konsument) -> bool:
    """False if the id is taken."""
    try:
        _table().put_item(Item={"pk": "KONSUMENTER", "sk": konsument.id, "data": konsument.model_dump_json()},
                          ConditionExpression="attribute_not_exists(pk)")
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


# What a run ended by an edit of its consumer has as its successor: the next run may follow it.
ENDED_BY_EDIT = "KONSUMENT_ENDRET"


def _refused(items: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """Write ``items`` in one transaction; None when written, else why each item was refused."""
    try:
        aws.client("dynamodb").transact_write_items(TransactItems=items)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("TransactionCanceledException", "TransactionConflictException"):
            return [dict(r) for r in exc.response.get("CancellationReasons") or []]
        raise
    return None


class ConsumerChanged(Exception):
    """The consumer (or its newest run) was written since it was read: read it again."""


def _consumer_item(konsument: Konsument) -> dict[str, Any]:
    return {"pk": "KONSUMENTER", "sk": konsument.id, "data": konsument.model_dump_json()}


def save_consumer(konsument: Konsument, unchanged_since: str | None = None) -> None:
    """With ``unchanged_since`` (its stored text as read) only if nobody wrote it since, else
    :class:`ConsumerChanged`."""
    if unchanged_since is None:
        _table().put_item(Item=_consumer_item(konsument))
        return
    try:
        _table().put_item(Item=_consumer_item(konsument), ConditionExpression="#d = :then",
                          ExpressionAttributeNames={"#d": "data"}, ExpressionAttributeValues={":then": unchanged_since})
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise ConsumerChanged(f"konsumenter/{konsument.id} ble endret samtidig") from exc
        raise


def change_consumer(konsument: Konsument, unchanged_since: str, ended: Kjøring | None = None,
                    ended_since: str | None = None) -> None:
    """Save the changed consumer, and with ``ended`` (its newest run, going, with its text as read)
    end that run in the same write: a run must not go on under another subset or target, nor move
    the watermark the change has cleared. :class:`ConsumerChanged` if either was written since."""
    if ended is None:
        save_consumer(konsument, unchanged_since)
        return
    table = get_settings().provisioning_table
    items = [{"Put": {"TableName": table, "Item": _wire(_consumer_item(konsument)), "ConditionExpression": "#d = :then",
                      "ExpressionAttributeNames": {"#d": "data"}, "ExpressionAttributeValues": _wire(
                          {":then": unchanged_since})}},
             {"Update": {"TableName": table, "Key": _wire({"pk": f"KONSUMENT#{konsument.id}", "sk": f"KJ#{ended.id}"}),
                         "UpdateExpression": "SET etterfolger = :why, #d = :now",
                         "ConditionExpression": "attribute_not_exists(etterfolger) AND #d = :then",
                         "ExpressionAttributeNames": {"#d": "data"},
                         "ExpressionAttributeValues": _wire({":why": ENDED_BY_EDIT, ":now": ended.model_dump_json(),
                                                             ":then": ended_since})}}]
    if _refused(items) is not None:
        raise ConsumerChanged(f"konsumenter/{konsument.id} eller kjøringen {ended.id} ble endret samtidig")


def get_consumer(konsument_id: str) -> Konsument | None:
    found = get_consumer_text(konsument_id)
    return found[0] if found else None


def get_consumer_text(konsument_id: str) -> tuple[Konsument, str] | None:
    """The consumer and its stored text (what ``unchanged_since`` compares)."""
    item = _table().get_item(Key={"pk": "KONSUMENTER", "sk": konsument_id}, ConsistentRead=True).get("Item")
    return (Konsument.model_validate_json(item["data"]), item["data"]) if item else None


def list_consumers() -> list[Konsument]:
    return [Konsument.model_validate_json(i["data"]) for i in _query("KONSUMENTER", "")]


def delete_consumer(konsument_id: str) -> None:
    """The consumer, its runs and the built-in copy (logs expire with their runs' keys unreferenced)."""
    table = _table()
    with table.batch_writer() as writer:
        for pk, prefix in ((f"KOPI#{konsument_id}", ""), (f"KONSUMENT#{konsument_id}", "KJ#")):
            for item in _query(pk, prefix):
                writer.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
        writer.delete_item(Key={"pk": f"KONSUMENT#{konsument_id}", "sk": FIRST_RUN})
        writer.delete_item(Key={"pk": "KONSUMENTER", "sk": konsument_id})




# ---------------------------------------------------------------- runs and logs

def new_run_id() -> str:
    # Microseconds: runs list newest first by id, and a run that replaces another may start in its second.
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"


class Replaced(Exception):
    """The run has a newer run after it (or the newest run changed since it was read): not saved."""


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def save_run(run: Kjøring, unchanged_since: str | None = None) -> None:
    """Save a run's report, unless a newer run has replaced it (:func:`start_run`): a late save of
    a replaced run would otherwise make it look alive again. With ``unchanged_since`` (its stored
    text as read) only if nobody saved it since."""
    run.lagret = _stamp()
    condition = "attribute_exists(pk) AND attribute_not_exists(etterfolger)"
    extra: dict[str, Any] = {}
    if unchanged_since is not None:
        condition += " AND #d = :then"
        extra = {"ExpressionAttributeNames": {"#d": "data"}, "ExpressionAttributeValues": {":then": unchanged_since}}
    try:
        _table().put_item(Item={"pk": f"KONSUMENT#{run.konsumentId}", "sk": f"KJ#{run.id}",
                                "data": run.model_dump_json()}, ConditionExpression=condition, **extra)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise Replaced(f"kjøring {run.id} er erstattet av en nyere") from exc
        raise


def newest_run(konsument_id: str) -> tuple[Kjøring, str] | None:
    """The consumer's newest run, with its stored text (what :func:`start_run` checks is unchanged)."""
    items = _query(f"KONSUMENT#{konsument_id}", "KJ#", limit=1, forward=False)
    return (Kjøring.model_validate_json(items[0]["data"]), items[0]["data"]) if items else None


def finish_run(run: Kjøring, vannmerke: str | None) -> None:
    """Save the completed run and set its consumer's watermark in one write: a run that has been
    replaced (or whose consumer was removed or changed its subset, which ends it) raises
    :class:`Replaced` and leaves the watermark alone; an edit of the consumer meanwhile is kept."""
    table = get_settings().provisioning_table
    for _ in range(5):
        found = get_consumer_text(run.konsumentId)
        if found is None:
            raise Replaced(f"konsumenter/{run.konsumentId} finnes ikke lenger")
        konsument, text = found
        konsument.vannmerke = vannmerke
        run.lagret = _stamp()
        saved = {"pk": f"KONSUMENT#{run.konsumentId}", "sk": f"KJ#{run.id}", "data": run.model_dump_json()}
        items = [{"Put": {"TableName": table, "Item": _wire(saved),
                          "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(etterfolger)"}},
                 {"Put": {"TableName": table, "Item": _wire(_consumer_item(konsument)),
                          "ConditionExpression": "#d = :then", "ExpressionAttributeNames": {"#d": "data"},
                          "ExpressionAttributeValues": _wire({":then": text})}}]
        reasons = _refused(items)
        if reasons is None:
            return
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            raise Replaced(f"kjøring {run.id} er erstattet av en nyere")
        # the consumer was edited between the read and the write: read it again
    raise ConsumerChanged(f"konsumenter/{run.konsumentId} endres stadig; kjøring {run.id} ikke lagret")


def start_run(run: Kjøring, previous: tuple[Kjøring, str] | None) -> None:
    """Save ``run`` as the consumer's next run in one transaction with marking what came before as
    followed: ``previous`` (the newest run as read, and its text then; saved as given, e.g. ended)
    only if nothing changed it since, or for a first run the consumer's first-run marker. Of two runs
    started at once, one wins and the other raises :class:`Replaced`."""
    table = get_settings().provisioning_table
    run.lagret = _stamp()
    new = {"pk": f"KONSUMENT#{run.konsumentId}", "sk": f"KJ#{run.id}", "data": run.model_dump_json()}
    items: list[dict[str, Any]] = [{"Put": {"TableName": table, "Item": _wire(new),
                                            "ConditionExpression": "attribute_not_exists(pk)"}}]
    if previous is None:  # the consumer's first run: its marker item can be made once
        first = {"pk": f"KONSUMENT#{run.konsumentId}", "sk": FIRST_RUN, "kjoering": run.id}
        items.append({"Put": {"TableName": table, "Item": _wire(first),
                              "ConditionExpression": "attribute_not_exists(pk)"}})
    else:
        before, text = previous
        items.append({"Update": {
            "TableName": table, "Key": _wire({"pk": f"KONSUMENT#{before.konsumentId}", "sk": f"KJ#{before.id}"}),
            "UpdateExpression": "SET etterfolger = :id, #d = :now",
            "ConditionExpression": "(attribute_not_exists(etterfolger) OR etterfolger = :edit) AND #d = :then",
            "ExpressionAttributeNames": {"#d": "data"},
            "ExpressionAttributeValues": _wire({":id": run.id, ":now": before.model_dump_json(), ":then": text,
                                                ":edit": ENDED_BY_EDIT})}})
    if _refused(items) is not None:
        raise Replaced(f"konsumenter/{run.konsumentId}: en annen kjøring ble startet samtidig")


def get_run(konsument_id: str, run_id: str) -> Kjøring | None:
    found = get_run_text(konsument_id, run_id)
    return found[0] if found else None


def get_run_text(konsument_id: str, run_id: str) -> tuple[Kjøring, str] | None:
    """The run and its stored text (what :func:`save_run`'s ``unchanged_since`` compares)."""
    item = _table().get_item(Key={"pk": f"KONSUMENT#{konsument_id}", "sk": f"KJ#{run_id}"},
                             ConsistentRead=True).get("Item")
    return (Kjøring.model_validate_json(item["data"]), item["data"]) if item else None


def list_runs(konsument_id: str, limit: int = 100) -> list[Kjøring]:
    """Newest first."""
    items = _query(f"KONSUMENT#{konsument_id}", "KJ#", limit=limit, forward=False)
    return [Kjøring.model_validate_json(i["data"]) for i in items]


def _put(items: list[dict[str, Any]]) -> None:
    """Puts in BatchWriteItem, a few batches at a time (every key at most once per call)."""
    unique = {(i["pk"], i["sk"]): i for i in items}
    batch.write_many(_table().name, [{"PutRequest": {"Item": i}} for i in unique.values()])


LOG_ITEM_BYTES = 200_000  # of JSON per log item (DynamoDB ends an item at 400 KB)


def log(run_id: str, first: int, entries: list[tuple[int, str, str | None]]) -> None:
    """Entries numbered from ``first``, in items of up to LOG_ITEM_BYTES. A repeated chunk writes
    the same numbers again; items a longer earlier attempt left after them are deleted."""
    pk = f"KJ#{run_id}"
    items: list[dict[str, Any]] = []
    part: list[list[Any]] = []
    size, start = 0, first
    for number, (nvdb_id, handling, melding) in enumerate(entries, first):
        entry = [nvdb_id, handling, *([melding] if melding else [])]
        part.append(entry)
        size += len(json.dumps(entry, ensure_ascii=False))
        if size >= LOG_ITEM_BYTES or number == first + len(entries) - 1:
            items.append({"pk": pk, "sk": f"LOGG#{_n(start)}", "logg": json.dumps(part, ensure_ascii=False)})
            part, size, start = [], 0, number + 1
    _put(items)
    written = {i["sk"] for i in items}
    stale = [i for i in _query(pk, "LOGG#", f"LOGG#{_n(first)}") if i["sk"] not in written]
    if stale:
        batch.write_many(_table().name, [{"DeleteRequest": {"Key": {"pk": pk, "sk": i["sk"]}}} for i in stale])


def log_page(run_id: str, after: int | None, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Up to ``limit`` entries numbered after ``after``, and the number of the last one."""
    pk, begin = f"KJ#{run_id}", 0 if after is None else after + 1
    # the item holding entry ``begin`` starts at or before it: the last such item, then on
    holding = [i for i in _query(pk, "", None, 1, forward=False, upto=f"LOGG#{_n(begin)}")
               if i["sk"].startswith("LOGG#")]
    after_key = f"LOGG#{_n(int(holding[0]['sk'][5:]) - 1)}" if holding else None
    entries: list[dict[str, Any]] = []
    last = begin - 1
    while len(entries) < limit:
        items = _query(pk, "LOGG#", after_key, 5)
        for item in items:
            for number, entry in enumerate(json.loads(item["logg"]), int(item["sk"][5:])):
                if number >= begin and len(entries) < limit:
                    entries.append({"id": int(entry[0]), "handling": entry[1], **({"melding": entry[2]}
                                                                                   if len(entry) > 2 else {})})
                    last = number
        if len(items) < 5:
            break
        after_key = items[-1]["sk"]
    return entries, last


def park_deletes(run_id: str, ids: list[int]) -> None:
    _put([{"pk": f"KJ#{run_id}", "sk": f"SLETT#{_n(nvdb_id)}", "id": nvdb_id} for nvdb_id in ids])


def parked_deletes(run_id: str, after: int, limit: int) -> list[int]:
    return [int(i["id"]) for i in _query(f"KJ#{run_id}", "SLETT#", f"SLETT#{_n(after)}" if after else None, limit)]


class Runs:
    """The run engine's RunStore port."""

    save_run = staticmethod(save_run)
    log = staticmethod(log)
    park_deletes = staticmethod(park_deletes)
    parked_deletes = staticmethod(parked_deletes)
    finish_run = staticmethod(finish_run)


# ---------------------------------------------------------------- the built-in DYNAMODB target

class DynamoTarget:
    """The reference implementation of the consumer contract, kept in this table."""

    def __init__(self, konsument_id: str):
        self.pk = f"KOPI#{konsument_id}"

    def held(self, start: int | None, antall: int) -> tuple[list[tuple[int, str]], int | None]:
        # ids and hashes only: the copy's data is not what a compare needs
        items = _query(self.pk, "", _n(start) if start else None, antall + 1, projection="sk, #h")
        held = [(int(i["sk"]), str(i["hash"])) for i in items[:antall]]
        return held, (held[-1][0] if len(items) > antall else None)

    def holds(self, ids: list[int]) -> set[int]:
        """Which of ``ids`` the copy has: their keys read in batches of 100, not the id list."""
        found = batch.get_many(_table().name, [{"pk": self.pk, "sk": _n(i)} for i in ids], attributes=["sk"])
        return {int(item["sk"]) for item in found}

    def apply(self, changes: list[dict[str, Any]]) -> dict[int, str | None]:
        requests: dict[str, dict[str, Any]] = {}  # the last change of an id wins
        for change in changes:
            key = {"pk": self.pk, "sk": _n(change["id"])}
            requests[key["sk"]] = {"DeleteRequest": {"Key": key}} if change["handling"] == "DELETE" else {
                "PutRequest": {"Item": {**key, "hash": change["hash"],
                                        "data": json.dumps(change["data"], ensure_ascii=False)}}}
        batch.write_many(_table().name, list(requests.values()))
        return {}

    def get(self, nvdb_id: int) -> dict[str, Any] | None:
        item = _table().get_item(Key={"pk": self.pk, "sk": _n(nvdb_id)}, ConsistentRead=True).get("Item")
        return json.loads(item["data"]) if item else None


# ---------------------------------------------------------------- the provider port

class ReadApiProvider:
    """Pages of current objects by type (FULL) and of the change feed (DELTA) over the read
    functions, with a content hash each (the same hash the read API shows)."""

    def watermark(self) -> str:
        return changes.watermark()

    def changed(self, type_id: int, kommuner: list[int] | None, endret_etter: str, markør: str | None,
                antall: int) -> Page:
        feed, last, more = changes.feed(type_id, after_key=markør or changes.parse_time(endret_etter), limit=antall,
                                        kommuner=set(kommuner) if kommuner else None)
        return Page(objects=[Provided(c.id, content_hash(c.version), c.version) for c in feed if c.version],
                    tombstones=[c.id for c in feed if c.version is None], markør=last if more else None)

    def page(self, type_id: int, kommuner: list[int] | None, endret_etter: str | None,
             start: int | None, antall: int) -> Page:
        found, cursor = objects.list_by_type(type_id, after_nvdb_id=start, limit=antall)
        if kommuner:
            found = _in_kommuner(found, set(kommuner))
        return Page(objects=[Provided(int(o["id"]), content_hash(o), o) for o in found], neste=cursor)


def _sequences(data: dict[str, Any]) -> set[int]:
    stedfesting = data.get("stedfesting") or {}
    return {int(e["veglenkesekvensNvdbId"]) for kind in ("punkt", "linje") for e in stedfesting.get(kind) or []}


def _in_kommuner(found: list[dict[str, Any]], kommuner: set[int]) -> list[dict[str, Any]]:
    network = reference.veglenkesekvenser({s for o in found for s in _sequences(o)})
    return [o for o in found if any(s in network and network[s].kommune in kommuner for s in _sequences(o))]
