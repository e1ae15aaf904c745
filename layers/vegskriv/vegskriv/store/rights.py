"""Data rights in the ReferenceTable: one item per user (pk ``RETTIGHET``, sk ``BRUKER#<brukernavn>``).

Rights are reference data like the catalog and the network: few items, changed by an
administrator, read once per changeset by the workflow. One partition keeps listing a single
ordered query (by username), which is plenty for the number of users an API like this has.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from vegskriv import aws
from vegskriv.changesets.rights import Datarettighet
from vegskriv.settings import get_settings

PK = "RETTIGHET"


def _table() -> Any:
    return aws.table(get_settings().reference_table)


def _sk(brukernavn: str) -> str:
    return f"BRUKER#{brukernavn}"


def get(brukernavn: str) -> Datarettighet | None:
    item = _table().get_item(Key={"pk": PK, "sk": _sk(brukernavn)}, ConsistentRead=True).get("Item")
    return Datarettighet.model_validate_json(item["data"]) if item else None


def put(rights: Datarettighet, *, endret_av: str | None = None) -> Datarettighet:
    """Store (replace) a user's rights, stamped with when and by whom; returns what was stored."""
    stored = rights.model_copy(update={"oppdatert": datetime.now(UTC), "oppdatertAv": endret_av})
    _table().put_item(Item={"pk": PK, "sk": _sk(stored.brukernavn), "brukernavn": stored.brukernavn,
                            "data": stored.model_dump_json(exclude_none=True)})
    return stored


def delete(brukernavn: str) -> bool:
    """Remove a user's rights (the default rights then apply); False if there were none."""
    old = _table().delete_item(Key={"pk": PK, "sk": _sk(brukernavn)}, ReturnValues="ALL_OLD")
    return "Attributes" in old


def list_rights(*, after: str | None = None, limit: int = 100) -> tuple[list[Datarettighet], str | None]:
    """Rights ordered by username, at most ``limit``; the cursor is the last username (None = done)."""
    sk = Key("sk").gt(_sk(after)) if after is not None else Key("sk").begins_with("BRUKER#")
    key = Key("pk").eq(PK) & sk
    kwargs: dict[str, Any] = {"KeyConditionExpression": key}
    result: list[Datarettighet] = []
    # One item more than asked tells whether there is a next page without an empty last page.
    while len(result) <= limit:
        page = _table().query(**kwargs, Limit=limit + 1 - len(result))
        result += [Datarettighet.model_validate_json(item["data"]) for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    if len(result) > limit:
        return result[:limit], result[limit - 1].brukernavn
    return result, None
