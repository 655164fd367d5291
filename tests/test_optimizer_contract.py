"""The optimizer contract (evorobot/evolution/base.py), checked for every registered optimizer.

Each type is built from its default settings (population 12) on a 10-gene layout whose genes are
grouped as three neurons and a rest, the way :func:`evorobot.setup` would pass a controller's
groups. New registry entries are covered automatically. The runs on a world (2 workers == serial,
resume == uninterrupted) are in ``test_optimizer_runs.py``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from evorobot.errors import ChampionFileError, ConfigError
from evorobot.evolution import OPTIMIZERS
from evorobot.evolution.base import GenerationStats, GenomeLayout, Optimizer, OptimizerUsageError
from evorobot.seeding import optimizer_seed
from evorobot.spec import parse
from evorobot.store import npz_bytes, npz_from_bytes

NAMES = sorted(OPTIMIZERS)
G, P = 10, 12
GROUPS = (np.array([0, 1, 2]), np.array([3, 4, 5]), np.array([6, 7, 8]), np.array([9]))
LAYOUT = GenomeLayout(G, GROUPS)


def spec(name: str, **settings: Any) -> Any:
    cls = OPTIMIZERS[name]
    return parse(cls.Spec, {"population": P, **settings}, f"test [{name}]")


def build(name: str, seed: int = 1, layout: GenomeLayout = LAYOUT) -> Optimizer:
    return OPTIMIZERS[name](spec(name), layout, optimizer_seed(seed), f"test [{name}]")


def objective(genomes: np.ndarray) -> np.ndarray:
    """A shifted sphere (maximised), so that every optimizer has somewhere to go."""
    return -np.sum((genomes - 0.3) ** 2, axis=1)


def run(opt: Optimizer, generations: int, fail_every: int = 0) -> list[np.ndarray]:
    """ask/tell ``generations`` times; every ``fail_every``-th individual fails (NaN)."""
    asked = []
    for _ in range(generations):
        g = opt.ask()
        f = objective(g)
        if fail_every:
            f[::fail_every] = np.nan
        asked.append(g)
        opt.tell(f)
    return asked


def round_trip(opt: Optimizer) -> dict[str, Any]:
    """The state as a checkpoint stores it: arrays through NPZ, the rest through strict JSON."""
    state = opt.state_dict()
    arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
    meta = json.loads(json.dumps({k: v for k, v in state.items() if k not in arrays}, allow_nan=False))
    return {**meta, **npz_from_bytes(npz_bytes(arrays), "test")}


@pytest.mark.parametrize("name", NAMES)
def test_registry_entry_has_the_contract(name: str) -> None:
    cls = OPTIMIZERS[name]
    assert issubclass(cls, Optimizer) and cls.name == name
    assert "population" in {f for f in cls.Spec.__dataclass_fields__}, "--population needs a `population` setting"
    doc = __import__(cls.__module__, fromlist=["_"]).__doc__ or ""
    assert "References" in doc or "(19" in doc or "(20" in doc, "the module docstring cites its paper"


@pytest.mark.parametrize("name", NAMES)
def test_genes_stay_in_bounds_and_ask_is_stable_until_tell(name: str) -> None:
    opt = build(name)
    assert opt.population_size == P and opt.genome_size == G
    for asked in run(opt, 15, fail_every=5):
        assert asked.shape == (P, G)
        assert np.all(np.isfinite(asked)) and np.all(np.abs(asked) <= 1.0)
    a, b = opt.ask(), opt.ask()
    np.testing.assert_array_equal(a, b)
    a[:] = 5.0  # a copy: the caller cannot corrupt the optimizer
    assert np.all(np.abs(opt.ask()) <= 1.0)


@pytest.mark.parametrize("name", NAMES)
def test_tell_before_ask_or_with_the_wrong_length_is_a_clear_error(name: str) -> None:
    opt = build(name)
    with pytest.raises(OptimizerUsageError, match="before ask"):
        opt.tell(np.zeros(P))
    opt.ask()
    with pytest.raises(OptimizerUsageError, match=f"needs {P} fitness values"):
        opt.tell(np.zeros(P - 1))
    stats = opt.tell(np.arange(P, dtype=float))
    assert isinstance(stats, GenerationStats) and stats.best_index == P - 1 and stats.best == P - 1
    assert opt.generation == 1


@pytest.mark.parametrize("name", NAMES)
def test_stats_count_failures_and_a_generation_of_failures_survives(name: str) -> None:
    opt = build(name)
    opt.ask()
    stats = opt.tell(np.full(P, np.nan))
    assert stats.failed == P and stats.best_index == -1 and np.isnan(stats.best)
    g = opt.ask()
    assert np.all(np.abs(g) <= 1.0)
    f = objective(g)
    f[0], f[1] = np.inf, -np.inf
    stats = opt.tell(f)
    assert stats.failed == 2 and stats.best_index not in (0, 1)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_run_other_seed_other_run(name: str) -> None:
    a, b, c = build(name, 3), build(name, 3), build(name, 4)
    ra, rb, rc = run(a, 5), run(b, 5), run(c, 5)
    for x, y in zip(ra, rb):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(ra[-1], rc[-1])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("when", ["after_tell", "after_ask"])
def test_state_round_trips_through_json_and_npz_and_resumes_bitwise(name: str, when: str) -> None:
    ref = build(name)
    expected = run(ref, 8, fail_every=4)
    opt = build(name)
    run(opt, 4, fail_every=4)
    if when == "after_ask":
        opt.ask()
    restored = OPTIMIZERS[name].from_state_dict(spec(name), LAYOUT, round_trip(opt), "test")
    assert restored.generation == 4
    for want, got in zip(expected[4:], run(restored, 4, fail_every=4)):
        np.testing.assert_array_equal(want, got)


@pytest.mark.parametrize("name", NAMES)
def test_a_state_that_does_not_fit_is_refused(name: str) -> None:
    state = round_trip(build(name))
    cls = OPTIMIZERS[name]
    other = GenomeLayout(G + 3, (np.arange(G + 3),))
    with pytest.raises(ChampionFileError):
        cls.from_state_dict(spec(name), other, state, "test")
    with pytest.raises(ChampionFileError):
        cls.from_state_dict(spec(name), LAYOUT, {**state, "rng_state": {"bit_generator": "MT19937"}}, "test")
    with pytest.raises(ChampionFileError):
        cls.from_state_dict(spec(name), LAYOUT, {**state, "generation": -1}, "test")


@pytest.mark.parametrize("name", NAMES)
def test_seed_population_starts_from_the_given_genomes(name: str) -> None:
    seeds = np.random.default_rng(0).uniform(0.2, 0.4, (P, G))
    opt = build(name)
    opt.seed_population(seeds)
    first = opt.ask()
    assert np.all(np.abs(first) <= 1.0)
    # population-based types ask the genomes themselves; distribution-based ones sample around
    # their mean (0.3): either way the first generation sits near the seeds, far from uniform.
    assert abs(first.mean() - 0.3) < 0.15
    with pytest.raises(OptimizerUsageError):
        opt.seed_population(seeds[:-1])
    opt.tell(objective(first))
    with pytest.raises(OptimizerUsageError, match="after the first tell"):
        opt.seed_population(seeds)


@pytest.mark.parametrize("name", NAMES)
def test_improves_on_a_shifted_sphere(name: str) -> None:
    opt = build(name)
    first = objective(opt.ask()).max()
    run(opt, 60)
    best = objective(opt.ask()).max()
    assert best > first / 2, f"best {best} did not halve the first generation's distance {first}"


@pytest.mark.parametrize("name", NAMES)
def test_bad_settings_name_the_table_key_and_value(name: str) -> None:
    cls = OPTIMIZERS[name]
    with pytest.raises(ConfigError, match=r"w\.toml \[optimizer\]: `population` must be"):
        parse(cls.Spec, {"population": 0}, "w.toml [optimizer]")
    with pytest.raises(ConfigError, match=r"unknown key `populaton`"):
        parse(cls.Spec, {"populaton": 5}, "w.toml [optimizer]")
