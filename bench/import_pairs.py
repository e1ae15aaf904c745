"""``--imports-against REV``: the api's cold import from a worktree of REV and from this tree, in
same-minute pairs (each pair in random order), so that a change is measured against what it changed
on a machine whose speed drifts from minute to minute. The pairwise ratio's median is the figure;
both trees are compiled first, as the built layer is."""

from __future__ import annotations

import json
import random
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.imports import IMPORT_PROBE
from bench.paths import ROOT


def paired_imports(rev: str, command: list[str], dependencies: list[str],
                   environment: Callable[[Path], dict[str, str]], pairs: int) -> dict[str, Any]:
    """``command``: the interpreter as the bench starts it; ``dependencies``: what goes on ``sys.path``
    after a tree's function folder and package; ``environment(root)``: the function's environment
    as that tree's template and ``events/env.local.json`` give it."""
    scratch = Path(tempfile.mkdtemp(prefix="vegskriv-against-"))
    before = scratch / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", "--force", str(before), rev], cwd=ROOT, check=True,
                   capture_output=True, text=True)
    try:
        trees = {"before": before, "now": ROOT}
        for tree in trees.values():
            subprocess.run([command[0], "-m", "compileall", "-q", str(tree / "layers" / "vegskriv" / "vegskriv"),
                            str(tree / "functions" / "api")], check=True, capture_output=True)
        environments = {name: environment(tree) for name, tree in trees.items()}
        seconds: dict[str, list[float]] = {name: [] for name in trees}
        for _ in range(pairs):
            for name in random.sample(sorted(trees), len(trees)):
                tree = trees[name]
                code = IMPORT_PROBE.format(paths=[str(tree / "functions" / "api"), str(tree / "layers" / "vegskriv"),
                                           *dependencies])
                out = subprocess.run([*command, "-c", code], cwd=tree / "functions" / "api", env=environments[name],
                                     capture_output=True, text=True, check=False)
                if out.returncode != 0:
                    raise RuntimeError(f"importing the api ({name}, {rev}) failed:\n{out.stderr[-2000:]}")
                seconds[name].append(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    figures: dict[str, Any] = {"rev": rev, "pairs": pairs}
    for name, samples in seconds.items():
        figures[f"{name}_median_ms"] = round(statistics.median(samples) * 1000, 1)
        figures[f"{name}_min_ms"] = round(min(samples) * 1000, 1)
    figures["ratio"] = round(statistics.median(n / b for n, b in zip(seconds["now"], seconds["before"],
                                                                      strict=True)), 3)
    return figures
