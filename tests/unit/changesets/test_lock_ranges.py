"""Lock ranges: coalesced claims and the sweep that compares two of them."""

from __future__ import annotations

import random

from vegskriv.changesets.locks import NORMAL, SECONDARY, Claim, NyLås, coalesce, conflicts, external_claims, overlapping


def pairwise(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> bool:
    return any(fa <= tb and fb <= ta for fa, ta in a for fb, tb in b)


def test_the_sweep_agrees_with_comparing_every_pair() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        def ranges() -> list[tuple[float, float]]:
            out = []
            for _ in range(rng.randint(0, 8)):
                fra = rng.choice([0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, rng.random()])
                out.append((fra, fra if rng.random() < 0.4 else min(1.0, fra + rng.random() / 3)))
            return out
        a, b = ranges(), ranges()
        assert overlapping(a, b) == pairwise(a, b), (a, b)


def test_coalesced_ranges_cover_the_same_points_once() -> None:
    assert coalesce([(0.5, 0.5), (0.1, 0.3), (0.3, 0.4), (0.2, 0.25), (0.5, 0.5), (0.9, 1.0)]) == \
        [(0.1, 0.4), (0.5, 0.5), (0.9, 1.0)]


def test_touching_closed_intervals_conflict_but_secondary_pairs_do_not() -> None:
    line = Claim(kind=NORMAL, ranges=[(0.1, 0.3)])
    assert conflicts(line, Claim(kind=NORMAL, ranges=[(0.3, 0.3)]))
    assert not conflicts(line, Claim(kind=NORMAL, ranges=[(0.30001, 0.5)]))
    assert not conflicts(Claim(kind=SECONDARY, ranges=[(0.1, 0.3)]), Claim(kind=SECONDARY, ranges=[(0.2, 0.2)]))


def test_an_external_lock_over_overlapping_stretches_is_held_as_one_range() -> None:
    request = NyLås.model_validate({"vegobjekttyper": [{"typeId": 83}], "stedfesting": [
        {"veglenkesekvensNvdbId": 7, "fra": 0.2, "til": 0.6}, {"veglenkesekvensNvdbId": 7, "fra": 0.1, "til": 0.3},
        {"veglenkesekvensNvdbId": 8, "fra": 0.5, "til": 0.5}]})
    claims = external_claims(request)
    assert claims[(83, 7)].ranges == [(0.1, 0.6)]
    assert claims[(83, 8)].ranges == [(0.5, 0.5)]
