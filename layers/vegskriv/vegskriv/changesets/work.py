"""The work a changeset's steps share: the existing data AcquireLocks reads under the locks, stored
once (the ``CTX`` blob, named by META's ``kontekst``), and the validation context built from it.
The validator (``POST /validator``) reads the same way without locking or storing anything."""

from __future__ import annotations

import uuid
from typing import Any

from vegskriv.changesets.locks import Cell
from vegskriv.changesets.models import Endringssett, Resultat
from vegskriv.changesets.referenced import gather_existing, referenced_sequences
from vegskriv.changesets.validation import (
    Context,
    Versions,
    overlap_cells,
    validate,
)
from vegskriv.settings import get_settings
from vegskriv.store import binaries, changesets, objects, reference

Work = tuple[Versions, dict[Cell, list[int]]]  # existing versions, and objects on no-overlap cells
NOTHING_EXISTING = "-"  # META's kontekst when nothing existing was found: no blob to store or read


def read_existing(doc: Endringssett) -> Work:
    """Everything validation and effectuation read of existing objects: trusted only under the locks."""
    catalog = reference.current_catalog()
    existing = gather_existing(doc, catalog, objects.versions_many)
    on_sequence = {cell: objects.on_sequence(*cell) for cell in overlap_cells(doc, catalog, existing)}
    candidates = sorted({n for ids in on_sequence.values() for n in ids} - existing.keys())
    existing.update(objects.versions_many(candidates))
    return existing, on_sequence


def context(doc: Endringssett, work: Work) -> Context:
    # Catalog and network are reference data, cached per process: not part of the stored work.
    return Context(catalog=reference.current_catalog(), current_catalog_version=get_settings().datakatalog_version,
                   network=reference.veglenkesekvenser(referenced_sequences(doc)), existing=work[0],
                   on_sequence=work[1], binaries=binaries.existing)


def store_work(changeset_id: str, work: Work) -> str:
    """Store the work once; META's kontekst says which stored work is current."""
    existing, on_sequence = work
    if not existing and not any(on_sequence.values()):
        return NOTHING_EXISTING
    token = uuid.uuid4().hex
    changesets.save_context(changeset_id, {
        "token": token, "existing": {str(n): v for n, v in existing.items()},
        "onSequence": [[t, vls, ids] for (t, vls), ids in on_sequence.items()]})
    return token


def work_context(changeset_id: str, meta: dict[str, Any], doc: Endringssett) -> Context:
    """The context of what AcquireLocks read under the locks this execution holds."""
    token = meta.get("kontekst")
    if token == NOTHING_EXISTING:
        return context(doc, ({}, {}))
    stored = changesets.context(changeset_id) if token else None
    if stored is not None and stored.get("token") == token:
        return context(doc, ({int(n): v for n, v in stored["existing"].items()},
                              {(t, vls): ids for t, vls, ids in stored["onSequence"]}))
    # None stored (an execution begun before contexts were stored): we hold the locks, so read now.
    work = read_existing(doc)
    changesets.update(changeset_id, kontekst=store_work(changeset_id, work))
    return context(doc, work)



def run_validation(doc: Endringssett, *, skip_location: bool = False, skip_associations: bool = False) -> Resultat:
    """Validation without a changeset (POST /validator): nothing is locked, nothing stored."""
    ctx = context(doc, read_existing(doc))
    ctx.skip_location, ctx.skip_associations = skip_location, skip_associations
    return validate(doc, ctx)
