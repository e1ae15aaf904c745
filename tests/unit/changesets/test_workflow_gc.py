"""Workflow steps run with the cyclic collector paused (their decoded versions are not garbage)."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from vegskriv.changesets import workflow


class Stop(Exception):
    pass


class Recorder:
    """Stands in for the changesets store: notes whether the collector ran, then stops the step."""

    def __init__(self) -> None:
        self.seen: list[bool] = []

    def __getattr__(self, name: str) -> Any:
        def call(*_: Any, **__: Any) -> Any:
            self.seen.append(gc.isenabled())
            raise Stop(name)
        return call


def test_every_step_runs_with_the_collector_paused_and_turns_it_back_on(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    monkeypatch.setattr(workflow, "changesets", recorder)
    assert gc.isenabled()
    for name, step in workflow.STEPS.items():
        with pytest.raises(Stop):
            step("cs-gc", taskToken="t")
        assert gc.isenabled(), name
    assert len(recorder.seen) == len(workflow.STEPS) and not any(recorder.seen), recorder.seen
