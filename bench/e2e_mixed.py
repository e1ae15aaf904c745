"""Section ``e2e-mixed``: a changeset shaped like real traffic, through the local stack.

Half the objects register new 79/83 objects (``build_objects``); the other half name objects
imported beforehand with two to four versions each, spread over ten veglenkesekvenser: most are
``lukk`` with ``kaskadelukking`` (a third of them 79 mothers whose two 83 daughters close with
them), the rest ``delvisOppdater`` with ``lestFraNvdb`` (every third with ``overskriv``), in the
proportions of the real 1,218-object changeset (565 lukk, 32 delvisOppdater).
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from bench.e2e import print_billing, run_e2e
from bench.e2e10k import _maxrss_mb, _reset_peak_rss
from bench.objects import CATALOG_VERSION, NETWORK, build_objects
from bench.output import print_table, proc_status_mb
from bench.stack import Bench, Client
from tests.support.fixtures import excerpt, history

FIRST_EXISTING = 80_000_000
# Eight more sequences beside the two the excerpts lie on: ten, like the real changeset.
EXTRA_NETWORK = [{**NETWORK[0], "veglenkesekvensId": 4_000_001 + i} for i in range(8)]
SEQUENCES = [s["veglenkesekvensId"] for s in NETWORK + EXTRA_NETWORK]
COMPOSITION_79_83 = 220116  # Stikkrenne/Kulvert -> Kum, as in excerpt 03


def build_mixed(n: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The changeset and the existing versions it refers to."""
    new = build_objects(n // 2)
    rest = n - len(new)
    n_delvis = max(1, rest * 32 // 597)
    delvis_shape = excerpt("delvisOppdater")["delvisOppdater"]["vegobjekter"][0]  # a type 83
    existing: list[dict[str, Any]] = []
    lukk: list[dict[str, Any]] = []
    delvis: list[dict[str, Any]] = []
    next_id = FIRST_EXISTING
    for i in range(rest):
        vls = SEQUENCES[i % len(SEQUENCES)]
        posisjon = round(0.01 + 0.98 * ((i * 7919) % 1000) / 1000, 6)
        versions = 2 + i % 3
        nvdb_id = next_id
        next_id += 1
        if i < rest - n_delvis and i % 3 == 0:  # a 79 mother with two daughters outside the changeset
            daughters = [next_id, next_id + 1]
            next_id += 2
            for d in daughters:
                existing += history(d, 83, 2, vls=vls, posisjon=posisjon)
            existing += history(nvdb_id, 79, versions, vls=vls, posisjon=posisjon,
                                assosiasjoner=[{"typeId": COMPOSITION_79_83, "nvdbId": daughters}])
            type_id = 79
        else:
            existing += history(nvdb_id, 83, versions, vls=vls, posisjon=posisjon)
            type_id = 83
        if i < rest - n_delvis:
            lukk.append({"lukkedato": "2024-09-27", "kaskadelukking": "JA", "typeId": type_id,
                         "nvdbId": nvdb_id, "versjon": versions})
        else:
            obj = copy.deepcopy(delvis_shape)
            obj.update(nvdbId=nvdb_id, versjon=versions)
            if i % 3 == 0:  # as the real ones with overskriv: in place, the period kept (a new start would
                obj["overskriv"] = "JA"  # leave a gap after the version before: USAMMENHENGENDE_HISTORIKK)
                obj.pop("gyldighetsperiode", None)
            delvis.append(obj)
    document = {"datakatalogversjon": CATALOG_VERSION, "registrer": {"vegobjekter": new},
                "lukk": {"vegobjekter": lukk}, "delvisOppdater": {"vegobjekter": delvis}}
    return document, existing


def section_e2e_mixed(bench: Bench) -> dict[str, Any]:
    n = bench.args.mixed_objects
    stack = bench.stack()
    admin = Client(stack.url, "benchadmin", ["9_system_admin"])
    r = admin.request("PUT", "/rest/v3/vegnett/veglenkesekvenser",
                      data=json.dumps({"veglenkesekvenser": EXTRA_NETWORK}))
    if r.status_code != 200:
        raise RuntimeError(f"loading the network answered {r.status_code}: {r.text[:500]}")
    document, existing = build_mixed(n)
    began = time.perf_counter()
    for start in range(0, len(existing), 500):
        r = admin.request("PUT", "/rest/v3/vegobjekter",
                          data=json.dumps({"vegobjekter": existing[start:start + 500]}))
        if r.status_code != 200:
            raise RuntimeError(f"importing existing objects answered {r.status_code}: {r.text[:500]}")
    imported_s = time.perf_counter() - began
    ops = {op: len(document[op]["vegobjekter"]) for op in ("registrer", "lukk", "delvisOppdater")}
    overskriv = sum(1 for o in document["delvisOppdater"]["vegobjekter"] if o.get("overskriv") == "JA")
    ru_before = _maxrss_mb()
    figures, rows = run_e2e(bench, stack, n, document=document, gzipped=True,
                            before_register=_reset_peak_rss)
    # The stack runs in this process: its peak is the bench process's (VmHWM reset at register).
    figures.update(vmhwm_during_run_mb=proc_status_mb("VmHWM"), ru_maxrss_before_mb=ru_before,
                   ru_maxrss_after_mb=_maxrss_mb())
    figures.update(operations=ops, existing_versions=len(existing),
                   existing_objects=len({v["id"] for v in existing}), import_s=round(imported_s, 3))
    rows[1:1] = [
        ("operations: registrer / lukk / delvisOppdater", f"{ops['registrer']} / {ops['lukk']} / "
                                                          f"{ops['delvisOppdater']}", f"({overskriv} overskriv)"),
        ("existing objects / versions imported before", f"{figures['existing_objects']} / {len(existing)}",
         f"on {len(SEQUENCES)} veglenkesekvenser; import {imported_s:.1f} s, not in the figures below"),
    ]
    rows.append(("peak RSS during the run (VmHWM reset at register; whole process)",
                 figures["vmhwm_during_run_mb"], f"MB (ru_maxrss {ru_before} → {figures['ru_maxrss_after_mb']} MB)"))
    print_table(f"End to end on the local stack: one mixed changeset, {n:,} objects", rows)
    print_billing(figures["billed"], n)
    return figures
