"""Beer's GA: operators (rank expectations, SUS, mutation, crossover), the GA loop, checkpoints."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from evorobot.errors import ChampionFileError, ConfigError, UnknownNameError
from evorobot.evolution import OPTIMIZERS, get_optimizer
from evorobot.evolution.base import GenerationStats, GenomeLayout, OptimizerUsageError
from evorobot.evolution.ga import GA, GASpec
from evorobot.evolution.operators import (
    linear_rank_expectations,
    mutate,
    stochastic_universal_sampling,
    two_point_crossover,
)
from evorobot.spec import parse

# ---------------------------------------------------------------- operators


@pytest.mark.parametrize("n", [2, 5, 96])
def test_linear_rank_expectations(n: int) -> None:
    e = linear_rank_expectations(n, 1.1)
    assert e.shape == (n,)
    assert e[0] == pytest.approx(1.1)
    assert e[-1] == pytest.approx(0.9)
    assert np.allclose(np.diff(e), (0.9 - 1.1) / (n - 1))
    assert e.sum() == pytest.approx(n)


def test_linear_rank_expectations_extremes() -> None:
    assert np.allclose(linear_rank_expectations(4, 1.0), 1.0)
    assert np.allclose(linear_rank_expectations(3, 2.0), [2.0, 1.0, 0.0])
    assert np.array_equal(linear_rank_expectations(1, 1.5), [1.0])


def test_sus_counts_are_floor_or_ceil() -> None:
    rng = np.random.default_rng(1)
    for trial in range(300):
        n = int(rng.integers(1, 30))
        n_select = int(rng.integers(1, 60))
        weights = rng.random(n) * (rng.random(n) < 0.8)  # some zero expectations
        if weights.sum() == 0:
            weights[0] = 1.0
        if trial % 2:  # weights need not be pre-scaled to n_select
            weights *= n_select / weights.sum()
        idx = stochastic_universal_sampling(weights, n_select, rng)
        assert idx.shape == (n_select,)
        assert np.all(np.diff(idx) >= 0)
        counts = np.bincount(idx, minlength=n)
        expected = n_select * weights / weights.sum()
        assert np.all(counts >= np.floor(expected - 1e-9))
        assert np.all(counts <= np.ceil(expected + 1e-9))
        assert np.all(counts[weights == 0] == 0)


def test_sus_is_unbiased() -> None:
    rng = np.random.default_rng(2)
    e = np.array([0.3, 1.7, 0.5, 2.5])
    draws = [stochastic_universal_sampling(e, 5, rng) for _ in range(4000)]
    counts = np.bincount(np.concatenate(draws), minlength=4)
    assert np.allclose(counts / 4000, e, atol=0.03)


def test_sus_rejects_bad_input() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        stochastic_universal_sampling(np.array([1.0, -0.5]), 2, rng)
    with pytest.raises(ValueError):
        stochastic_universal_sampling(np.zeros(3), 2, rng)
    assert stochastic_universal_sampling(np.ones(3), 0, rng).shape == (0,)


def test_mutation_step_norm_direction_and_variance() -> None:
    rng = np.random.default_rng(3)
    n, g, variance = 20000, 5, 0.01
    parents = np.zeros((n, g))
    children = mutate(parents, variance, rng)
    assert np.all(parents == 0.0), "mutate must not modify its input"
    assert np.all(np.abs(children) < 1.0), "this test needs unclipped steps"
    step = children - parents
    m = np.linalg.norm(step, axis=1)  # |m|: the step is m times a unit vector
    directions = step / m[:, None]
    assert np.abs(directions.mean(axis=0)).max() < 0.03  # uniform on the sphere: mean 0
    assert np.allclose((directions**2).mean(axis=0), 1 / g, atol=0.01)  # no favoured axis
    assert (m**2).mean() == pytest.approx(variance, rel=0.05)  # E[m^2] = variance (not s.d.)


def test_mutation_moves_every_row_by_one_gaussian_step() -> None:
    rng = np.random.default_rng(4)
    parents = rng.uniform(-0.5, 0.5, (8, 3))
    a = mutate(parents, 1e-4, np.random.default_rng(9))
    b = mutate(parents, 1e-4, np.random.default_rng(9))
    assert np.array_equal(a, b)
    assert np.all(np.any(a != parents, axis=1))


def test_mutation_clips_to_gene_range() -> None:
    rng = np.random.default_rng(5)
    children = mutate(np.full((500, 4), 0.99), 25.0, rng)
    assert children.min() >= -1.0 and children.max() <= 1.0
    assert np.any(children == 1.0) and np.any(children == -1.0)


def test_two_point_crossover_swaps_one_block() -> None:
    rng = np.random.default_rng(6)
    a, b = np.arange(10.0), -np.arange(1.0, 11.0)
    seen = set()
    for _ in range(200):
        ca, cb = two_point_crossover(a, b, rng)
        swapped = np.flatnonzero(ca != a)
        assert np.array_equal(ca[swapped], b[swapped]) and np.array_equal(cb[swapped], a[swapped])
        kept = np.setdiff1d(np.arange(10), swapped)
        assert np.array_equal(cb[kept], b[kept])
        assert swapped.size > 0 and np.all(np.diff(swapped) == 1)  # one contiguous block
        seen.add((int(swapped[0]), int(swapped[-1])))
    assert len(seen) > 20
    ca, _ = two_point_crossover(a, b, rng, cuts=np.array([0, 4, 10]))
    swapped = np.flatnonzero(ca != a)
    assert (swapped[0], swapped[-1] + 1) in {(0, 4), (4, 10), (0, 10)}


# ---------------------------------------------------------------- the GA


def sphere(genomes: np.ndarray) -> np.ndarray:
    centre = np.linspace(-0.6, 0.6, genomes.shape[1])
    return -np.sum((genomes - centre) ** 2, axis=1)


def make(seed: int = 0, genome_size: int = 10, **settings: float) -> GA:
    spec = GASpec(**{"population": 50, **settings})  # type: ignore[arg-type]
    return GA(spec, GenomeLayout(genome_size), np.random.SeedSequence(seed))


def test_spec_parses_and_validates() -> None:
    table = {"type": "ga", "population": 20, "mutation_variance": 0.1}
    spec = parse(GASpec, table, "w.toml [optimizer]", ignore=("type",))
    assert spec == GASpec(population=20, mutation_variance=0.1)
    with pytest.raises(ConfigError, match="mutation_variance"):
        parse(GASpec, {"mutation_variance": 0}, "w.toml [optimizer]")
    with pytest.raises(ConfigError, match="max_expected_offspring"):
        parse(GASpec, {"max_expected_offspring": 2.5}, "w.toml [optimizer]")
    with pytest.raises(ConfigError, match="did you mean `population`"):
        parse(GASpec, {"populaton": 20}, "w.toml [optimizer]")


def test_registry() -> None:
    assert get_optimizer("ga", "w.toml [optimizer]") is GA
    for name, cls in OPTIMIZERS.items():
        assert cls.name == name
    with pytest.raises(UnknownNameError) as error:
        get_optimizer("gaa", "w.toml [optimizer]")
    expected = "w.toml [optimizer]: unknown optimizer `gaa` (did you mean `ga`?); valid names: `ga`"
    assert str(error.value).startswith(expected)


def test_initial_population_uniform_and_ask_returns_copy() -> None:
    ga = make(genome_size=200)
    pop = ga.ask()
    assert pop.shape == (50, 200) and pop.dtype == np.float64
    assert pop.min() >= -1 and pop.max() <= 1
    assert abs(pop.mean()) < 0.03 and pop.var() == pytest.approx(1 / 3, rel=0.05)
    pop[:] = 7.0
    assert np.all(ga.ask() <= 1.0)


def test_tell_stats_and_elites_copied_unchanged() -> None:
    ga = make(population=10, elite_fraction=0.2, genome_size=4)
    pop = ga.ask()
    fitness = np.array([3.0, 9.0, 1.0, 9.0, 5.0, 0.0, 2.0, 4.0, 8.0, 6.0])
    stats = ga.tell(fitness)
    std = pytest.approx(fitness.std())
    assert stats == GenerationStats(best=9.0, mean=4.7, std=std, failed=0, best_index=1)
    nxt = ga.ask()
    # A tie ranks the lower index first.
    assert np.array_equal(nxt[0], pop[1]) and np.array_equal(nxt[1], pop[3])
    assert not any(np.array_equal(row, old) for row in nxt[2:] for old in pop)  # the rest mutated
    assert ga.generation == 1


def test_ties_rank_by_index() -> None:
    ga = make(population=64, elite_fraction=0.5, genome_size=2)
    pop = ga.ask()
    fitness = np.round(np.random.default_rng(0).random(64) * 3)  # many ties
    ga.tell(fitness)
    order = sorted(range(64), key=lambda i: (-fitness[i], i))
    assert np.array_equal(ga.ask()[:32], pop[order[:32]])


@pytest.mark.parametrize(
    ("size", "fraction", "elites"),
    [(96, 0.02, 2), (96, 0.0, 0), (96, 0.01, 1), (96, 0.005, 0), (96, 1.0, 96), (10, 0.25, 3)],
)
def test_elite_count_rounds_half_up(size: int, fraction: float, elites: int) -> None:
    assert make(population=size, elite_fraction=fraction).n_elite == elites


def test_non_finite_fitness_is_never_best_or_elite() -> None:
    ga = make(population=8, elite_fraction=0.5, genome_size=3)
    pop = ga.ask()
    fitness = np.array([np.nan, np.inf, 1.0, -np.inf, 2.0, np.nan, np.inf, np.nan])
    stats = ga.tell(fitness)
    assert stats.best == 2.0 and stats.best_index == 4 and stats.failed == 6
    assert stats.mean == 1.5 and stats.std == 0.5
    nxt = ga.ask()
    assert np.array_equal(nxt[0], pop[4]) and np.array_equal(nxt[1], pop[2])
    copied = [i for i in range(8) if any(np.array_equal(row, pop[i]) for row in nxt)]
    assert copied == [2, 4], "only finite individuals may be copied as elites"


def test_all_non_finite_generation_survives() -> None:
    ga = make(population=6, elite_fraction=0.5, genome_size=3)
    pop = ga.ask()
    stats = ga.tell(np.full(6, np.nan))
    assert math.isnan(stats.best) and math.isnan(stats.mean) and math.isnan(stats.std)
    assert stats.failed == 6 and stats.best_index == -1
    nxt = ga.ask()
    assert nxt.shape == pop.shape and np.all(np.isfinite(nxt))
    assert not any(np.array_equal(row, old) for row in nxt for old in pop)
    state = ga.state_dict()
    json.dumps({k: v for k, v in state.items() if not isinstance(v, np.ndarray)}, allow_nan=False)
    ga.ask()
    assert ga.tell(np.arange(6.0)).best == 5.0


def test_tell_rejects_wrong_shape() -> None:
    ga = make(population=4, genome_size=2)
    ga.ask()
    with pytest.raises(OptimizerUsageError, match="needs 4 fitness values"):
        ga.tell(np.zeros(5))


@pytest.mark.parametrize("crossover_rate", [0.0, 0.5])
def test_ga_improves_on_a_simple_objective(crossover_rate: float) -> None:
    ga = make(seed=11, crossover_rate=crossover_rate)
    first = ga.tell(sphere(ga.ask()))
    history = [ga.tell(sphere(ga.ask())) for _ in range(99)]
    # Beer's selection pressure (1.1 vs 0.9) is mild, so the mean lags well behind the best.
    assert first.best < -1.0 and first.mean < -4.0
    assert max(s.best for s in history) > -0.1 and history[-1].mean > first.mean / 4


def run(ga: GA, generations: int) -> list[GenerationStats]:
    return [ga.tell(sphere(ga.ask())) for _ in range(generations)]


def test_same_seed_same_run_other_seed_other_run() -> None:
    a, b, c = (make(seed=s, crossover_rate=0.3) for s in (5, 5, 6))
    assert run(a, 15) == run(b, 15)
    assert np.array_equal(a.ask(), b.ask())
    run(c, 15)
    assert not np.array_equal(a.ask(), c.ask())


@pytest.mark.parametrize("crossover_rate", [0.0, 0.5])
def test_state_dict_round_trip_resumes_bitwise(crossover_rate: float) -> None:
    whole = make(seed=3, crossover_rate=crossover_rate, elite_fraction=0.1)
    expected = run(whole, 20)

    first = make(seed=3, crossover_rate=crossover_rate, elite_fraction=0.1)
    stats = run(first, 8)
    state = first.state_dict()
    arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
    assert set(arrays) == {"population"}
    rest = {k: v for k, v in state.items() if k not in arrays}
    rest = json.loads(json.dumps(rest, allow_nan=False))
    resumed = GA.from_state_dict(first.spec, GenomeLayout(10), {**rest, **arrays})
    run(first, 3)  # the original keeps going: the snapshot must not share its state
    stats += run(resumed, 12)

    assert stats == expected
    assert np.array_equal(resumed.ask(), whole.ask())
    assert resumed.generation == whole.generation == 20


def test_state_dict_before_any_tell() -> None:
    ga = make(seed=8)
    state = ga.state_dict()
    assert state["generation"] == 0 and "asked" not in state
    as_json = json.dumps({**state, "population": state["population"].tolist()}, allow_nan=False)
    again = GA.from_state_dict(ga.spec, GenomeLayout(10), json.loads(as_json))
    assert run(again, 3) == run(ga, 3)


def test_from_state_dict_rejects_mismatches() -> None:
    ga = make()
    run(ga, 1)
    state = ga.state_dict()
    with pytest.raises(ChampionFileError, match="shape"):
        GA.from_state_dict(GASpec(population=40), GenomeLayout(10), state)
    with pytest.raises(ChampionFileError):
        GA.from_state_dict(ga.spec, GenomeLayout(10), {k: v for k, v in state.items() if k != "rng_state"})
    with pytest.raises(ChampionFileError):
        GA.from_state_dict(ga.spec, GenomeLayout(10), {**state, "rng_state": {"bit_generator": "MT19937"}})
    with pytest.raises(ChampionFileError):
        GA.from_state_dict(ga.spec, GenomeLayout(10), {**state, "generation": -1})
