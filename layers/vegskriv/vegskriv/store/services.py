"""Owners, services, editions and published versions in the ServicesTable.

Keys: owners in one partition (``EIERE`` / ``EIER#<kode>``), everything of an owner in its own
(``EIER#<kode>`` / ``TJENESTE#<tk>``, ``UTGAVE#<tk>#<uk>``, ``UTGAVEID#<id>`` → its codes, and
``VERSJON#<id>#<n>``: versions stay put when a derived edition changes its codes), and two
indexes kept by hand: ``MASTERE`` lists the masters, ``AVLEDET#<tk>#<uk>#<eier>`` in the master
owner's partition lists the editions derived from a master. Each change is one transaction
whose conditions carry the rules that could otherwise race: one derived edition per master
per owner (the link item), no unmarking while one exists (``avledede`` = 0), a new derived
edition only of a master (``master`` = true), and optimistic concurrency on ``rev``.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from vegskriv import aws
from vegskriv.services.models import Masterreferanse, Publisering, Tjeneste, Tjenesteeier, Utgave
from vegskriv.settings import get_settings

OWNERS = "EIERE"
MASTERS = "MASTERE"
_ser = TypeSerializer()
TOO_MANY = "TooManyItems"
# No derived edition (rule 7) and no master form set (rule 6) depends on the edition.
_UNUSED = ("(attribute_not_exists(avledede) OR avledede = :zero) AND "
           "(attribute_not_exists(iMasterskjemasett) OR iMasterskjemasett = :zero)")


class Refused(Exception):
    """A condition of the write failed; ``reasons`` has one code (or None) per item of the transaction."""

    def __init__(self, reasons: list[str | None]):
        super().__init__(reasons)
        self.reasons = reasons


def _table() -> Any:
    return aws.table(get_settings().services_table)


def _pk(owner: str) -> str:
    return f"EIER#{owner}"


def _edition_sk(tk: str, uk: str) -> str:
    return f"UTGAVE#{tk}#{uk}"


def _version_sk(key: str, n: int) -> str:
    return f"VERSJON#{key}#{n:06d}"


def _id_put(edition: Utgave) -> dict[str, Any]:
    codes = {"tjenestekode": edition.tjenestekode, "utgavekode": edition.utgavekode}
    return {"Put": {"TableName": get_settings().services_table,
                    "Item": _item(_pk(edition.eier), f"UTGAVEID#{edition.key}", json.dumps(codes))}}


def _link_sk(master: Masterreferanse, derived_owner: str) -> str:
    return f"AVLEDET#{master.tjenestekode}#{master.utgavekode}#{derived_owner}"


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _item(pk: str, sk: str, data: str, **extra: Any) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in {"pk": pk, "sk": sk, "data": data, **extra}.items()}


def _query(pk: str, prefix: str) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(pk) & Key("sk").begins_with(prefix),
                              "ConsistentRead": True}
    items: list[dict[str, Any]] = []
    while True:
        page = _table().query(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _transact(items: list[dict[str, Any]]) -> None:
    try:
        aws.client("dynamodb").transact_write_items(TransactItems=items)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = exc.response.get("CancellationReasons") or []
        raise Refused([r.get("Code") if r.get("Code") != "None" else None for r in reasons]) from exc


def _put_new(pk: str, sk: str, data: str, **extra: Any) -> dict[str, Any]:
    return {"Put": {"TableName": get_settings().services_table, "Item": _item(pk, sk, data, **extra),
                    "ConditionExpression": "attribute_not_exists(pk)"}}


# --- owners -------------------------------------------------------------------------------------


def create_owner(owner: Tjenesteeier) -> None:
    _transact([_put_new(OWNERS, f"EIER#{owner.kode}", owner.model_dump_json())])


def put_owner(owner: Tjenesteeier, previous: Tjenesteeier) -> None:
    """Replace the owner only as ``previous`` (what the change was made from) is still stored."""
    _transact([{"Put": {"TableName": get_settings().services_table,
                        "Item": _item(OWNERS, f"EIER#{owner.kode}", owner.model_dump_json()),
                        "ConditionExpression": "#d = :old", "ExpressionAttributeNames": {"#d": "data"},
                        "ExpressionAttributeValues": {":old": {"S": previous.model_dump_json()}}}}])


def get_owner(kode: str) -> Tjenesteeier | None:
    item = _table().get_item(Key={"pk": OWNERS, "sk": f"EIER#{kode}"}, ConsistentRead=True).get("Item")
    return Tjenesteeier.model_validate_json(item["data"]) if item else None


def list_owners() -> list[Tjenesteeier]:
    return [Tjenesteeier.model_validate_json(i["data"]) for i in _query(OWNERS, "EIER#")]


# --- services -----------------------------------------------------------------------------------


def _service_put(owner: str, service: Tjeneste) -> dict[str, Any]:
    return _put_new(_pk(owner), f"TJENESTE#{service.tjenestekode}", service.model_dump_json(exclude_none=True))


def create_service(owner: str, service: Tjeneste) -> None:
    _transact([_service_put(owner, service)])


def get_service(owner: str, tk: str) -> Tjeneste | None:
    item = _table().get_item(Key={"pk": _pk(owner), "sk": f"TJENESTE#{tk}"}, ConsistentRead=True).get("Item")
    return Tjeneste.model_validate_json(item["data"]) if item else None


def list_services(owner: str) -> list[Tjeneste]:
    return [Tjeneste.model_validate_json(i["data"]) for i in _query(_pk(owner), "TJENESTE#")]


# --- editions -----------------------------------------------------------------------------------


def _edition(item: dict[str, Any]) -> tuple[Utgave, int]:
    return Utgave.model_validate_json(item["data"]), int(item["rev"])


def get_edition(owner: str, tk: str, uk: str) -> tuple[Utgave, int] | None:
    item = _table().get_item(Key={"pk": _pk(owner), "sk": _edition_sk(tk, uk)}, ConsistentRead=True).get("Item")
    return _edition(item) if item else None


def list_editions(owner: str, tk: str | None = None) -> list[Utgave]:
    prefix = f"UTGAVE#{tk}#" if tk is not None else "UTGAVE#"
    return [_edition(i)[0] for i in _query(_pk(owner), prefix)]


def _stamp(edition: Utgave, who: str) -> Utgave:
    return edition.model_copy(update={"endret": datetime.now(UTC), "endretAv": who})


def _edition_put(edition: Utgave, rev: int | None) -> dict[str, Any]:
    """Put of a new edition (rev None), or an update conditional on the stored rev that keeps the
    counters other transactions add to (``avledede``, ``iMasterskjemasett``)."""
    table = get_settings().services_table
    pk, sk = _pk(edition.eier), _edition_sk(edition.tjenestekode, edition.utgavekode)
    data = edition.model_dump_json(exclude_none=True)
    if rev is None:
        return _put_new(pk, sk, data, rev=1, master=edition.master)
    return {"Update": {"TableName": table, "Key": _key(pk, sk),
                       "UpdateExpression": "SET #d = :d, rev = :next, master = :m",
                       "ConditionExpression": "rev = :rev", "ExpressionAttributeNames": {"#d": "data"},
                       "ExpressionAttributeValues": {":d": {"S": data}, ":next": {"N": str(rev + 1)},
                                                     ":rev": {"N": str(rev)}, ":m": {"BOOL": edition.master}}}}


def _counter(ref: Masterreferanse, attribute: str, step: int, *, only_master: bool = False) -> dict[str, Any]:
    # attribute_exists: an ADD on a missing key would create a stray item.
    values: dict[str, Any] = {":step": {"N": str(step)}}
    condition = "attribute_exists(pk)"
    if only_master:
        condition += " AND master = :true"
        values[":true"] = {"BOOL": True}
    return {"Update": {"TableName": get_settings().services_table,
                       "Key": _key(_pk(ref.eier), _edition_sk(ref.tjenestekode, ref.utgavekode)),
                       "UpdateExpression": f"ADD {attribute} :step", "ConditionExpression": condition,
                       "ExpressionAttributeValues": values}}


ATTACHMENT_TYPES = "VEDLEGGSTYPER"


def attachment_types_rev(owner: str) -> int:
    """How many times the owner's own attachment types were changed: read before checking a new one (rule 8)."""
    item = _table().get_item(Key={"pk": _pk(owner), "sk": ATTACHMENT_TYPES}, ConsistentRead=True).get("Item")
    return int(item["rev"]) if item else 0


def _attachment_types_bump(owner: str, seen: int) -> dict[str, Any]:
    """Only if no other write changed the owner's attachment types since ``seen`` (the uniqueness check holds)."""
    return {"Update": {"TableName": get_settings().services_table, "Key": _key(_pk(owner), ATTACHMENT_TYPES),
                       "UpdateExpression": "SET rev = :next",
                       "ConditionExpression": "attribute_not_exists(rev) OR rev = :seen",
                       "ExpressionAttributeValues": {":next": {"N": str(seen + 1)}, ":seen": {"N": str(seen)}}}}


def create_edition(edition: Utgave, who: str, *, new_service: Tjeneste | None = None,
                   attachment_rev: int | None = None) -> None:
    items = [_edition_put(_stamp(edition, who), None), _id_put(edition)]
    if new_service is not None:
        items.append(_service_put(edition.eier, new_service))
    if attachment_rev is not None:
        items.append(_attachment_types_bump(edition.eier, attachment_rev))
    _transact(items)


def create_derived(editions: list[tuple[Utgave, Tjeneste | None]], who: str) -> None:
    """New derived editions (a main edition and the sub-editions of its form set) in one transaction.

    Per edition: the edition, its new service if any, the link under its master (exists → rule 5)
    and the master's ``avledede`` counter (only while it is master → rule 7 cannot race)."""
    items: list[dict[str, Any]] = []
    for edition, service in editions:
        assert edition.basertPåMaster is not None
        items += [_edition_put(_stamp(edition, who), None), _id_put(edition)]
        if service is not None:
            items.append(_service_put(edition.eier, service))
            # One service per master service in a using owner (rule 5), also for two requests at once.
            if (source := service.basertPåMastertjeneste) is not None:
                items.append(_put_new(_pk(edition.eier), f"FRAMASTERTJENESTE#{source.eier}#{source.tjenestekode}",
                                      service.tjenestekode))
        master = edition.basertPåMaster
        items.append(_put_new(_pk(master.eier), _link_sk(master, edition.eier), edition.ref.model_dump_json()))
        items.append(_counter(master, "avledede", 1, only_master=True))
    _transact(items)


def save_edition(edition: Utgave, rev: int, who: str, *, summary: dict[str, Any] | None = None,
                 added_subs: Sequence[Masterreferanse] = (), removed_subs: Sequence[Masterreferanse] = (),
                 attachment_rev: int | None = None) -> None:
    """Replace an edition; a master also refreshes its listing and counts its form set's sub-editions."""
    items = [_edition_put(_stamp(edition, who), rev)]
    if attachment_rev is not None:
        items.append(_attachment_types_bump(edition.eier, attachment_rev))
    if edition.master and summary is not None:
        items.append(_registry_put(edition, summary))
        items += [_counter(s, "iMasterskjemasett", 1, only_master=True) for s in added_subs]
        items += [_counter(s, "iMasterskjemasett", -1) for s in removed_subs]
    _transact(items)


def _registry_put(edition: Utgave, summary: dict[str, Any]) -> dict[str, Any]:
    return {"Put": {"TableName": get_settings().services_table, "Item": _item(
        MASTERS, f"MASTER#{edition.eier}#{edition.tjenestekode}#{edition.utgavekode}",
        json.dumps(summary, ensure_ascii=False, default=str))}}


def set_master(edition: Utgave, rev: int, subs: list[Masterreferanse], who: str, summary: dict[str, Any]) -> None:
    """Mark (``edition.master`` true) or unmark; sub-editions must stay masters while a master uses them."""
    table = get_settings().services_table
    put = _edition_put(_stamp(edition, who), rev)
    registry_key = _key(MASTERS, f"MASTER#{edition.eier}#{edition.tjenestekode}#{edition.utgavekode}")
    items = [put]
    if edition.master:
        items.append(_registry_put(edition, summary))
        items += [_counter(s, "iMasterskjemasett", 1, only_master=True) for s in subs]
    else:
        put["Update"]["ConditionExpression"] += f" AND {_UNUSED}"
        put["Update"]["ExpressionAttributeValues"][":zero"] = {"N": "0"}
        items.append({"Delete": {"TableName": table, "Key": registry_key}})
        items += [_counter(s, "iMasterskjemasett", -1) for s in subs]
    _transact(items)


def move_editions(moves: Sequence[tuple[Utgave, int, Utgave]], who: str, *,
                  service: tuple[str, Tjeneste] | None = None, updated: Sequence[tuple[Utgave, int]] = ()) -> None:
    """New codes for derived editions, in one transaction: each (old, rev, new) leaves its old key (only at
    ``rev``) for the new one (only if free: the uniqueness guard), with its id item and its link under its
    master; ``service`` (old code, renamed service) moves the service item the same way; ``updated``
    editions (form sets naming a moved edition) are saved at their rev."""
    table = get_settings().services_table
    items: list[dict[str, Any]] = []
    for old, rev, new in moves:
        old_key = _key(_pk(old.eier), _edition_sk(old.tjenestekode, old.utgavekode))
        raw = _table().get_item(Key={"pk": _pk(old.eier), "sk": old_key["sk"]["S"]}, ConsistentRead=True)["Item"]
        # Counters other transactions add to go along (the delete's rev condition guards the rest).
        extra = {k: v for k, v in raw.items() if k not in ("pk", "sk", "data", "rev")}
        items.append({"Delete": {"TableName": table, "Key": old_key, "ConditionExpression": "rev = :rev",
                                 "ExpressionAttributeValues": {":rev": {"N": str(rev)}}}})
        items.append(_put_new(_pk(new.eier), _edition_sk(new.tjenestekode, new.utgavekode),
                              _stamp(new, who).model_dump_json(exclude_none=True), **{**extra, "rev": rev + 1}))
        items.append(_id_put(new))
        if (master := new.basertPåMaster) is not None:
            items.append({"Update": {"TableName": table, "Key": _key(_pk(master.eier), _link_sk(master, new.eier)),
                                     "UpdateExpression": "SET #d = :d", "ConditionExpression": "attribute_exists(pk)",
                                     "ExpressionAttributeNames": {"#d": "data"},
                                     "ExpressionAttributeValues": {":d": {"S": new.ref.model_dump_json()}}}})
    if service is not None:
        old_tk, renamed = service
        owner = moves[0][0].eier
        items.append({"Delete": {"TableName": table, "Key": _key(_pk(owner), f"TJENESTE#{old_tk}"),
                                 "ConditionExpression": "attribute_exists(pk)"}})
        items.append(_service_put(owner, renamed))
    items += [_edition_put(_stamp(e, who), rev) for e, rev in updated]
    if len(items) > 100:  # DynamoDB's limit for one transaction
        raise Refused([TOO_MANY])
    _transact(items)


def edition_counters(owner: str, tk: str, uk: str) -> dict[str, int]:
    item = _table().get_item(Key={"pk": _pk(owner), "sk": _edition_sk(tk, uk)}, ConsistentRead=True,
                             ProjectionExpression="avledede, iMasterskjemasett").get("Item") or {}
    return {k: int(v) for k, v in item.items()}


def delete_edition(edition: Utgave, rev: int) -> None:
    """Delete permanently: the edition, its published versions, its link under its master."""
    table = get_settings().services_table
    delete: dict[str, Any] = {"TableName": table, "Key": _key(_pk(edition.eier),
                                                              _edition_sk(edition.tjenestekode, edition.utgavekode)),
                              "ConditionExpression": f"rev = :rev AND {_UNUSED}",
                              "ExpressionAttributeValues": {":rev": {"N": str(rev)}, ":zero": {"N": "0"}}}
    items: list[dict[str, Any]] = [{"Delete": delete}, {"Delete": {"TableName": table, "Key": _key(
        _pk(edition.eier), f"UTGAVEID#{edition.key}")}}]
    if edition.master:
        items.append({"Delete": {"TableName": table, "Key": _key(
            MASTERS, f"MASTER#{edition.eier}#{edition.tjenestekode}#{edition.utgavekode}")}})
        subs = {(s.tjenestekode, s.utgavekode) for s in edition.definisjon.underskjema}
        items += [_counter(Masterreferanse(eier=edition.eier, tjenestekode=tk, utgavekode=uk), "iMasterskjemasett", -1)
                  for tk, uk in sorted(subs)]
    if (master := edition.basertPåMaster) is not None:
        items.append({"Delete": {"TableName": table, "Key": _key(_pk(master.eier), _link_sk(master, edition.eier))}})
        items.append(_counter(master, "avledede", -1))
    _transact(items)
    with _table().batch_writer() as batch:
        for item in _query(_pk(edition.eier), f"VERSJON#{edition.key}#"):
            batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})


def derived_from(master: Masterreferanse) -> list[Masterreferanse]:
    prefix = f"AVLEDET#{master.tjenestekode}#{master.utgavekode}#"
    return [Masterreferanse.model_validate_json(i["data"]) for i in _query(_pk(master.eier), prefix)]


def list_masters() -> list[dict[str, Any]]:
    return [json.loads(i["data"]) for i in _query(MASTERS, "MASTER#")]


# --- published versions -------------------------------------------------------------------------


def publish(edition: Utgave, rev: int, version: Publisering, who: str) -> None:
    """Snapshot as version n+1 (immutable: put only if absent) and count it on the edition."""
    sk = _version_sk(edition.key, version.versjon)
    _transact([_put_new(_pk(edition.eier), sk, version.model_dump_json(exclude_none=True)),
               _edition_put(_stamp(edition.model_copy(update={"publisert": version.versjon}), who), rev)])


def versions(owner: str, key: str) -> list[Publisering]:
    """The published versions of the edition stored under ``key`` (``Utgave.key``)."""
    return [Publisering.model_validate_json(i["data"]) for i in _query(_pk(owner), f"VERSJON#{key}#")]


def version(owner: str, key: str, n: int) -> Publisering | None:
    item = _table().get_item(Key={"pk": _pk(owner), "sk": _version_sk(key, n)}, ConsistentRead=True).get("Item")
    return Publisering.model_validate_json(item["data"]) if item else None


def codes_of(owner: str, key: str) -> tuple[str, str] | None:
    """The current codes of the edition stored under ``key`` (None if deleted, or stored before ids existed)."""
    item = _table().get_item(Key={"pk": _pk(owner), "sk": f"UTGAVEID#{key}"}, ConsistentRead=True).get("Item")
    if item is None:
        return None
    codes = json.loads(item["data"])
    return codes["tjenestekode"], codes["utgavekode"]


# --- delivery: elements and the download queue; push signing keys (in Secrets Manager) ----------
# ``ELEMENT#<id>`` holds one delivery (its id is the changeset id, so a changeset is delivered
# once); a download-queue element is also listed under ``KØ#<time>#<id>``, oldest first.


def put_element(owner: str, element: dict[str, Any], *, queued: bool) -> bool:
    """Record a delivery; False if it was recorded already (the changeset's end was seen before)."""
    element_id = element["elementId"]
    items = [_put_new(_pk(owner), f"ELEMENT#{element_id}", json.dumps(element, ensure_ascii=False),
                      levering="I_KØ" if queued else "VENTER", forsok=0)]
    if queued:
        items.append(_put_new(_pk(owner), f"KØ#{element['opprettet']}#{element_id}",
                              json.dumps(element, ensure_ascii=False), tjenestekode=element["tjenestekode"]))
    try:
        _transact(items)
    except Refused:
        return False
    return True


def _element_view(item: dict[str, Any]) -> dict[str, Any]:
    element = json.loads(item["data"])
    element["levering"] = {"status": item["levering"], "forsøk": int(item.get("forsok") or 0),
                           **({"sisteFeil": item["sisteFeil"]} if item.get("sisteFeil") else {})}
    return element


def get_element(owner: str, element_id: str) -> dict[str, Any] | None:
    item = _table().get_item(Key={"pk": _pk(owner), "sk": f"ELEMENT#{element_id}"}, ConsistentRead=True).get("Item")
    return _element_view(item) if item and item.get("levering") != "SLETTET" else None


def list_queue(owner: str, limit: int, tjenestekode: str | None = None) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(_pk(owner)) & Key("sk").begins_with("KØ#"),
                              "ConsistentRead": True}
    if tjenestekode is not None:
        kwargs["FilterExpression"] = Attr("tjenestekode").eq(tjenestekode)
    found: list[dict[str, Any]] = []
    while len(found) < limit:
        page = _table().query(**kwargs)
        found += [json.loads(i["data"]) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found[:limit]


def purge_element(owner: str, element: dict[str, Any]) -> None:
    """Drop it from the queue; the element stays as a tombstone so a late re-run cannot deliver it again."""
    table = get_settings().services_table
    _transact([
        {"Delete": {"TableName": table, "Key": _key(_pk(owner), f"KØ#{element['opprettet']}#{element['elementId']}")}},
        {"Update": {"TableName": table, "Key": _key(_pk(owner), f"ELEMENT#{element['elementId']}"),
                    "UpdateExpression": "SET levering = :gone", "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": {":gone": {"S": "SLETTET"}}}}])


def mark_delivery(owner: str, element_id: str, status: str, attempts: int, error: str | None = None) -> None:
    """A push attempt's outcome: VENTER (will retry), LEVERT, or DØD (the dead-letter record, with the last error)."""
    values: dict[str, Any] = {":s": status, ":n": attempts}
    expression = "SET levering = :s, forsok = :n"
    if error is not None:
        expression += ", sisteFeil = :e"
        values[":e"] = error[:2000]
    _table().update_item(Key={"pk": _pk(owner), "sk": f"ELEMENT#{element_id}"}, UpdateExpression=expression,
                         ExpressionAttributeValues=values)


def _new_key() -> str:
    return secrets.token_urlsafe(32)


def signing_key(owner: str, *, rotate: bool = False) -> str:
    """The owner's HMAC key for push signatures: its own Secrets Manager secret, made on first use.

    Rotating puts a new version (AWSCURRENT, which signs from then on); the one before stays as
    AWSPREVIOUS, so a consumer can accept both while it switches."""
    sm = aws.client("secretsmanager")
    name = get_settings().signing_secret_prefix + owner
    try:
        if rotate:
            sm.put_secret_value(SecretId=name, SecretString=_new_key())
        return str(sm.get_secret_value(SecretId=name)["SecretString"])
    except sm.exceptions.ResourceNotFoundException:
        with contextlib.suppress(sm.exceptions.ResourceExistsException):  # a concurrent first use made it
            sm.create_secret(Name=name, SecretString=_new_key(),
                             Description=f"vegskriv: HMAC-SHA256-nøkkel for push-leveranser til {owner}")
        return str(sm.get_secret_value(SecretId=name)["SecretString"])
