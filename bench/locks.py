"""Section ``locks``: ``store.locks`` acquire/release in-process and ``POST``/``DELETE /rest/v1/lås``
latency; lock removed → waiting changeset resumes; Step Functions history events per wait cycle
and a 30-day projection against the 25,000-event limit (own stacks: ``WAIT_FIRST_SECONDS=30``,
then 1-second pauses)."""

from __future__ import annotations

import itertools
import json
import statistics
import time
import uuid
from typing import Any

from bench.billing import execution_history
from bench.objects import build_objects, changeset, type_counts
from bench.output import Rows, latency_summary, print_table
from bench.stack import TERMINAL, Bench, Client
from tests.support.client import KUM, kum

LOCK_SEQUENCE = KUM["stedfesting"]["punkt"][0]["veglenkesekvensNvdbId"]  # on the stack's sample network
STEP_FUNCTIONS_HISTORY_LIMIT = 25_000  # events per execution (AWS Step Functions quota, standard)
THIRTY_DAYS_S = 30 * 24 * 3600


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


def _wait_for(client: Client, changeset_id: str, states: set[str], timeout: float) -> str:
    state = client.wait(changeset_id, until=states, timeout=timeout)
    if state not in states:
        raise RuntimeError(f"{changeset_id} still {state} after {timeout} s (waited for {sorted(states)})")
    return state


def _blocked_changeset(user: Client, temp_id: str) -> str:
    """Register and start a 1-object kum changeset on LOCK_SEQUENCE; return once it is VENTER."""
    changeset_id = user.register_text(json.dumps(changeset([kum(temp_id)])))
    user.start_ok(changeset_id)
    _wait_for(user, changeset_id, {"VENTER"} | TERMINAL, timeout=30)
    reason = user.request("GET", f"/rest/v3/endringssett/{changeset_id}/fremdriftOgÅrsak").text
    if reason != "VENTER:VENTER_PÅ_LÅS":
        raise RuntimeError(f"{changeset_id} is {reason}, expected VENTER:VENTER_PÅ_LÅS")
    return changeset_id


def _lock_store_latency(bench: Bench, iterations: int) -> dict[str, Any]:
    """create_meta / acquire / release of store.locks called in-process (as the workflow does)."""
    from vegskriv.changesets.locks import changeset_claims
    from vegskriv.changesets.models import parse_endringssett
    from vegskriv.settings import get_settings
    from vegskriv.store import locks as lock_store

    objects = _three_sequence_objects(100)
    claims = changeset_claims(parse_endringssett(json.dumps(changeset(objects))), {})
    lease = get_settings().lock_lease_seconds
    where = ("bench", "store.locks")

    def calls() -> int:
        return bench.counter.requests_in(where, "dynamodb")

    samples: dict[str, list[float]] = {"create_meta": [], "acquire": [], "release": [], "acquire_release": []}
    per_op_calls: dict[str, list[int]] = {"create_meta": [], "acquire": [], "release": []}
    with bench.counter.attributed_to(*where):
        for i in range(5 + iterations):  # 5 warm-up rounds, not counted
            lock_id = f"bench-{uuid.uuid4()}"
            c0 = calls()
            t0 = time.perf_counter()
            lock_store.create_meta(lock_id, eier="benchlocks", kind="ENDRINGSSETT", claims=claims,
                                   lease_seconds=lease, endringssett_id=lock_id)
            t1, c1 = time.perf_counter(), calls()
            outcome = lock_store.acquire(lock_id, claims, lease)
            t2, c2 = time.perf_counter(), calls()
            lock_store.release(lock_id)
            t3, c3 = time.perf_counter(), calls()
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
    history = execution_history(stack, changeset_id)

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
    own backoff (vegskriv.changesets.workflow._backoff) evaluated with Settings() defaults."""
    import vegskriv.changesets.workflow as workflow
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
    rows: Rows = [
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


