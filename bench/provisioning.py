"""Section ``provisioning`` (opt-in): the nightly provisioning at 10,000 and N objects (``--provisioning-n``,
100,000 by default) to the built-in DYNAMODB consumer.

Per size, on a fresh local stack: N Kum objects imported straight into the object store (batch
writes), a first FULL run, then three rounds of 1 % churn (a third updated, a third closed, a third
removed through a ``fjern`` changeset), each followed by one run: DELTA, FULL, and the naive
"overwrite everything" run (every provider object upserted, every id the provider no longer has
deleted). Each run is its own child process, the Lambda, talking to the stack's moto server, the
DynamoDB, over HTTP, so the child's peak resident set (VmHWM) is the run's own memory and not the
data's. Consumer writes are the upserts and deletes the run sent.

DELTA reads the provider's change index (``endretEtter`` the last watermark), FULL every id and hash.
Each run row also gives the load average when it ended: the machine is shared, compare ratios.

    python -m bench.provisioning --child CONSUMER MODE   (what the section runs per run)
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from bench.output import print_table, proc_status_mb
from bench.paths import ROOT
from bench.stack import Bench

TYPE = 83
FIRST_ID = 900_000_001
SEQUENCES = (1125766, 1125775, 1125783)
CONSUMER = "bench"
IMPORT_CHUNK = 2000
# A DELTA reads from its watermark, the previous run's start minus this overlap (120 s in production),
# and sends what it reads. With 120 s the import, a minute before the first run, would be sent again
# by the next DELTA; nightly runs do not have all their data written in the two minutes before them.
OVERLAP_SECONDS = 5


def _version(nvdb_id: int, versjon: int = 1, **period: str) -> dict[str, Any]:
    return {"id": nvdb_id, "versjon": versjon, "typeId": TYPE,
            "gyldighetsperiode": {"startdato": "2020-01-01", **period},
            "egenskaper": [{"typeId": 1141, "verdi": [f"Standard kum {nvdb_id} v{versjon}"]},
                           {"typeId": 1586, "verdi": [f"{1 + nvdb_id % 30 / 10:.1f}"]}],
            "stedfesting": {"punkt": [{"veglenkesekvensNvdbId": SEQUENCES[nvdb_id % 3],
                                       "posisjon": round((nvdb_id % 997) / 997, 6), "sideposisjon": "H"}]}}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _import(versions: list[dict[str, Any]]) -> None:
    from vegskriv.store import objects

    for i in range(0, len(versions), IMPORT_CHUNK):
        objects.import_versions(versions[i:i + IMPORT_CHUNK])


def _churn(ids: list[int], admin: Any) -> int:
    """A third of ``ids`` updated, a third closed (imported versions), a third removed (a changeset)."""
    third = len(ids) // 3
    updated, closed, removed = ids[:third], ids[third:2 * third], ids[2 * third:]
    _import([_version(i, 2) for i in updated] + [_version(i, 1, sluttdato="2021-01-01") for i in closed])
    if removed:
        # versjon 1, their only one: a fjern without versjon fails at commit (KeyError 'versjon', workflow.py)
        doc = {"datakatalogversjon": "2.38", "fjern": {"vegobjekter": [{"typeId": TYPE, "nvdbId": i, "versjon": 1}
                                                                      for i in removed]}}
        changeset_id, status = admin.run(doc)
        if status["fremdrift"] != "UTFØRT_OG_ETTERBEHANDLET":
            raise RuntimeError(f"fjern {changeset_id}: {status['fremdrift']} {json.dumps(status)[:800]}")
    return len(ids)


def _child(mode: str, moto_url: str) -> dict[str, Any]:
    env = {**os.environ, "AWS_ENDPOINT_URL": moto_url, "POWERTOOLS_LOG_LEVEL": "ERROR",
           "ENDRET_OVERLAPP_SEKUNDER": str(OVERLAP_SECONDS)}
    done = subprocess.run([sys.executable, "-m", "bench.provisioning", "--child", CONSUMER, mode], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} run failed: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _measure(n: int) -> dict[str, Any]:
    from bench.stack import Client
    from vegskriv import aws
    from vegskriv.local.stack import LocalStack
    from vegskriv.provisioning.model import Konsument
    from vegskriv.store import provisioning as store

    port = _free_port()
    env = {"POWERTOOLS_LOG_LEVEL": "ERROR", "ENDRET_OVERLAPP_SEKUNDER": str(OVERLAP_SECONDS)}
    with LocalStack(port=0, moto_port=port, env=env) as stack:
        aws.reset()
        moto_url = f"http://127.0.0.1:{port}"
        began = time.perf_counter()
        ids = list(range(FIRST_ID, FIRST_ID + n))
        _import([_version(i) for i in ids])
        figures: dict[str, Any] = {"n": n, "seed_s": round(time.perf_counter() - began, 1)}
        store.create_consumer(Konsument(id=CONSUMER, navn="bench", utvalg={"vegobjekttyper": [TYPE]},
                                        mål={"type": "DYNAMODB"}, eier="bench",
                                        sletteterskel={"antall": n, "andel": 1.0}))
        admin = Client(stack.url, "benchadmin", ["9_system_admin"])
        time.sleep(OVERLAP_SECONDS + 1)  # the import lies before the first run's watermark
        figures["FULL (first)"] = {**_child("FULL", moto_url), "changes": n}
        print(f"provisioning N={n:,} seed {figures['seed_s']} s, FULL (first): {figures['FULL (first)']}", flush=True)
        k = max(3, n // 100)
        for mode in ("DELTA", "FULL", "NAIVE"):
            # each round changes objects no earlier round touched, spread over the id range
            changed = ids[::max(1, len(ids) // k)][:k]
            untouched = set(changed)
            ids = [i for i in ids if i not in untouched]
            changes = _churn(changed, admin)
            figures[f"{mode} after 1 % churn"] = {**_child(mode, moto_url), "changes": changes}
            print(f"provisioning N={n:,} {mode} after 1 % churn: {figures[f'{mode} after 1 % churn']}", flush=True)
    return figures


def section_provisioning(bench: Bench) -> dict[str, Any]:
    bench.stop_stack()  # one LocalStack per process; each size gets a fresh one
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the moto server's access log
    sizes = sorted({min(10_000, bench.args.provisioning_n), bench.args.provisioning_n})
    results = {str(n): _measure(n) for n in sizes}
    rows: list[tuple[str, Any, str]] = []
    for n, figures in results.items():
        rows.append((f"N = {int(n):,}: import (batch writes)", figures["seed_s"], "s"))
        for name, run in figures.items():
            if not isinstance(run, dict):
                continue
            rows += [(f"  {name}: seconds", run["seconds"], f"s (load {run['load']})"),
                     (f"  {name}: objects compared per second", run["objects_per_s"], "objects/s"),
                     (f"  {name}: consumer writes (changes)", f"{run['writes']:,} ({run['changes']:,})", ""),
                     (f"  {name}: peak memory of the run's process", run["vmhwm_mb"], "MB VmHWM"),
                     (f"  {name}: of which the run itself", round(run["vmhwm_mb"] - run["base_mb"], 1),
                      "MB over imports")]
        vegskriv = figures["DELTA after 1 % churn"]["writes"]
        naive = figures["NAIVE after 1 % churn"]["writes"]
        rows.append((f"  writes naive / vegskriv (DELTA) at N = {int(n):,}", round(naive / max(1, vegskriv), 1), "×"))
    if len(results) > 1:
        small, large = (results[str(n)]["FULL (first)"] for n in sizes[:1] + sizes[-1:])
        rows.append((f"peak memory FULL {sizes[-1]:,} / {sizes[0]:,}", round(large["vmhwm_mb"] / small["vmhwm_mb"], 2),
                     "× (goal ≤ 1.2)"))
        own = [max(0.1, r["vmhwm_mb"] - r["base_mb"]) for r in (large, small)]
        rows.append(("  the same, the run's own (over imports)", round(own[0] / own[1], 2), "×"))
    print_table("provisioning (each run a child process against the stack's moto server)", rows)
    return results


# ---------------------------------------------------------------------- the child: one run


def _naive(konsument_id: str) -> dict[str, int]:
    """Overwrite everything: upsert every provider object, delete every held id the provider lacks."""
    from vegskriv.provisioning.diff import is_current
    from vegskriv.provisioning.run import PAGE
    from vegskriv.store import provisioning as store

    konsument = store.get_consumer(konsument_id)
    assert konsument is not None
    provider, target = store.ReadApiProvider(), store.DynamoTarget(konsument_id)
    today = datetime.now(UTC).date()
    provided: set[int] = set()  # naive: the whole id set in memory
    writes = hentet = 0
    for type_id in konsument.utvalg.vegobjekttyper:
        start: int | None = None
        while True:
            page = provider.page(type_id, konsument.utvalg.kommuner, None, start, PAGE)
            current = [o for o in page.objects if is_current(o.data, today)]
            target.apply([{"handling": "UPSERT", "id": o.id, "hash": o.hash, "data": o.data} for o in current])
            provided.update(o.id for o in current)
            writes += len(current)
            hentet += len(page.objects)
            if page.neste is None:
                break
            start = page.neste
    start = None
    while True:
        held, neste = target.held(start, PAGE)
        gone = [i for i, _ in held if i not in provided]
        target.apply([{"handling": "DELETE", "id": i} for i in gone])
        writes += len(gone)
        if neste is None:
            break
        start = neste
    return {"hentet": hentet, "writes": writes}


def child(konsument_id: str, mode: str) -> None:
    from botocore.config import Config

    from vegskriv import aws
    from vegskriv.provisioning import jobs
    from vegskriv.store import provisioning as store

    # moto's server answers a large page slowly on a busy machine (botocore gives up after 60 s)
    aws._CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, read_timeout=900)

    base = proc_status_mb("VmRSS") or 0.0
    began = time.perf_counter()
    if mode == "NAIVE":
        counts = _naive(konsument_id)
    else:
        konsument = store.get_consumer(konsument_id)
        assert konsument is not None
        run = jobs.run_to_end(konsument_id, jobs.create_run(konsument, mode, False).id)
        if run.status != "FULLFØRT":
            raise SystemExit(f"run {run.id}: {run.status} {run.merknader}")
        counts = {"hentet": run.hentet, "writes": run.opprettet + run.oppdatert + run.slettet + run.feilet}
    seconds = time.perf_counter() - began
    print(json.dumps({**counts, "seconds": round(seconds, 2), "objects_per_s": round(counts["hentet"] / seconds),
                      "vmhwm_mb": proc_status_mb("VmHWM"), "base_mb": base, "load": round(os.getloadavg()[0], 1)}))


if __name__ == "__main__":
    if sys.argv[1:2] != ["--child"] or len(sys.argv) != 4:
        raise SystemExit("usage: python -m bench.provisioning --child CONSUMER MODE")
    child(sys.argv[2], sys.argv[3])
