"""Throughput and latency figures for vegskriv, measured on this machine (``make bench``).

Sections (run in this order; pick some with ``--only``; docs/benchmarks.md explains each figure):

* ``validation`` parse (pydantic) and validate (catalog + network rules) of a large changeset
                 without AWS, in a fresh interpreter, with peak memory;
* ``imports``    cold import time of each Lambda function module (``functions/<name>/app.py``) in
                 a fresh interpreter, an approximation of Lambda init;
* ``e2e``        one changeset of N realistic ``registrer`` objects through the local stack
                 (moto in-process + the template's handlers + HTTP on 127.0.0.1), register →
                 UTFØRT_OG_ETTERBEHANDLET, with a per-phase breakdown;
* ``latency``    p50/p95/max of ``POST /rest/v3/endringssett`` (2 objects) and
                 ``GET .../fremdrift``, sequential, one HTTP client;
* ``locks``      ``store.locks`` acquire/release in-process and ``POST``/``DELETE /rest/v1/lås``
                 latency; lock removed → waiting changeset resumes; Step Functions history
                 events per wait cycle and a 30-day projection against the 25,000-event limit
                 (own stacks: ``WAIT_FIRST_SECONDS=30``, then 1-second pauses);
* ``e2e10k``     opt-in (``--only e2e10k``): ``e2e`` with 10,000 objects and peak memory, on a stack
                 with ``MAX_BODY_BYTES=20000000`` — the 11.6 MB body is above AWS's Lambda (6 MB)
                 and API Gateway (10 MB) payload limits, so this runs locally only.

Every figure is measured by this script; nothing is estimated. The objects are shaped exactly
like the real excerpts in ``../shared/data/endringssett`` (03: a Stikkrenne/Kulvert (79) with two
Kum (83) daughters via association 220116, 04: a Kum), copied in below so the script runs
without ``../shared``.

Adding a section: write ``def section_x(bench: Bench) -> dict`` (return the figures, print a
table with :func:`print_table`) and append ``Section("x", "...", section_x, needs_stack=...)`` to
``SECTIONS`` (``default=False`` makes it opt-in); ``--only x`` then works and the figures land in
the JSON under ``sections.x``. ``bench.stack(env={...})`` gives a section a stack with its own
settings (the running one is stopped first: one LocalStack per process).
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "vegskriv"
if str(LAYER) not in sys.path:
    sys.path.insert(0, str(LAYER))

CATALOG_VERSION = "2.38"
TERMINAL = {"AVVIST", "UTFØRT_OG_ETTERBEHANDLET", "KANSELLERT"}
FUNCTIONS = ("api", "authorizer", "dispatcher", "workflow")
STEP_ORDER = ("begin", "validate", "acquireLocks", "effectuate", "commit", "releaseLocks", "postProcess")

# The two road-network sequences the excerpts are located on. Both lie in Orkland (5059),
# judging by the UTM33 coordinates of the excerpts; lengths are illustrative (positions are
# relative, 0..1, so the length only matters for the network rules' type checks).
NETWORK = [
    {"veglenkesekvensId": 72817, "lengde": 1843.2, "kommune": 5059, "fylke": 50, "vegkategori": "F",
     "startdato": "2010-01-01"},
    {"veglenkesekvensId": 3325547, "lengde": 812.5, "kommune": 5059, "fylke": 50, "vegkategori": "E",
     "startdato": "2010-01-01"},
]

# ---------------------------------------------------------------------------------------------
# Object shapes, verbatim from the excerpts (03 and 04); the builders below vary ids and numbers.

_KVALITET = {"målemetode": 96, "målemetodeHøyde": 96, "nøyaktighet": 7, "nøyaktighetHøyde": 7}

# 03: Stikkrenne/Kulvert (79) with association 220116 to two Kum (83) daughters by tempId.
STIKKRENNE_79: dict[str, Any] = {
    "stedfesting": {"punkt": [{"posisjon": 0.66431938, "sideposisjon": "H", "veglenkesekvensNvdbId": 72817}]},
    "gyldighetsperiode": {"startdato": "2024-09-27"},
    "validering": {"reduserPunkttetthet": "JA"},
    "typeId": 79,
    "tempId": "04065c8e-a64a-49eb-aa36-1920510fdc48",
    "egenskaper": [
        {"typeId": 6981, "verdi": ["Vann"]},
        {"typeId": 1939, "verdi": ["Kum over stikkrenne"]},
        {"typeId": 6984, "verdi": ["Sirkulær"]},
        {"typeId": 1940, "verdi": ["Kum"]},
        {"typeId": 10223, "verdi": ["Nei"]},
        {"typeId": 1941, "verdi": ["Nei"]},
        {"typeId": 11068, "verdi": ["06/2024"]},
        {"typeId": 10224, "verdi": ["3.1"]},
        {"typeId": 4556, "verdi": ["1950"]},
        {"typeId": 7996, "verdi": ["Stat, Statens vegvesen"]},
        {"typeId": 6983, "verdi": ["Betong"]},
        {"typeId": 1323, "verdi": ["17.71"]},
        {"typeId": 3113, "verdi": ["600"]},
        {"typeId": 5899, "geometri": [{
            "srid": 25833,
            "wkt": "LINESTRING (201273.08774687938 7022783.550173521 68.689, "
                   "201266.75648322335 7022766.954477093 72.082)",
            "datafangstdato": "2024-06-06", "referansegeometri": False, "kvalitet": _KVALITET}]},
    ],
    "assosiasjoner": [{
        "nvdbId": [],
        "tempId": [{"verdi": "00185f77-bc75-4876-b4c4-251f8192de99"},
                   {"verdi": "4768d7f7-276c-463d-b77a-da604e84b4b6"}],
        "typeId": 220116,
    }],
}

# 03: the first Kum daughter.
KUM_83_A: dict[str, Any] = {
    "stedfesting": {"punkt": [{"posisjon": 0.66439757, "sideposisjon": "V", "veglenkesekvensNvdbId": 72817}]},
    "gyldighetsperiode": {"startdato": "2024-09-27"},
    "validering": {"reduserPunkttetthet": "JA"},
    "typeId": 83,
    "tempId": "00185f77-bc75-4876-b4c4-251f8192de99",
    "egenskaper": [
        {"typeId": 10470, "verdi": ["Ingen"]},
        {"typeId": 5816, "verdi": ["Stat, Statens vegvesen"]},
        {"typeId": 1586, "verdi": ["2.7"]},
        {"typeId": 7065, "verdi": ["1950"]},
        {"typeId": 1727, "verdi": ["0.6"]},
        {"typeId": 2079, "verdi": ["2.6"]},
        {"typeId": 11070, "verdi": ["06/2024"]},
        {"typeId": 2290, "verdi": ["Kuppelrist, høy"]},
        {"typeId": 2388, "verdi": ["2.9"]},
        {"typeId": 1141, "verdi": ["Standard kum m sandfang"]},
        {"typeId": 1411, "verdi": ["Betong"]},
        {"typeId": 1269, "verdi": ["Drenering"]},
        {"typeId": 4784, "geometri": [{
            "srid": 25833, "wkt": "POINT (201266.87251552462 7022766.591027451 72.065)",
            "datafangstdato": "2024-06-06", "referansegeometri": False, "kvalitet": _KVALITET}]},
    ],
}

# 03: the second Kum daughter.
KUM_83_B: dict[str, Any] = {
    "stedfesting": {"punkt": [{"posisjon": 0.66421781, "sideposisjon": "H", "veglenkesekvensNvdbId": 72817}]},
    "gyldighetsperiode": {"startdato": "2024-09-27"},
    "validering": {"reduserPunkttetthet": "JA"},
    "typeId": 83,
    "tempId": "4768d7f7-276c-463d-b77a-da604e84b4b6",
    "egenskaper": [
        {"typeId": 2290, "verdi": ["Kuppelrist, høy"]},
        {"typeId": 1141, "verdi": ["Standard kum"]},
        {"typeId": 1586, "verdi": ["1.5"]},
        {"typeId": 10470, "verdi": ["Ingen"]},
        {"typeId": 1269, "verdi": ["Drenering"]},
        {"typeId": 1411, "verdi": ["Betong"]},
        {"typeId": 11070, "verdi": ["06/2024"]},
        {"typeId": 1727, "verdi": ["0.6"]},
        {"typeId": 2079, "verdi": ["1.4"]},
        {"typeId": 7065, "verdi": ["1950"]},
        {"typeId": 5816, "verdi": ["Stat, Statens vegvesen"]},
        {"typeId": 2388, "verdi": ["8"]},
        {"typeId": 4784, "geometri": [{
            "srid": 25833, "wkt": "POINT (201273.2317281316 7022783.995230469 68.673)",
            "datafangstdato": "2024-06-06", "referansegeometri": False, "kvalitet": _KVALITET}]},
    ],
}

# 04: a Kum on 3325547.
KUM_83_C: dict[str, Any] = {
    "stedfesting": {"punkt": [{"posisjon": 0.73701912, "sideposisjon": "H", "veglenkesekvensNvdbId": 3325547}]},
    "gyldighetsperiode": {"startdato": "2024-09-27"},
    "validering": {"reduserPunkttetthet": "JA"},
    "typeId": 83,
    "tempId": "1aca580f-bdf9-4400-a936-3fbb8812b1d4",
    "egenskaper": [
        {"typeId": 2079, "verdi": ["0.8"]},
        {"typeId": 1411, "verdi": ["Betong"]},
        {"typeId": 1141, "verdi": ["Standard kum"]},
        {"typeId": 1586, "verdi": ["1.4"]},
        {"typeId": 2388, "verdi": ["19"]},
        {"typeId": 1269, "verdi": ["Drenering"]},
        {"typeId": 10470, "verdi": ["Ingen"]},
        {"typeId": 1727, "verdi": ["1"]},
        {"typeId": 11070, "verdi": ["06/2024"]},
        {"typeId": 5816, "verdi": ["Stat, Statens vegvesen"]},
        {"typeId": 2290, "verdi": ["Kuppelrist, høy"]},
        {"typeId": 7065, "verdi": ["2023"]},
        {"typeId": 4784, "geometri": [{
            "srid": 25833, "wkt": "POINT (218124.01855327084 7023329.498162298 350.303)",
            "datafangstdato": "2024-06-19", "referansegeometri": False, "kvalitet": _KVALITET}]},
    ],
}

# Where the 79's line and the kums' points are moved to on 3325547 (the 04 kum's surroundings).
_OFFSET_3325547 = (218124.01855327084 - 201266.87251552462, 7023329.498162298 - 7022766.591027451)


def _shift_wkt(wkt: str, dx: float, dy: float) -> str:
    kind, _, rest = wkt.partition(" (")
    points = []
    for point in rest.rstrip(")").split(","):
        x, y, *z = point.split()
        points.append(" ".join([f"{float(x) + dx:.8f}", f"{float(y) + dy:.8f}", *z]))
    return f"{kind} ({', '.join(points)})"


def _varied(template: dict[str, Any], temp_id: str, sequence: int, position: float, dx: float, dy: float,
            number_type: int, number: str) -> dict[str, Any]:
    obj = copy.deepcopy(template)
    obj["tempId"] = temp_id
    punkt = obj["stedfesting"]["punkt"][0]
    punkt["veglenkesekvensNvdbId"] = sequence
    punkt["posisjon"] = round(position, 8)
    for egenskap in obj["egenskaper"]:
        if egenskap["typeId"] == number_type:
            egenskap["verdi"] = [number]
        for g in egenskap.get("geometri", []):
            g["wkt"] = _shift_wkt(g["wkt"], dx, dy)
    return obj


def build_objects(n: int, seed: int = 20240927) -> list[dict[str, Any]]:
    """n ``registrer`` objects: families of one 79 with its two 83 daughters (excerpt 03), the
    remainder (n mod 3) as standalone 83 (excerpt 04). Families alternate between 72817 (daughters
    shaped like 03) and 3325547 (daughters shaped like 04). Each object gets its own tempId
    (uuid4-style, like the excerpt), position, coordinates and one numeric property (Lengde 1323
    for 79, Dybde 1586 for 83)."""
    rng = random.Random(seed)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    objects: list[dict[str, Any]] = []
    family = 0
    while len(objects) + 3 <= n:
        on_72817 = family % 2 == 0
        sequence = 72817 if on_72817 else 3325547
        base_dx, base_dy = (0.0, 0.0) if on_72817 else _OFFSET_3325547
        dx, dy = base_dx + rng.uniform(-400, 400), base_dy + rng.uniform(-400, 400)
        position = rng.uniform(0.01, 0.98)
        daughters = (KUM_83_A, KUM_83_B) if on_72817 else (KUM_83_C, KUM_83_C)
        ids = [new_id() for _ in range(3)]
        mother = _varied(STIKKRENNE_79, ids[0], sequence, position, dx, dy, 1323, f"{rng.uniform(4, 40):.2f}")
        mother["assosiasjoner"][0]["tempId"] = [{"verdi": ids[1]}, {"verdi": ids[2]}]
        kids = [_varied(shape, temp_id, sequence, position + rng.uniform(-0.0002, 0.0002),
                        dx + rng.uniform(-1, 1), dy + rng.uniform(-1, 1), 1586, f"{rng.uniform(0.5, 4):.1f}")
                for shape, temp_id in zip(daughters, ids[1:], strict=True)]
        if not on_72817:
            kids[1]["stedfesting"]["punkt"][0]["sideposisjon"] = "V"
        objects += [mother, *kids]
        family += 1
    while len(objects) < n:
        dx, dy = rng.uniform(-400, 400), rng.uniform(-400, 400)
        objects.append(_varied(KUM_83_C, new_id(), 3325547, rng.uniform(0.01, 0.99), dx, dy, 1586,
                               f"{rng.uniform(0.5, 4):.1f}"))
    return objects


def changeset(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return {"datakatalogversjon": CATALOG_VERSION, "registrer": {"vegobjekter": objects}}


def type_counts(objects: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in objects:
        counts[str(o["typeId"])] = counts.get(str(o["typeId"]), 0) + 1
    return counts


# ---------------------------------------------------------------------------------------------
# Output

def print_table(title: str, rows: list[tuple[str, Any, str]]) -> None:
    """One section's figures as an aligned table: metric | value | unit."""
    def fmt(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)

    cells = [(m, fmt(v), u) for m, v, u in rows]
    w0 = max([len("metric"), *(len(c[0]) for c in cells)])
    w1 = max([len("value"), *(len(c[1]) for c in cells)])
    w2 = max([len("unit"), *(len(c[2]) for c in cells)])
    rule = f"+-{'-' * w0}-+-{'-' * w1}-+-{'-' * w2}-+"
    print(f"\n{title}")
    print(rule)
    print(f"| {'metric':<{w0}} | {'value':>{w1}} | {'unit':<{w2}} |")
    print(rule)
    for m, v, u in cells:
        print(f"| {m:<{w0}} | {v:>{w1}} | {u:<{w2}} |")
    print(rule, flush=True)


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latency_summary(samples: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in samples]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "max_ms": round(max(ms), 2), "mean_ms": round(statistics.fmean(ms), 2),
            "min_ms": round(min(ms), 2)}


def _iso_to_epoch(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


# ---------------------------------------------------------------------------------------------
# The local stack, shared by the sections that need it

class Invocations:
    """Records every in-process Lambda invocation of the stack (function, step/path, wall times)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def install(self, runtime: Any) -> None:
        original = runtime.invoke

        def invoke(spec: Any, event: Any) -> Any:
            began = time.time()
            try:
                return original(spec, event)
            finally:
                ended = time.time()
                what = (event.get("step") or event.get("path") or "") if isinstance(event, dict) else ""
                with self._lock:
                    self.records.append({"function": spec.logical_id, "what": what, "start": began,
                                         "end": ended})

        runtime.invoke = invoke

    def between(self, start: float, end: float) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.records if r["start"] >= start and r["end"] <= end]


class Client:
    def __init__(self, base_url: str, user: str, roles: list[str]) -> None:
        import requests

        from vegskriv.auth import issue_dev_token

        self.base = base_url
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {issue_dev_token(user, roles)}",
                                     "Content-Type": "application/json", "X-Client": "bench"})

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.session.request(method, self.base + path, timeout=300, **kwargs)

    def register(self, body: str) -> str:
        r = self.request("POST", "/rest/v3/endringssett", data=body)
        if r.status_code != 201:
            raise RuntimeError(f"register answered {r.status_code}: {r.text[:500]}")
        return str(r.headers["Location"].rsplit("/", 1)[1])

    def fremdrift(self, changeset_id: str) -> str:
        r = self.request("GET", f"/rest/v3/endringssett/{changeset_id}/fremdrift")
        if r.status_code != 200:
            raise RuntimeError(f"fremdrift answered {r.status_code}: {r.text[:500]}")
        return str(r.json())


@dataclass
class Bench:
    args: argparse.Namespace
    results: dict[str, Any] = field(default_factory=dict)
    _stack: Any = None
    invocations: Invocations = field(default_factory=Invocations)
    last_startup_s: float | None = None
    _stack_env: dict[str, str] = field(default_factory=dict)

    def stack(self, env: dict[str, str] | None = None) -> Any:
        """The running local stack, started with ``env`` on top of the bench's defaults. Only one
        LocalStack can run per process (moto state is global), so asking for another environment
        stops the running one first."""
        wanted = {"POWERTOOLS_LOG_LEVEL": "ERROR", **(env or {})}
        if self._stack is not None and self._stack_env != wanted:
            self.stop_stack()
        if self._stack is None:
            from vegskriv.local.stack import LocalStack

            began = time.perf_counter()
            self._stack = LocalStack(port=0, env=wanted).start()
            self._stack_env = wanted
            self.invocations.install(self._stack.runtime)
            startup = round(time.perf_counter() - began, 3)
            self.results.setdefault("stack", {}).setdefault("startup_s", startup)  # the first start
            self.results["stack"].setdefault("starts", []).append({"env": wanted, "startup_s": startup})
            self.last_startup_s = startup
            admin = Client(self._stack.url, "benchadmin", ["9_system_admin"])
            r = admin.request("PUT", "/rest/v3/vegnett/veglenkesekvenser",
                              data=json.dumps({"veglenkesekvenser": NETWORK}))
            if r.status_code != 200:
                raise RuntimeError(f"loading the network answered {r.status_code}: {r.text[:500]}")
        return self._stack

    def stop_stack(self) -> None:
        if self._stack is not None:
            self._stack.stop()
            self._stack = None


# ---------------------------------------------------------------------------------------------
# Section: end to end

def section_e2e(bench: Bench) -> dict[str, Any]:
    n = bench.args.objects
    figures, rows = run_e2e(bench, bench.stack(), n)
    print_table(f"End to end on the local stack: one changeset, {n} registrer objects", rows)
    return figures


def run_e2e(bench: Bench, stack: Any, n: int, before_register: Callable[[], None] | None = None,
            ) -> tuple[dict[str, Any], list[tuple[str, Any, str]]]:
    """Register, start and follow one changeset of n objects; the figures and the table rows."""
    client = Client(stack.url, "benchuser", ["0_bruker_fagdata"])
    objects = build_objects(n)
    body = json.dumps(changeset(objects))
    counts = type_counts(objects)
    del objects  # only the JSON text is sent; the dicts would only add to the client's memory
    if before_register is not None:
        before_register()

    t_register = time.time()
    changeset_id = client.register(body)
    t_registered = time.time()
    r = client.request("POST", f"/rest/v3/endringssett/{changeset_id}/start")
    if r.status_code != 202:
        raise RuntimeError(f"start answered {r.status_code}: {r.text[:500]}")
    t_started = time.time()
    seen: dict[str, float] = {}
    polls = 0
    deadline = time.monotonic() + bench.args.e2e_timeout
    while True:
        state = client.fremdrift(changeset_id)
        polls += 1
        seen.setdefault(state, time.time())
        if state in TERMINAL:
            break
        if time.monotonic() > deadline:
            done = sorted((c for c in bench.invocations.between(t_register, time.time())
                           if c["function"] == "WorkflowFunction"), key=lambda c: c["start"])
            steps = ", ".join(f"{c['what']} {c['end'] - c['start']:.1f} s" for c in done) or "none"
            raise RuntimeError(f"{changeset_id} still {state} after {bench.args.e2e_timeout}s "
                               f"(workflow steps finished: {steps})")
        time.sleep(bench.args.poll_interval)
    t_done = seen[state]
    r = client.request("GET", f"/rest/v3/endringssett/{changeset_id}/status")
    status = r.json()
    if state != "UTFØRT_OG_ETTERBEHANDLET":
        raise RuntimeError(f"changeset ended {state}: {json.dumps(status, ensure_ascii=False)[:2000]}")
    results = status["resultat"]["vegobjekter"]
    nvdb_ids = {o.get("nvdbId") for o in results if o.get("nvdbId")}
    if len(results) != n or len(nvdb_ids) != n:
        raise RuntimeError(f"expected {n} objects with distinct nvdbIds, got {len(results)} / {len(nvdb_ids)}")

    total = t_done - t_register
    figures: dict[str, Any] = {
        "objects": n, "types": counts, "body_bytes": len(body.encode()),
        "changeset_id": changeset_id, "final_state": state, "nvdb_ids": len(nvdb_ids),
        "end_to_end_s": round(total, 3), "objects_per_s": round(n / total, 1),
        "poll_interval_s": bench.args.poll_interval, "fremdrift_polls": polls,
        "states_seen_s": {k: round(v - t_register, 3) for k, v in seen.items()},
    }

    # Phases from the status timestamps (server clock, millisecond precision).
    mottatt = _iso_to_epoch(status.get("mottatt"))
    committed = _iso_to_epoch((status.get("transaksjon") or {}).get("tidspunkt"))
    finished = _iso_to_epoch(status.get("fremdriftOppdatert"))
    from_status: dict[str, float] = {}
    if mottatt and committed and finished:
        from_status = {"mottatt → transaksjon.tidspunkt (commit)": round(committed - mottatt, 3),
                       "transaksjon.tidspunkt → fremdriftOppdatert (etterbehandlet)": round(finished - committed, 3),
                       "mottatt → fremdriftOppdatert": round(finished - mottatt, 3)}
    figures["phases_from_status_s"] = from_status

    # Phases from the recorded Lambda invocations of this changeset's processing.
    calls = bench.invocations.between(t_register - 0.001, t_done + 0.001)
    steps = [c for c in calls if c["function"] == "WorkflowFunction"]
    dispatch = [c for c in calls if c["function"] == "DispatcherFunction"]
    # Contiguous phases: they add up to the end-to-end time.
    phases: list[tuple[str, float]] = [("register (POST round trip)", t_registered - t_register)]
    if steps:
        first = min(steps, key=lambda c: c["start"])
        if dispatch:
            d = min(dispatch, key=lambda c: c["start"])
            phases += [("start POST → dispatcher invoked (SQS)", d["start"] - t_registered),
                       ("dispatcher invoked → first workflow step", first["start"] - d["start"])]
        else:
            phases.append(("start POST → first workflow step", first["start"] - t_registered))
        for name in STEP_ORDER:
            durations = [c["end"] - c["start"] for c in steps if c["what"] == name]
            if durations:
                phases.append((f"step {name}" + (f" (x{len(durations)})" if len(durations) > 1 else ""),
                               sum(durations)))
        ordered = sorted(steps, key=lambda c: c["start"])
        gaps = sum(max(0.0, b["start"] - a["end"]) for a, b in itertools.pairwise(ordered))
        phases.append(("Step Functions between steps (sum of gaps)", gaps))
        phases.append(("last step end → client saw terminal state", t_done - ordered[-1]["end"]))
    figures["phases_s"] = {k: round(v, 3) for k, v in phases}
    figures["start_post_round_trip_s"] = round(t_started - t_registered, 3)
    figures["workflow_steps"] = [{"step": c["what"], "start_s": round(c["start"] - t_register, 3),
                                  "duration_s": round(c["end"] - c["start"], 3)}
                                 for c in sorted(steps, key=lambda c: c["start"])]

    rows: list[tuple[str, Any, str]] = [
        ("objects (79 / 83)", f"{n} ({figures['types'].get('79', 0)} / {figures['types'].get('83', 0)})", ""),
        ("request body", round(len(body.encode()) / 1e6, 2), "MB"),
        ("end to end (register → UTFØRT_OG_ETTERBEHANDLET)", round(total, 3), "s"),
        ("throughput", round(n / total, 1), "objects/s"),
        ("nvdbIds in status", len(nvdb_ids), ""),
    ]
    rows += [(f"  {k}", round(v, 3), "s") for k, v in phases]
    rows.append(("(start POST round trip, overlaps the phases above)", round(t_started - t_registered, 3), "s"))
    rows += [(f"  status: {k}", v, "s") for k, v in from_status.items()]
    rows.append(("stack startup (once, before the run)", bench.last_startup_s, "s"))
    return figures, rows


# ---------------------------------------------------------------------------------------------
# Section: latency

def section_latency(bench: Bench) -> dict[str, Any]:
    stack = bench.stack()
    client = Client(stack.url, "benchlatency", ["0_bruker_fagdata"])
    body = json.dumps(changeset(build_objects(2, seed=7)))
    warmup = 5

    def timed(fn: Callable[[], Any], count: int) -> list[float]:
        for _ in range(warmup):
            fn()
        samples = []
        for _ in range(count):
            began = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - began)
        return samples

    def handler_medians(start: float, end: float) -> dict[str, float]:
        """Median time inside each in-process handler (the rest is HTTP + API Gateway emulation)."""
        by_function: dict[str, list[float]] = {}
        for c in bench.invocations.between(start, end):
            by_function.setdefault(c["function"], []).append(c["end"] - c["start"])
        return {k: round(statistics.median(v) * 1000, 2) for k, v in sorted(by_function.items())}

    ids: list[str] = []
    t0 = time.time()
    register = timed(lambda: ids.append(client.register(body)), bench.args.register_requests)
    t1 = time.time()
    target = ids[-1]
    fremdrift = timed(lambda: client.fremdrift(target), bench.args.fremdrift_requests)
    t2 = time.time()
    figures = {"register": {**latency_summary(register), "handler_median_ms": handler_medians(t0, t1)},
               "fremdrift": {**latency_summary(fremdrift), "handler_median_ms": handler_medians(t1, t2)},
               "warmup_requests": warmup}
    rows: list[tuple[str, Any, str]] = []
    for name, label in (("register", "POST /rest/v3/endringssett (2 objects)"),
                        ("fremdrift", "GET /rest/v3/endringssett/{id}/fremdrift")):
        s = figures[name]
        rows += [(f"{label}: n", s["n"], "requests"), (f"{label}: p50", s["p50_ms"], "ms"),
                 (f"{label}: p95", s["p95_ms"], "ms"), (f"{label}: max", s["max_ms"], "ms")]
        rows += [(f"  of which in {fn} (median)", ms, "ms") for fn, ms in s["handler_median_ms"].items()]
    print_table("Latency, sequential, one client (HTTP on 127.0.0.1, authorizer + api in-process)", rows)
    return figures


# ---------------------------------------------------------------------------------------------
# Section: locks

LOCK_SEQUENCE = 1125766  # on the sample network the stack seeds (tests/e2e/test_locks.py uses it)
STEP_FUNCTIONS_HISTORY_LIMIT = 25_000  # events per execution (AWS Step Functions quota, standard)
THIRTY_DAYS_S = 30 * 24 * 3600

# A Kum (83) shaped like excerpt 04, on LOCK_SEQUENCE (the shape of tests/support/client.py KUM).
KUM_ON_LOCK_SEQUENCE: dict[str, Any] = {
    "typeId": 83, "tempId": "kum#1", "gyldighetsperiode": {"startdato": "2024-09-27"},
    "stedfesting": {"punkt": [{"veglenkesekvensNvdbId": LOCK_SEQUENCE, "posisjon": 0.3, "sideposisjon": "H"}]},
    "egenskaper": [
        {"typeId": 1141, "verdi": ["Standard kum"]}, {"typeId": 1269, "verdi": ["Drenering"]},
        {"typeId": 1411, "verdi": ["Betong"]}, {"typeId": 2290, "verdi": ["Kuppelrist, høy"]},
        {"typeId": 1586, "verdi": ["1.4"]}, {"typeId": 7065, "verdi": ["2023"]},
        {"typeId": 10470, "verdi": ["Ingen"]},
        {"typeId": 4784, "geometri": [{"srid": 25833, "wkt": "POINT (218124.0 7023329.5 350.3)"}]}]}


def _three_sequence_objects(n: int) -> list[dict[str, Any]]:
    """build_objects(n) with the families spread over three sequences (72817, 3325547 and
    LOCK_SEQUENCE, family by family), so the lock claims span 2 types x 3 sequences."""
    objects = build_objects(n)
    sequences = (72817, 3325547, LOCK_SEQUENCE)
    for i, o in enumerate(objects):
        o["stedfesting"]["punkt"][0]["veglenkesekvensNvdbId"] = sequences[(i // 3) % 3]
    return objects


def _external_lock_body(type_ids: list[int], sequences: list[int], seconds: int) -> str:
    return json.dumps({"vegobjekttyper": [{"typeId": t, "låstype": "NORMAL"} for t in type_ids],
                       "varighetSekunder": seconds,
                       "stedfesting": [{"veglenkesekvensNvdbId": v, "fra": 0.0, "til": 1.0} for v in sequences]})


def _create_lock(client: Client, body: str) -> str:
    r = client.request("POST", "/rest/v1/lås", data=body)
    if r.status_code != 201:
        raise RuntimeError(f"POST /rest/v1/lås answered {r.status_code}: {r.text[:500]}")
    return str(r.json()["id"])


def _delete_lock(client: Client, lock_id: str) -> dict[str, Any]:
    r = client.request("DELETE", f"/rest/v1/lås/{lock_id}")
    if r.status_code != 200:
        raise RuntimeError(f"DELETE /rest/v1/lås/{lock_id} answered {r.status_code}: {r.text[:500]}")
    return dict(r.json())


def _wait_for(client: Client, changeset_id: str, states: set[str], timeout: float, interval: float = 0.02) -> str:
    deadline = time.monotonic() + timeout
    while True:
        state = client.fremdrift(changeset_id)
        if state in states:
            return state
        if time.monotonic() > deadline:
            raise RuntimeError(f"{changeset_id} still {state} after {timeout} s (waited for {sorted(states)})")
        time.sleep(interval)


def _blocked_changeset(user: Client, temp_id: str) -> str:
    """Register and start a 1-object kum changeset on LOCK_SEQUENCE; return once it is VENTER."""
    kum = copy.deepcopy(KUM_ON_LOCK_SEQUENCE)
    kum["tempId"] = temp_id
    changeset_id = user.register(json.dumps(changeset([kum])))
    r = user.request("POST", f"/rest/v3/endringssett/{changeset_id}/start")
    if r.status_code != 202:
        raise RuntimeError(f"start answered {r.status_code}: {r.text[:500]}")
    _wait_for(user, changeset_id, {"VENTER"} | TERMINAL, timeout=30)
    reason = user.request("GET", f"/rest/v3/endringssett/{changeset_id}/fremdriftOgÅrsak").text
    if reason != "VENTER:VENTER_PÅ_LÅS":
        raise RuntimeError(f"{changeset_id} is {reason}, expected VENTER:VENTER_PÅ_LÅS")
    return changeset_id


def _lock_store_latency(bench: Bench, iterations: int) -> dict[str, Any]:
    """create_meta / acquire / release of store.locks called in-process (as the workflow does)."""
    from vegskriv import aws
    from vegskriv.locks import changeset_claims
    from vegskriv.models import parse_endringssett
    from vegskriv.settings import get_settings
    from vegskriv.store import locks as lock_store

    objects = _three_sequence_objects(100)
    claims = changeset_claims(parse_endringssett(json.dumps(changeset(objects))), {})
    lease = get_settings().lock_lease_seconds
    calls = {"n": 0}

    def count(**_: Any) -> None:
        calls["n"] += 1

    events = aws.dynamodb().meta.client.meta.events
    events.register("before-call.dynamodb", count)
    samples: dict[str, list[float]] = {"create_meta": [], "acquire": [], "release": [], "acquire_release": []}
    per_op_calls: dict[str, list[int]] = {"create_meta": [], "acquire": [], "release": []}
    try:
        for i in range(5 + iterations):  # 5 warm-up rounds, not counted
            lock_id = f"bench-{uuid.uuid4()}"
            c0 = calls["n"]
            t0 = time.perf_counter()
            lock_store.create_meta(lock_id, eier="benchlocks", kind="ENDRINGSSETT", claims=claims,
                                   lease_seconds=lease, endringssett_id=lock_id)
            t1, c1 = time.perf_counter(), calls["n"]
            outcome = lock_store.acquire(lock_id, claims, lease)
            t2, c2 = time.perf_counter(), calls["n"]
            lock_store.release(lock_id)
            t3, c3 = time.perf_counter(), calls["n"]
            if not outcome.acquired:
                raise RuntimeError(f"in-process acquire refused: blocked by {outcome.blockers}")
            if i < 5:
                continue
            samples["create_meta"].append(t1 - t0)
            samples["acquire"].append(t2 - t1)
            samples["release"].append(t3 - t2)
            samples["acquire_release"].append(t3 - t1)
            per_op_calls["create_meta"].append(c1 - c0)
            per_op_calls["acquire"].append(c2 - c1)
            per_op_calls["release"].append(c3 - c2)
    finally:
        events.unregister("before-call.dynamodb", count)
    ranges = [len(c.ranges) for c in claims.values()]
    return {"objects": len(objects), "types": type_counts(objects), "cells": len(claims),
            "ranges_per_cell": {"min": min(ranges), "max": max(ranges)},
            "cells_list": [list(c) for c in sorted(claims)], "iterations": iterations,
            **{k: latency_summary(v) for k, v in samples.items()},
            "dynamodb_calls": {k: statistics.median(v) for k, v in per_op_calls.items()}}


def _lock_api_latency(bench: Bench, admin: Client, iterations: int) -> dict[str, Any]:
    """POST /rest/v1/lås and DELETE /rest/v1/lås/{id}, same footprint: 2 types x 3 sequences."""
    body = _external_lock_body([79, 83], [72817, 3325547, LOCK_SEQUENCE], 3600)
    post, delete = [], []
    t0 = time.time()
    for i in range(5 + iterations):
        began = time.perf_counter()
        lock_id = _create_lock(admin, body)
        created = time.perf_counter()
        _delete_lock(admin, lock_id)
        deleted = time.perf_counter()
        if i >= 5:
            post.append(created - began)
            delete.append(deleted - created)
    t1 = time.time()
    in_api: dict[str, list[float]] = {"post": [], "delete": []}
    for c in bench.invocations.between(t0, t1):
        if c["function"] == "ApiFunction":  # POST goes to /rest/v1/lås, DELETE to /rest/v1/lås/{id}
            in_api["post" if c["what"].rstrip("/").endswith("/lås") else "delete"].append(c["end"] - c["start"])
    return {"iterations": iterations, "cells": 6, "post": latency_summary(post), "delete": latency_summary(delete),
            "api_function_median_ms": {k: round(statistics.median(v) * 1000, 2) if v else None
                                       for k, v in in_api.items()}}


def _resume_after_release(bench: Bench, stack: Any, admin: Client, user: Client, runs: int) -> dict[str, Any]:
    """External lock on (83, LOCK_SEQUENCE); a kum changeset waits on it; DELETE the lock and time
    until the changeset leaves VENTER and until it is UTFØRT_OG_ETTERBEHANDLET."""
    from vegskriv.store import changesets

    lock_body = _external_lock_body([83], [LOCK_SEQUENCE], 3600)
    leave, done, delete_rt, server_resume, fremdrift_rt = [], [], [], [], []
    woken_all = parked_all = True
    for i in range(runs):
        lock_id = _create_lock(admin, lock_body)
        changeset_id = _blocked_changeset(user, f"bench-resume-{i}")
        time.sleep(0.5)  # let it park on its task token
        parked_all &= bool((changesets.get(changeset_id) or {}).get("ventToken"))
        released = time.perf_counter()
        released_wall = time.time()
        answer = _delete_lock(admin, lock_id)
        delete_rt.append(time.perf_counter() - released)
        woken_all &= changeset_id in answer.get("vekket", [])
        left = None
        deadline = time.monotonic() + 60
        while True:
            asked = time.perf_counter()
            state = user.fremdrift(changeset_id)
            fremdrift_rt.append(time.perf_counter() - asked)
            if left is None and state != "VENTER":
                left = time.perf_counter()
            if state in TERMINAL:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{changeset_id} still {state} 60 s after the lock was removed")
            time.sleep(0.005)
        finished = time.perf_counter()
        if state != "UTFØRT_OG_ETTERBEHANDLET":
            raise RuntimeError(f"{changeset_id} ended {state} after the lock was removed")
        assert left is not None
        leave.append(left - released)
        done.append(finished - released)
        steps = [c for c in bench.invocations.between(released_wall, time.time() + 1)
                 if c["function"] == "WorkflowFunction" and c["what"] == "acquireLocks"]
        if steps:
            server_resume.append(min(c["start"] for c in steps) - released_wall)
    return {"runs": runs, "woken_by_delete_all": woken_all, "parked_before_release_all": parked_all,
            "release_to_leaves_venter": latency_summary(leave), "release_to_done": latency_summary(done),
            "delete_round_trip": latency_summary(delete_rt),
            "release_to_acquireLocks_step_started": latency_summary(server_resume) if server_resume else None,
            "fremdrift_poll_round_trip": latency_summary(fremdrift_rt), "poll_sleep_s": 0.005}


def _history_per_wait_cycle(bench: Bench, wait_s: float) -> dict[str, Any]:
    """A changeset waits ~wait_s behind an external lock with 1-second pauses, so the state machine
    goes round AcquireLocks → ParkForLocks (timeout) several times; count the history events."""
    stack = bench.stack(env={"WAIT_FIRST_SECONDS": "1", "WAIT_FACTOR": "1", "WAIT_MAX_SECONDS": "1"})
    admin = Client(stack.url, "benchadmin", ["9_system_admin"])
    user = Client(stack.url, "benchlocks", ["0_bruker_fagdata"])
    lock_id = _create_lock(admin, _external_lock_body([83], [LOCK_SEQUENCE], 3600))
    changeset_id = _blocked_changeset(user, "bench-history")
    time.sleep(wait_s)
    _delete_lock(admin, lock_id)
    state = _wait_for(user, changeset_id, TERMINAL, timeout=60)
    if state != "UTFØRT_OG_ETTERBEHANDLET":
        raise RuntimeError(f"{changeset_id} ended {state}")
    sfn = stack.client("stepfunctions")
    execution_arn = None
    for machine in stack.state_machine_arns.values():
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine):
            execution_arn = next((e["executionArn"] for e in page["executions"] if e["name"] == changeset_id),
                                 execution_arn)
    if execution_arn is None:
        raise RuntimeError(f"no execution named {changeset_id}")
    history: list[dict[str, Any]] = []
    token = None
    while True:
        page = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000,
                                         **({"nextToken": token} if token else {}))
        history += page["events"]
        token = page.get("nextToken")
        if not token:
            break

    def entered(e: dict[str, Any], name: str) -> bool:
        return e["type"].endswith("StateEntered") and e.get("stateEnteredEventDetails", {}).get("name") == name

    parks = [i for i, e in enumerate(history) if entered(e, "ParkForLocks")]
    cycles = len(parks)
    if cycles < 2:
        raise RuntimeError(f"only {cycles} ParkForLocks cycles in {wait_s} s; cannot measure a cycle")
    # A full timeout cycle: from one ParkForLocks entry to the next (park, time out, AcquireLocks
    # again, refused, choose to park). The last cycle ended by the wake-up instead.
    spans = [b - a for a, b in itertools.pairwise(parks)]
    per_cycle = statistics.median(spans)
    cycle_types = [e["type"] for e in history[parks[-2]:parks[-1]]]
    return {"changeset_id": changeset_id, "waited_s": wait_s, "events_total": len(history), "cycles": cycles,
            "events_per_cycle": per_cycle, "events_per_cycle_all": spans,
            "events_outside_cycles": len(history) - cycles * per_cycle,
            "cycle_event_types": cycle_types,
            "timed_out_events": sum(1 for e in history if e["type"] == "TaskTimedOut")}


def _extrapolate_30_days(per_cycle: float, outside: float) -> dict[str, Any]:
    """Cycles and history events for a 30-day wait with the default settings, from the workflow's
    own backoff (vegskriv.workflow._backoff) evaluated with Settings() defaults."""
    import vegskriv.workflow as workflow
    from vegskriv.settings import Settings

    defaults = Settings()
    original = workflow.get_settings
    workflow.get_settings = lambda: defaults  # type: ignore[assignment]
    try:
        pauses: list[int] = []
        elapsed = 0
        while elapsed < THIRTY_DAYS_S:
            pauses.append(workflow._backoff(len(pauses) + 1))
            elapsed += pauses[-1]
        # When would the history reach the limit, pausing like this? _backoff computes
        # first * factor ** (attempt - 1) before capping it, which overflows a float after ~1,000
        # attempts: record where it first raises (the acquireLocks step would fail there).
        limit_cycles = int((STEP_FUNCTIONS_HISTORY_LIMIT - outside) // per_cycle)
        until_limit, overflow_attempt, overflow_after_s = 0, None, None
        for attempt in range(1, limit_cycles + 1):
            try:
                until_limit += workflow._backoff(attempt)
            except OverflowError:
                if overflow_attempt is None:
                    overflow_attempt, overflow_after_s = attempt, until_limit
                until_limit += defaults.wait_max_seconds
    finally:
        workflow.get_settings = original  # type: ignore[assignment]
    cycles = len(pauses)
    events = round(outside + cycles * per_cycle)
    return {"wait_first_seconds": defaults.wait_first_seconds, "wait_factor": defaults.wait_factor,
            "wait_max_seconds": defaults.wait_max_seconds, "cycles_30_days": cycles,
            "pauses_until_cap": sum(1 for p in pauses if p < defaults.wait_max_seconds),
            "events_30_days": events, "limit": STEP_FUNCTIONS_HISTORY_LIMIT,
            "share_of_limit": round(events / STEP_FUNCTIONS_HISTORY_LIMIT, 4),
            "cycles_until_limit": limit_cycles, "days_until_limit": round(until_limit / 86400, 1),
            "backoff_overflow_attempt": overflow_attempt,
            "backoff_overflow_after_days": round(overflow_after_s / 86400, 1) if overflow_after_s else None}


def section_locks(bench: Bench) -> dict[str, Any]:
    # Long first pause: a changeset that resumes within seconds was woken, not timed out.
    stack = bench.stack(env={"WAIT_FIRST_SECONDS": "30"})
    admin = Client(stack.url, "benchadmin", ["9_system_admin"])
    user = Client(stack.url, "benchlocks", ["0_bruker_fagdata"])
    iterations, runs = bench.args.lock_iterations, bench.args.resume_runs
    store = _lock_store_latency(bench, iterations)
    api = _lock_api_latency(bench, admin, iterations)
    resume = _resume_after_release(bench, stack, admin, user, runs)
    history = _history_per_wait_cycle(bench, bench.args.history_wait)  # restarts the stack: short pauses
    bench.stop_stack()
    projection = _extrapolate_30_days(history["events_per_cycle"], history["events_outside_cycles"])
    figures = {"in_process": store, "http": api, "resume_after_release": resume, "history": history,
               "projection_30_days": projection}

    def pct(s: dict[str, Any]) -> str:
        return f"{s['p50_ms']} / {s['p95_ms']}"

    calls = store["dynamodb_calls"]
    rows: list[tuple[str, Any, str]] = [
        ("claim set (100 objects, 2 types x 3 sequences)", f"{store['cells']} cells",
         f"({store['ranges_per_cell']['min']}–{store['ranges_per_cell']['max']} ranges per cell)"),
        ("in-process store.locks.create_meta: p50 / p95", pct(store["create_meta"]),
         f"ms ({calls['create_meta']:g} DynamoDB call)"),
        ("in-process store.locks.acquire: p50 / p95", pct(store["acquire"]),
         f"ms ({calls['acquire']:g} DynamoDB calls)"),
        ("in-process store.locks.release: p50 / p95", pct(store["release"]),
         f"ms ({calls['release']:g} DynamoDB calls)"),
        ("in-process acquire + release: p50 / p95", pct(store["acquire_release"]),
         f"ms (n = {iterations}, max {store['acquire_release']['max_ms']})"),
        ("POST /rest/v1/lås (2 types x 3 sequences): p50 / p95", pct(api["post"]),
         f"ms (n = {iterations}, max {api['post']['max_ms']})"),
        ("DELETE /rest/v1/lås/{id}: p50 / p95", pct(api["delete"]),
         f"ms (n = {iterations}, max {api['delete']['max_ms']})"),
        ("  of which in ApiFunction (median): POST / DELETE",
         f"{api['api_function_median_ms']['post']} / {api['api_function_median_ms']['delete']}", "ms"),
        ("lock removed → fremdrift leaves VENTER: p50 / p95", pct(resume["release_to_leaves_venter"]),
         f"ms (n = {runs}, max {resume['release_to_leaves_venter']['max_ms']})"),
        ("lock removed → UTFØRT_OG_ETTERBEHANDLET: p50 / p95", pct(resume["release_to_done"]),
         f"ms (n = {runs}, max {resume['release_to_done']['max_ms']})"),
    ]
    if resume["release_to_acquireLocks_step_started"]:
        rows.append(("  lock removed → acquireLocks step began (server)",
                     pct(resume["release_to_acquireLocks_step_started"]), "ms (p50 / p95)"))
    rows += [
        ("  DELETE round trip (releases + sends the task token)", pct(resume["delete_round_trip"]), "ms (p50 / p95)"),
        ("  fremdrift poll round trip (the resolution)", pct(resume["fremdrift_poll_round_trip"]),
         "ms (p50 / p95; 5 ms sleep between polls)"),
        ("  woken by the DELETE / parked before it (all runs)",
         f"{resume['woken_by_delete_all']} / {resume['parked_before_release_all']}",
         "(WAIT_FIRST_SECONDS=30: a timeout would take 30 s)"),
        ("Step Functions history: waited with 1 s pauses", history["waited_s"], "s"),
        ("  ParkForLocks cycles / events in the execution", f"{history['cycles']} / {history['events_total']}", ""),
        ("  events per wait cycle (moto)", history["events_per_cycle"], "events"),
        ("  events outside the wait cycles", history["events_outside_cycles"], "events"),
        (f"30 days waiting, defaults (first {projection['wait_first_seconds']} s, factor "
         f"{projection['wait_factor']:g}, max {projection['wait_max_seconds']} s): cycles",
         projection["cycles_30_days"], f"({projection['pauses_until_cap']} pauses before the cap)"),
        ("  history events after 30 days (projected)", projection["events_30_days"],
         f"events of the {STEP_FUNCTIONS_HISTORY_LIMIT:,} limit ({projection['share_of_limit']:.1%})"),
        ("  waiting that would reach the limit (projected)", projection["days_until_limit"],
         f"days ({projection['cycles_until_limit']:,} cycles, pauses capped at the max)"),
    ]
    if projection["backoff_overflow_attempt"]:
        rows.append(("  workflow._backoff raises OverflowError from attempt", projection["backoff_overflow_attempt"],
                     f"(after {projection['backoff_overflow_after_days']} days of waiting)"))
    print_table("Locks: store and HTTP latency, wake-up on release, Step Functions history per wait", rows)
    return figures


# ---------------------------------------------------------------------------------------------
# Section: e2e10k (a changeset above the Lambda payload limit; see docs/benchmarks.md)

E2E10K_BODY_LIMIT = 20_000_000
E2E10K_DEFAULT = False  # opt-in: see docs/benchmarks.md for its run time on 2 cores


def _vm_status(field_name: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field_name}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux ≥ 4.0: clear_refs 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def section_e2e10k(bench: Bench) -> dict[str, Any]:
    import resource

    from vegskriv.local import apigw

    n = bench.args.e2e10k_objects
    stack = bench.stack(env={"MAX_BODY_BYTES": str(E2E10K_BODY_LIMIT)})
    # The local API Gateway refuses bodies over 10 MiB like API Gateway REST does; lift that for
    # this run only (the module's constant, in this process; nothing on disk changes).
    original_limit = apigw.MAX_PAYLOAD_BYTES
    apigw.MAX_PAYLOAD_BYTES = E2E10K_BODY_LIMIT
    marks: dict[str, Any] = {}

    def mark() -> None:  # just before the register POST, after the body is built
        marks["t_register"] = time.time()
        marks["ru_maxrss_before_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        marks["rss_before_mb"] = _vm_status("VmRSS")
        marks["vmhwm_reset"] = _reset_peak_rss()

    try:
        figures, rows = run_e2e(bench, stack, n, before_register=mark)
    except RuntimeError as exc:  # e.g. not finished within --e2e-timeout: print what is known
        began = marks.get("t_register", 0.0)
        steps = sorted((c for c in bench.invocations.between(began, time.time())
                        if c["function"] == "WorkflowFunction"), key=lambda c: c["start"])
        rows = [("NOT FINISHED", f"after {time.time() - began:,.0f} s", str(exc)[:110])]
        rows += [(f"  step {c['what']} (finished)", round(c["end"] - c["start"], 3), "s") for c in steps]
        rows += [("peak RSS, ru_maxrss before → now (whole bench process)",
                  f"{marks.get('ru_maxrss_before_mb')} → "
                  f"{round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}", "MB"),
                 ("peak RSS since register (VmHWM reset at register)",
                  _vm_status("VmHWM") if marks.get("vmhwm_reset") else None, "MB")]
        print_table(f"End to end on the local stack: one changeset, {n:,} registrer objects — NOT FINISHED", rows)
        raise
    finally:
        apigw.MAX_PAYLOAD_BYTES = original_limit
    marks.pop("t_register", None)
    figures.update(marks)
    figures["ru_maxrss_after_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    figures["vmhwm_during_run_mb"] = _vm_status("VmHWM") if marks["vmhwm_reset"] else None
    figures["rss_after_mb"] = _vm_status("VmRSS")
    figures["max_body_bytes"] = E2E10K_BODY_LIMIT
    figures["lambda_sync_payload_limit_bytes"] = 6 * 1024 * 1024
    figures["api_gateway_rest_payload_limit_bytes"] = 10 * 1024 * 1024
    mb = figures["body_bytes"] / 1e6
    rows += [
        ("peak RSS, ru_maxrss before → after (whole bench process)",
         f"{figures['ru_maxrss_before_mb']} → {figures['ru_maxrss_after_mb']}", "MB"),
        ("peak RSS during the run (VmHWM reset at register)", figures["vmhwm_during_run_mb"],
         f"MB (RSS {figures['rss_before_mb']} MB at register, {figures['rss_after_mb']} MB after)"),
        ("NOTE: body above AWS limits", f"{mb:.1f} MB",
         "> 6 MB Lambda sync payload, > 10 MiB API Gateway REST; needs an S3 upload path (not built)"),
        ("  local stack run with", f"MAX_BODY_BYTES={E2E10K_BODY_LIMIT:,}",
         "and the local API Gateway's 10 MiB cap lifted"),
    ]
    print_table(f"End to end on the local stack: one changeset, {n:,} registrer objects "
                f"(above the AWS payload limits; local only)", rows)
    return figures


# ---------------------------------------------------------------------------------------------
# Section: imports

IMPORT_PROBE = """
import importlib, json, sys, time
sys.path.insert(0, {function_dir!r})
sys.path.insert(1, {layer!r})
began = time.perf_counter()
importlib.import_module("app")
elapsed = time.perf_counter() - began
print(json.dumps({{"seconds": elapsed, "modules": len(sys.modules)}}))
"""


def _function_environment(name: str) -> dict[str, str]:
    """The environment the template gives the function, plus what the Lambda runtime sets."""
    env = dict(os.environ)
    try:
        from vegskriv.local.template import Template

        specs = Template(ROOT / "template.yaml").functions().values()
        spec = next(s for s in specs if s.code_dir.resolve() == (ROOT / "functions" / name).resolve())
        env.update({k: str(v) for k, v in spec.environment.items()})
    except Exception as exc:  # the figures still mean something without the template's variables
        print(f"(imports: template environment for {name} not applied: {exc})", file=sys.stderr)
    env.update({"AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "eu-north-1"),
                "AWS_REGION": env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "eu-north-1")),
                "AWS_LAMBDA_FUNCTION_NAME": f"vegskriv-{name}", "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def section_imports(bench: Bench) -> dict[str, Any]:
    runs = bench.args.import_runs
    figures: dict[str, Any] = {"runs": runs}
    rows: list[tuple[str, Any, str]] = []
    for name in FUNCTIONS:
        code = IMPORT_PROBE.format(function_dir=str(ROOT / "functions" / name), layer=str(LAYER))
        env = _function_environment(name)
        samples, modules = [], 0
        for _ in range(runs):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                 cwd=str(ROOT / "functions" / name), check=False)
            if out.returncode != 0:
                break
            probe = json.loads(out.stdout.strip().splitlines()[-1])
            samples.append(probe["seconds"])
            modules = probe["modules"]
        if out.returncode != 0:  # report it and go on with the other functions
            last = (out.stderr.strip().splitlines() or ["?"])[-1]
            figures[name] = {"error": last}
            rows.append((f"functions/{name}/app.py", "FAILED", last[:100]))
            print(f"importing functions/{name}/app.py failed:\n{out.stderr[-2000:]}", file=sys.stderr)
            continue
        figures[name] = {"median_ms": round(statistics.median(samples) * 1000, 1),
                         "min_ms": round(min(samples) * 1000, 1), "max_ms": round(max(samples) * 1000, 1),
                         "modules_loaded": modules}
        rows.append((f"functions/{name}/app.py", figures[name]["median_ms"],
                     f"ms (median of {runs}; min {figures[name]['min_ms']}, max {figures[name]['max_ms']}; "
                     f"{modules} modules)"))
    print_table("Cold import of each function module (fresh interpreter, ≈ Lambda init)", rows)
    broken = [n for n in FUNCTIONS if "error" in figures[n]]
    if broken:
        raise RuntimeError(f"could not import: {', '.join(broken)} (figures for the others are above)")
    return figures


# ---------------------------------------------------------------------------------------------
# Section: validation (runs in a fresh interpreter started with --validation-child)

def _vmhwm_mb() -> float | None:
    """Peak resident set of this process image (Linux). Unlike ru_maxrss it is not inherited
    from the parent across fork+exec, so it stays clean when the bench process is already big."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def validation_child(n: int, repeat: int) -> dict[str, Any]:
    """Runs in its own process: build, parse, validate; print the figures as JSON."""
    import gc
    import resource
    import tracemalloc

    began = time.perf_counter()
    from vegskriv.catalog import default_catalog
    from vegskriv.models import Endringssett, parse_endringssett
    from vegskriv.network import Veglenkesekvens
    from vegskriv.validation import Context, validate

    import_s = time.perf_counter() - began
    began = time.perf_counter()
    catalog = default_catalog()
    catalog_s = time.perf_counter() - began
    network = {s["veglenkesekvensId"]: Veglenkesekvens.model_validate(s) for s in NETWORK}
    rss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    objects = build_objects(n)
    text = json.dumps(changeset(objects))
    del objects

    parse_runs, validate_runs = [], []
    doc = result = None
    for _ in range(repeat):
        doc = result = None
        began = time.perf_counter()
        doc = parse_endringssett(text)
        parse_runs.append(time.perf_counter() - began)
        began = time.perf_counter()
        result = validate(doc, Context(catalog=catalog, current_catalog_version=CATALOG_VERSION, network=network))
        validate_runs.append(time.perf_counter() - began)
    assert doc is not None and result is not None
    errors = sum(len(o.feil) for o in result.vegobjekter) + len(result.feil)
    warnings = sum(len(o.advarsler) for o in result.vegobjekter) + len(result.advarsler)
    rss_peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # read before the diagnostic passes
    vmhwm_mb = _vmhwm_mb()

    # Diagnostic: the same work with the cyclic garbage collector off (pydantic allocates ~100
    # objects per changeset object, so gen-2 collections keep traversing the growing document).
    doc = result = None
    gc.collect()
    gc.disable()
    try:
        began = time.perf_counter()
        doc = Endringssett.model_validate_json(text)
        parse_nogc_s = time.perf_counter() - began
        began = time.perf_counter()
        result = validate(doc, Context(catalog=catalog, current_catalog_version=CATALOG_VERSION, network=network))
        validate_nogc_s = time.perf_counter() - began
    finally:
        gc.enable()

    # A separate pass under tracemalloc (it slows Python down, so it is not timed).
    doc = result = None
    tracemalloc.start()
    doc = Endringssett.model_validate_json(text)
    _, parse_peak = tracemalloc.get_traced_memory()
    result = validate(doc, Context(catalog=catalog, current_catalog_version=CATALOG_VERSION, network=network))
    _, both_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    parse_s, validate_s = statistics.median(parse_runs), statistics.median(validate_runs)
    return {"objects": n, "repeat": repeat, "json_bytes": len(text.encode()),
            "import_s": round(import_s, 3), "catalog_load_s": round(catalog_s, 3),
            "parse_s": round(parse_s, 4), "validate_s": round(validate_s, 4),
            "parse_runs_s": [round(x, 4) for x in parse_runs],
            "validate_runs_s": [round(x, 4) for x in validate_runs],
            "parse_objects_per_s": round(n / parse_s, 1), "validate_objects_per_s": round(n / validate_s, 1),
            "both_objects_per_s": round(n / (parse_s + validate_s), 1),
            "errors": errors, "warnings": warnings,
            "gc_disabled": {"parse_s": round(parse_nogc_s, 4), "validate_s": round(validate_nogc_s, 4),
                            "both_objects_per_s": round(n / (parse_nogc_s + validate_nogc_s), 1)},
            "vmhwm_mb": vmhwm_mb,
            "ru_maxrss_mb_after_setup": round(rss_before_kb / 1024, 1),
            "ru_maxrss_mb_peak": round(rss_peak_kb / 1024, 1),
            "tracemalloc_peak_mb_parse": round(parse_peak / 2**20, 1),
            "tracemalloc_peak_mb_parse_and_validate": round(both_peak / 2**20, 1)}


def section_validation(bench: Bench) -> dict[str, Any]:
    n, repeat = bench.args.validation_objects, bench.args.validation_repeat
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--validation-child", str(n),
                          "--validation-repeat", str(repeat)], capture_output=True, text=True, check=False,
                         env={**os.environ, "POWERTOOLS_LOG_LEVEL": "ERROR"})
    if out.returncode != 0:
        raise RuntimeError(f"validation subprocess failed:\n{out.stderr[-3000:]}")
    f = json.loads(out.stdout.strip().splitlines()[-1])
    target = bench.args.target
    f["target_objects_per_s"] = target
    f["target_met"] = f["both_objects_per_s"] >= target
    if f["errors"]:
        print(f"WARNING: the generated changeset has {f['errors']} validation errors", file=sys.stderr)
    rows: list[tuple[str, Any, str]] = [
        ("objects", n, f"({f['json_bytes'] / 1e6:.1f} MB JSON; median of {repeat} runs)"),
        ("parse (parse_endringssett: JSON → models, GC paused)", f["parse_s"], "s"),
        ("  throughput", f["parse_objects_per_s"], "objects/s"),
        ("validate (vegskriv.validation.validate)", f["validate_s"], "s"),
        ("  throughput", f["validate_objects_per_s"], "objects/s"),
        ("parse + validate", round(f["parse_s"] + f["validate_s"], 4), "s"),
        ("  throughput", f["both_objects_per_s"], "objects/s"),
        (f"  target ≥ {target:,} objects/s", "MET" if f["target_met"] else "NOT MET", ""),
        ("validation errors / warnings in result", f"{f['errors']} / {f['warnings']}", ""),
        ("catalog load (default_catalog, once)", f["catalog_load_s"], "s"),
        ("diagnostic: parse + validate with gc disabled", round(f["gc_disabled"]["parse_s"]
                                                                + f["gc_disabled"]["validate_s"], 4),
         f"s ({f['gc_disabled']['both_objects_per_s']:,} objects/s; parse {f['gc_disabled']['parse_s']} s)"),
        ("peak RSS (ru_maxrss), whole process", f["ru_maxrss_mb_peak"], "MB"),
        ("  ru_maxrss after imports + catalog", f["ru_maxrss_mb_after_setup"], "MB"),
        ("peak RSS (VmHWM, this process image only)", f["vmhwm_mb"], "MB"),
        ("tracemalloc peak, parse", f["tracemalloc_peak_mb_parse"], "MB"),
        ("tracemalloc peak, parse + validate", f["tracemalloc_peak_mb_parse_and_validate"], "MB"),
    ]
    print_table(f"Validation without AWS ({n:,} objects, fresh interpreter)", rows)
    return f


# ---------------------------------------------------------------------------------------------
# Sections and main

@dataclass(frozen=True)
class Section:
    name: str
    title: str
    run: Callable[[Bench], dict[str, Any]]
    needs_stack: bool = False
    default: bool = True  # False: runs only when named with --only


# Run in this order. The subprocess sections come first: a child's ru_maxrss starts from the
# parent's size on Linux, and the parent is small only until the local stack has been loaded.
SECTIONS: list[Section] = [
    Section("validation", "parse + validate throughput without AWS", section_validation),
    Section("imports", "cold import of each function module", section_imports),
    Section("e2e", "end to end on the local stack", section_e2e, needs_stack=True),
    Section("latency", "register / fremdrift latency", section_latency, needs_stack=True),
    Section("locks", "lock latency, wake-up on release, history per wait", section_locks, needs_stack=True),
    Section("e2e10k", "10,000 objects end to end (above the AWS payload limits)", section_e2e10k,
            needs_stack=True, default=E2E10K_DEFAULT),
]


def _git_state() -> dict[str, Any]:
    """The commit measured, and whether the working tree differed from it (figures depend on it)."""
    def git(*cmd: str) -> str:
        out = subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True, check=False)
        return out.stdout.strip() if out.returncode == 0 else ""

    changed = [line[3:] for line in git("status", "--porcelain").splitlines() if line.strip()]
    return {"commit": git("rev-parse", "--short", "HEAD") or None, "changed_files": len(changed)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    names = [s.name for s in SECTIONS]
    shown = [s.name if s.default else f"{s.name} (opt-in)" for s in SECTIONS]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--only", action="append", choices=names, metavar="SECTION",
                   help=f"run only this section (repeatable): {', '.join(shown)}")
    p.add_argument("--objects", type=int, default=1000, help="objects in the end-to-end changeset")
    p.add_argument("--validation-objects", type=int, default=10_000, help="objects in the validation changeset")
    p.add_argument("--validation-repeat", type=int, default=3, help="timed parse+validate runs (median)")
    p.add_argument("--register-requests", type=int, default=200)
    p.add_argument("--fremdrift-requests", type=int, default=500)
    p.add_argument("--import-runs", type=int, default=5)
    p.add_argument("--poll-interval", type=float, default=0.1, help="seconds between fremdrift polls (e2e)")
    p.add_argument("--e2e-timeout", type=float, default=600)
    p.add_argument("--lock-iterations", type=int, default=200, help="acquire/release and POST/DELETE rounds")
    p.add_argument("--resume-runs", type=int, default=10, help="lock removed → changeset resumes, repetitions")
    p.add_argument("--history-wait", type=float, default=6.0,
                   help="seconds a changeset waits with 1 s pauses before its history is counted")
    p.add_argument("--e2e10k-objects", type=int, default=10_000, help="objects in the e2e10k changeset")
    p.add_argument("--target", type=int, default=5000, help="parse+validate objects/s target")
    p.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    p.add_argument("--validation-child", type=int, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.validation_child is not None:
        print(json.dumps(validation_child(args.validation_child, args.validation_repeat)))
        return 0
    import logging

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("vegskriv_local").setLevel(logging.ERROR)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")

    chosen = [s for s in SECTIONS if (s.name in args.only if args.only else s.default)]
    bench = Bench(args)
    meta = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "python": platform.python_version(),
            "platform": platform.platform(), "cpus": os.cpu_count(), "sections": [s.name for s in chosen],
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                     if k != "validation_child"}}
    meta["git"] = _git_state()
    meta["loadavg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    print(f"vegskriv bench — {meta['date']} — Python {meta['python']} — {meta['cpus']} CPUs — {meta['platform']}"
          f" — git {meta['git']['commit']} (+{meta['git']['changed_files']} changed files)"
          f" — load average {meta['loadavg_at_start'][0]}")
    began = time.perf_counter()
    sections: dict[str, Any] = {}
    failed: list[str] = []
    try:
        for i, section in enumerate(chosen):
            try:
                sections[section.name] = section.run(bench)
            except Exception as exc:  # one broken section must not hide the others' figures
                failed.append(section.name)
                sections[section.name] = {"error": f"{type(exc).__name__}: {exc}"}
                print(f"\n{section.title}: FAILED\n{type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            if not any(s.needs_stack for s in chosen[i + 1:]):
                bench.stop_stack()  # nothing left needs it: free the CPU for the subprocess sections
    finally:
        bench.stop_stack()
    meta["total_s"] = round(time.perf_counter() - began, 1)
    print(f"\ntotal bench time {meta['total_s']} s")
    if args.json:
        payload = {"meta": meta, "stack": bench.results.get("stack", {}), "sections": sections}
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")
    if failed:
        print(f"failed sections: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
