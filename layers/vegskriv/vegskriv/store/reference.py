"""Reference data in the ReferenceTable: the data catalog in force and the road network.

Lambdas cache both per process for a short while; loading a new catalog or network is an
admin operation (``PUT /rest/v3/datakatalog``, ``PUT /rest/v3/vegnett/veglenkesekvenser``,
or ``vegskriv load``). The packaged files seed a fresh stack.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from importlib import resources
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key

from vegskriv import aws
from vegskriv.network import Veglenkesekvens, Vegnett
from vegskriv.settings import get_settings
from vegskriv.store.blobs import get_blob, put_blob

if TYPE_CHECKING:  # the catalog package loads when a catalog is first read (~15 ms the api's init need not pay)
    from vegskriv.catalog import Datakatalog

CACHE_SECONDS = 30.0
_catalog_cache: tuple[float, Datakatalog] | None = None
_network_cache: dict[int, tuple[float, Veglenkesekvens | None]] = {}


def _table() -> Any:
    return aws.table(get_settings().reference_table)


def save_catalog(catalog: Datakatalog | dict[str, Any]) -> Datakatalog:
    """Store a catalog (project format or NVDB API Les shape) and put it in force."""
    from vegskriv.catalog import Datakatalog, load_catalog

    global _catalog_cache
    parsed = catalog if isinstance(catalog, Datakatalog) else load_catalog(catalog)
    put_blob(_table(), "DATAKATALOG", "GJELDENDE", parsed.model_dump(mode="json", by_alias=True))
    _catalog_cache = (time.monotonic(), parsed)
    return parsed


def current_catalog() -> Datakatalog:
    global _catalog_cache
    if _catalog_cache and time.monotonic() - _catalog_cache[0] < CACHE_SECONDS:
        return _catalog_cache[1]
    from vegskriv.catalog import default_catalog, load_catalog

    raw = get_blob(_table(), "DATAKATALOG", "GJELDENDE")
    catalog = load_catalog(raw) if raw is not None else default_catalog()
    _catalog_cache = (time.monotonic(), catalog)
    return catalog


def _vls_sk(vls_id: int) -> str:
    return f"VLS#{vls_id:012d}"


def save_network(sequences: Iterable[Veglenkesekvens]) -> int:
    count = 0
    with _table().batch_writer() as batch:
        for seq in sequences:
            batch.put_item(Item={"pk": "VEGNETT", "sk": _vls_sk(seq.veglenkesekvensId),
                                 "kommune": seq.kommune, "data": seq.model_dump_json()})
            _network_cache.pop(seq.veglenkesekvensId, None)
            count += 1
    return count


def veglenkesekvenser(ids: Iterable[int]) -> dict[int, Veglenkesekvens]:
    """Look up sequences by id (missing ids are absent from the answer)."""
    now = time.monotonic()
    found: dict[int, Veglenkesekvens] = {}
    wanted = []
    for vls_id in set(ids):
        cached = _network_cache.get(vls_id)
        if cached and now - cached[0] < CACHE_SECONDS:
            if cached[1] is not None:
                found[vls_id] = cached[1]
        else:
            wanted.append(vls_id)
    client_table = _table()
    for start in range(0, len(wanted), 100):
        chunk = wanted[start:start + 100]
        request: dict[str, Any] = {client_table.name: {"Keys": [{"pk": "VEGNETT", "sk": _vls_sk(i)} for i in chunk]}}
        while request:
            response = client_table.meta.client.batch_get_item(RequestItems=request)
            for item in response["Responses"].get(client_table.name, []):
                seq = Veglenkesekvens.model_validate_json(item["data"])
                found[seq.veglenkesekvensId] = seq
            request = response.get("UnprocessedKeys") or {}
        for vls_id in chunk:
            _network_cache[vls_id] = (now, found.get(vls_id))
    return found


def list_network(*, kommune: int | None, after_id: int | None, limit: int) -> tuple[list[Veglenkesekvens], int | None]:
    key: ConditionBase = Key("pk").eq("VEGNETT")
    if after_id is not None:
        key &= Key("sk").gt(_vls_sk(after_id))
    kwargs: dict[str, Any] = {"KeyConditionExpression": key}
    if kommune is not None:
        kwargs["FilterExpression"] = Attr("kommune").eq(kommune)
    result: list[Veglenkesekvens] = []
    while True:
        page = _table().query(**kwargs)
        for item in page["Items"]:
            result.append(Veglenkesekvens.model_validate_json(item["data"]))
            if len(result) == limit:
                return result, result[-1].veglenkesekvensId
        if "LastEvaluatedKey" not in page:
            return result, None
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def packaged_network() -> Vegnett:
    text = resources.files("vegskriv.data").joinpath("vegnett.json").read_text(encoding="utf-8")
    return Vegnett.model_validate(json.loads(text))


def seed_defaults() -> None:
    """Load the packaged catalog and sample network into a fresh stack."""
    from vegskriv.catalog import default_catalog

    save_catalog(default_catalog())
    save_network(packaged_network().veglenkesekvenser)
