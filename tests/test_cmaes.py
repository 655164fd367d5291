"""CMA-ES through pycma (evorobot/evolution/cmaes.py): convergence, parity with pycma's own runs,
the separable mode, resume by replay, and that numpy's global random state is never touched.

Measured when written (population 16, sigma0 0.3, mean starting at 0): the 10-D sphere centred on
0.3 reaches f < 1e-6 in 1088-1232 evaluations (budget 2000); the 10-D Rosenbrock rosen(x / 0.5)
in ~5000-6000, like pycma's own runs (budget 2x pycma's); the 200-gene sphere in diagonal mode
in ~14,300 (budget 20,000).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from evorobot.errors import ChampionFileError
from evorobot.evolution.base import GenomeLayout
from evorobot.evolution.cmaes import CMAES, CMAESSpec, _cma, cma_costs
from evorobot.spec import parse
from evorobot.store import npz_bytes, npz_from_bytes


def build(seed: int, genes: int = 10, **settings: Any) -> CMAES:
    spec = parse(CMAESSpec, settings, "test [optimizer]")
    return CMAES(spec, GenomeLayout(genes), np.random.SeedSequence(seed), "test")


def sphere(x: np.ndarray) -> np.ndarray:
    return np.sum((np.atleast_2d(x) - 0.3) ** 2, axis=1)


def rosenbrock(x: np.ndarray) -> np.ndarray:
    """Rosenbrock's function of ``x / 0.5``: its optimum, 0 at x = 0.5, lies inside the box."""
    y = np.atleast_2d(x) / 0.5
    return np.sum(100.0 * (y[:, 1:] - y[:, :-1] ** 2) ** 2 + (1.0 - y[:, :-1]) ** 2, axis=1)


def evaluations_to(opt: CMAES, f: Any, target: float, budget: int) -> int:
    """Evaluations until the best asked genome has ``f < target`` (minimised), or ``budget + 1``."""
    used = 0
    while used < budget:
        values = f(opt.ask())
        opt.tell(-values)
        used += len(values)
        if values.min() < target:
            return used
    return budget + 1


def pycma_evaluations_to(seed: int, f: Any, target: float, budget: int) -> int:
    """The same with pycma used directly, same settings, its own seed (global state restored)."""
    saved = np.random.get_state()
    try:
        es = _cma().CMAEvolutionStrategy(np.zeros(10), 0.3, {
            "popsize": 16, "bounds": [-1.0, 1.0], "seed": seed, "verbose": -9, "verb_log": 0, "verb_disp": 0})
        used = 0
        while used < budget:
            x = es.ask()
            values = f(np.array(x))
            es.tell(x, list(values))
            used += len(values)
            if values.min() < target:
                return used
        return budget + 1
    finally:
        np.random.set_state(saved)


def round_trip(opt: CMAES) -> dict[str, Any]:
    state = opt.state_dict()
    arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
    meta = json.loads(json.dumps({k: v for k, v in state.items() if k not in arrays}, allow_nan=False))
    return {**meta, **npz_from_bytes(npz_bytes(arrays), "test")}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sphere_10d_within_2000_evaluations(seed: int) -> None:
    assert evaluations_to(build(seed), sphere, 1e-6, 2000) <= 2000


def test_rosenbrock_10d_costs_at_most_twice_pycmas_own_runs() -> None:
    ours = [evaluations_to(build(seed), rosenbrock, 1e-6, 20000) for seed in (1, 2, 3)]
    theirs = [pycma_evaluations_to(seed, rosenbrock, 1e-6, 20000) for seed in (1, 2, 3)]
    assert max(ours) <= 20000 and max(theirs) <= 20000, (ours, theirs)
    assert np.mean(ours) <= 2 * np.mean(theirs), (ours, theirs)


def test_diagonal_mode_solves_a_200_gene_sphere() -> None:
    opt = build(0, genes=200, diagonal=True)
    assert opt.es.opts["CMA_diagonal"] is True and type(opt.es.sm).__name__ != "GaussFullSampler"
    assert evaluations_to(opt, sphere, 1e-6, 20000) <= 20000


def test_numpys_global_random_state_is_never_touched() -> None:
    np.random.seed(12345)
    before = np.random.get_state()
    opt = build(3, initial_mean="uniform")
    for _ in range(15):
        opt.tell(-sphere(opt.ask()))
    opt.ask()
    CMAES.from_state_dict(opt.spec, opt.layout, round_trip(opt), "test")
    after = np.random.get_state()
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:]


def run(opt: CMAES, generations: int) -> list[np.ndarray]:
    asked = []
    for _ in range(generations):
        g = opt.ask()
        f = -sphere(g)
        f[::5] = np.nan  # failures are part of the history
        asked.append(g)
        opt.tell(f)
    return asked


@pytest.mark.parametrize("when", ["after_tell", "after_ask"])
@pytest.mark.parametrize("diagonal", [False, True])
def test_resume_by_replay_equals_the_uninterrupted_run_bitwise(when: str, diagonal: bool) -> None:
    seeds = np.random.default_rng(0).uniform(-0.5, 0.5, (16, 10))
    ref = build(5, diagonal=diagonal)
    ref.seed_population(seeds)
    expected = run(ref, 30)
    opt = build(5, diagonal=diagonal)
    opt.seed_population(seeds)
    run(opt, 15)
    if when == "after_ask":
        opt.ask()
    restored = CMAES.from_state_dict(opt.spec, opt.layout, round_trip(opt), "test")
    assert restored.generation == 15
    for want, got in zip(expected[15:], run(restored, 15)):
        np.testing.assert_array_equal(want, got)
    assert np.array_equal(restored.es.mean, ref.es.mean) and restored.es.sigma == ref.es.sigma


def test_a_tampered_fitness_history_is_refused() -> None:
    opt = build(7)
    run(opt, 10)
    state = round_trip(opt)
    CMAES.from_state_dict(opt.spec, opt.layout, state, "test")  # untouched: accepted
    tampered = state["fitness"].copy()
    tampered[3] = tampered[3][::-1]  # another ranking in generation 3
    with pytest.raises(ChampionFileError, match="does not reproduce"):
        CMAES.from_state_dict(opt.spec, opt.layout, {**state, "fitness": tampered}, "test")
    with pytest.raises(ChampionFileError, match="shape"):
        CMAES.from_state_dict(opt.spec, opt.layout, {**state, "fitness": tampered[:-1]}, "test")
    with pytest.raises(ChampionFileError, match="start_rng"):
        CMAES.from_state_dict(opt.spec, opt.layout, {**state, "start_rng": {"bit_generator": "PCG64"}}, "test")


def test_failures_are_told_to_pycma_as_worse_than_every_finite_cost() -> None:
    costs = cma_costs(np.array([1.0, np.nan, -3.0, np.inf, 2.0]))
    assert costs[0] == -1.0 and costs[2] == 3.0 and costs[4] == -2.0
    assert costs[1] > 3.0 and costs[3] > 3.0 and all(np.isfinite(costs))
    assert cma_costs(np.full(3, np.nan)) == [0.0, 0.0, 0.0]
