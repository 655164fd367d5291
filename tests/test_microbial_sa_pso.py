"""The microbial GA, simulated annealing and particle swarm: their operators worked by hand, their
convergence on a shifted sphere within a stated budget, and their settings errors. The contract
(bounds, determinism, resume) is checked for all three in ``test_optimizer_contract.py``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from evorobot.errors import ConfigError
from evorobot.evolution import OPTIMIZERS
from evorobot.evolution.base import GenomeLayout, Optimizer
from evorobot.evolution.microbial import MicrobialGA, MicrobialSpec, microbial_tournaments, ring_pairs
from evorobot.evolution.pso import ParticleSwarm, constricted_velocity, move_within_walls, neighbourhood_best
from evorobot.evolution.sa import SimulatedAnnealing, metropolis_accept
from evorobot.seeding import optimizer_seed
from evorobot.spec import parse


def build(name: str, genes: int = 10, seed: int = 1, **settings: Any) -> Optimizer:
    cls = OPTIMIZERS[name]
    return cls(parse(cls.Spec, settings, f"test [{name}]"), GenomeLayout(genes), optimizer_seed(seed), "test")


def sphere(genomes: np.ndarray) -> np.ndarray:
    """The 10-D sphere with its optimum at 0.3 on every gene, maximised (0 at the optimum)."""
    return -np.sum((genomes - 0.3) ** 2, axis=1)


# ---------------------------------------------------------------- convergence


# Generations to f > -1e-6 measured over optimizer seeds 0-7 (seed 1 here): microbial GA 395-686,
# SA 989-1105, PSO global 107-135, PSO ring 177-227; each budget leaves about 2x of margin.
SPHERE_RUNS = [
    ("microbial", {"population": 64, "mutation_rate": 0.1, "mutation_std": 0.003}, 1500),
    ("sa", {"population": 4, "initial_temperature": 0.01, "cooling": 0.99, "step": 0.1, "step_decay": 0.995}, 2000),
    ("pso", {"population": 20, "topology": "global"}, 300),
    ("pso", {"population": 20, "topology": "ring"}, 500),
]


@pytest.mark.parametrize(("name", "settings", "budget"), SPHERE_RUNS, ids=lambda x: str(x)[:40])
def test_reaches_the_optimum_of_a_shifted_sphere_within_the_budget(name: str, settings: dict[str, Any],
                                                                    budget: int) -> None:
    opt = build(name, **settings)
    best = -np.inf
    for _ in range(budget):
        f = sphere(opt.ask())
        opt.tell(f)
        best = max(best, float(f.max()))
        if best > -1e-6:
            break
    assert best > -1e-6, f"{name} reached only {best} in {budget} generations"


# ---------------------------------------------------------------- microbial GA


@pytest.mark.parametrize(("size", "deme"), [(2, 1), (4, 2), (12, 1), (12, 2), (12, 5), (10, 4), (20, 5), (20, 6),
                                           (8, 100), (8, 6)])
def test_ring_pairs_are_disjoint_cover_everyone_and_stay_within_the_deme(size: int, deme: int) -> None:
    rng = np.random.default_rng(0)
    seen_distances, seen_pairs = set(), set()
    for _ in range(200):
        pairs = ring_pairs(size, deme, rng)
        assert pairs.shape == (size // 2, 2)
        np.testing.assert_array_equal(np.sort(pairs.ravel()), np.arange(size))
        gap = np.abs(pairs[:, 0] - pairs[:, 1])
        distance = np.minimum(gap, size - gap)
        assert np.all((distance >= 1) & (distance <= deme))
        seen_distances.update(distance.tolist())
        seen_pairs.update(tuple(sorted(p)) for p in pairs.tolist())
    # every distance the deme allows occurs, and the pairing moves round the ring
    assert seen_distances == set(range(1, min(deme, size // 2) + 1))
    assert len(seen_pairs) > size // 2 or size == 2


def test_ring_pairs_refuse_an_odd_size() -> None:
    with pytest.raises(ValueError, match="even"):
        ring_pairs(7, 2, np.random.default_rng(0))


def test_tournament_by_hand_loser_copies_the_winner_winner_unchanged() -> None:
    pop = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [-0.1, -0.2, -0.3], [0.9, 0.8, 0.7],
                    [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    fitness = np.array([1.0, 2.0, 5.0, 3.0, np.nan, 7.0])
    pairs = np.array([[0, 1], [3, 2], [4, 5]])
    out = microbial_tournaments(pop, fitness, pairs, 1.0, 0.0, 0.1, np.random.default_rng(0))
    want = pop.copy()
    want[0] = pop[1]  # 2 > 1
    want[3] = pop[2]  # 5 > 3
    want[4] = pop[5]  # NaN loses
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(pop[4], [0.0, 0.0, 0.0])  # the input is not modified
    # a tie goes to the first of the pair; recombination 0 and no mutation change nothing
    tie = microbial_tournaments(pop, np.zeros(6), pairs, 1.0, 0.0, 0.1, np.random.default_rng(0))
    np.testing.assert_array_equal(tie[[1, 2, 5]], pop[[0, 3, 4]])
    np.testing.assert_array_equal(microbial_tournaments(pop, fitness, pairs, 0.0, 0.0, 0.1,
                                                        np.random.default_rng(0)), pop)


def test_tournament_infects_each_gene_with_the_recombination_probability_then_mutates() -> None:
    rng = np.random.default_rng(3)
    pop = rng.uniform(-1, 1, (2, 20000))
    out = microbial_tournaments(pop, np.array([1.0, 0.0]), np.array([[0, 1]]), 0.3, 0.0, 0.1, rng)
    np.testing.assert_array_equal(out[0], pop[0])
    from_winner = out[1] == pop[0]
    assert np.all(from_winner | (out[1] == pop[1]))
    assert abs(from_winner.mean() - 0.3) < 0.015
    # mutation: every gene of the loser only (rate 1), a creep of the given s.d., clipped
    out = microbial_tournaments(pop, np.array([1.0, 0.0]), np.array([[0, 1]]), 0.0, 1.0, 0.01, rng)
    np.testing.assert_array_equal(out[0], pop[0])
    inside = np.abs(pop[1]) < 0.9
    assert np.std(out[1][inside] - pop[1][inside]) == pytest.approx(0.01, rel=0.03)
    assert np.all(np.abs(out) <= 1.0)
    out = microbial_tournaments(pop, np.array([1.0, 0.0]), np.array([[0, 1]]), 0.0, 0.25, 0.01, rng)
    assert abs(np.mean(out[1] != pop[1]) - 0.25) < 0.015


def test_microbial_generation_pairs_everyone_once_within_the_deme() -> None:
    """Recombination 1 and no mutation: each loser becomes a copy of a distinct winner, a fitter
    individual at most ``deme`` places away, and exactly half the population is unchanged."""
    size, deme = 20, 4  # blocks of 6: the ends of a block may not meet
    opt = build("microbial", genes=4, population=size, deme=deme, recombination=1.0, mutation_rate=0.0)
    old = opt.ask()  # uniform draws: all distinct (after this generation, losers duplicate winners)
    fitness = sphere(old)
    opt.tell(fitness)
    new = opt.ask()
    unchanged = np.all(new == old, axis=1)
    assert unchanged.sum() == size // 2
    winners = []
    for i in np.flatnonzero(~unchanged):
        (w,) = np.flatnonzero(np.all(old == new[i], axis=1))
        gap = abs(int(w) - int(i))
        assert unchanged[w] and fitness[w] > fitness[i] and min(gap, size - gap) <= deme
        winners.append(int(w))
    assert len(set(winners)) == size // 2


def test_microbial_ga_checks_its_spec_when_built_directly() -> None:
    with pytest.raises(ConfigError, match=r"test: `population` must be even \(disjoint pairs\), got 7"):
        MicrobialGA(MicrobialSpec(population=7), GenomeLayout(3), optimizer_seed(0), "test")


# ---------------------------------------------------------------- simulated annealing


def test_metropolis_by_hand() -> None:
    current = np.array([0.0, 0.0, 0.0, -np.inf, 0.0, np.nan])
    proposed = np.array([1.0, -1.0, -1.0, -5.0, np.nan, -np.inf])
    u = np.array([0.999, 0.36, 0.37, 0.999, 0.0, 0.999])
    # exp(-1) = 0.3679: accepted with u = 0.36, refused with u = 0.37; unknown current accepts all;
    # a failed proposal is never accepted by a chain with a finite fitness
    np.testing.assert_array_equal(metropolis_accept(current, proposed, 1.0, u),
                                  [True, True, False, True, False, True])
    np.testing.assert_array_equal(metropolis_accept(current, proposed, 0.0, np.zeros(6)),
                                  [True, False, False, True, False, True])
    assert metropolis_accept(np.array([2.0]), np.array([2.0]), 0.0, np.array([0.999]))[0]  # equal: accept


def test_sa_accepts_improvements_always_and_worse_moves_at_the_metropolis_rate() -> None:
    chains, t0, step, delta = 20000, 0.5, 0.05, 0.3
    opt = build("sa", genes=2, population=chains, initial_temperature=t0, step=step)
    assert isinstance(opt, SimulatedAnnealing)
    start = opt.ask()
    opt.tell(np.zeros(chains))  # the first generation measures the starting points
    np.testing.assert_array_equal(opt.state_dict()["current"], start)
    proposals = opt.ask()
    inside = np.all(np.abs(start) < 0.8, axis=1)
    assert np.std((proposals - start)[inside]) == pytest.approx(step, rel=0.03)
    better = np.arange(chains) % 2 == 0  # even chains improve by delta, odd chains lose delta
    opt.tell(np.where(better, delta, -delta))
    moved = np.all(opt.state_dict()["current"] == proposals, axis=1)
    assert np.all(moved[better]), "an improvement is always accepted"
    rate, want = moved[~better].mean(), math.exp(-delta / t0)  # 0.549
    assert abs(rate - want) < 4 * math.sqrt(want * (1 - want) / (chains / 2))
    told = np.where(better, delta, -delta)
    np.testing.assert_array_equal(opt.state_dict()["current_fitness"], np.where(moved, told, 0.0))


def test_sa_later_moves_use_the_cooled_temperature_and_the_shrunk_step() -> None:
    chains, t0, cooling, step, decay, delta = 20000, 0.5, 0.5, 0.05, 0.8, 0.3
    opt = build("sa", genes=2, population=chains, initial_temperature=t0, cooling=cooling, step=step,
                step_decay=decay)
    opt.ask()
    opt.tell(np.zeros(chains))
    opt.ask()
    opt.tell(np.ones(chains))  # all improve: every current fitness is now 1
    current = opt.state_dict()["current"]
    proposals = opt.ask()
    inside = np.all(np.abs(current) < 0.8, axis=1)
    assert np.std((proposals - current)[inside]) == pytest.approx(step * decay, rel=0.03)
    opt.tell(np.full(chains, 1.0 - delta))
    rate = np.all(opt.state_dict()["current"] == proposals, axis=1).mean()
    want = math.exp(-delta / (t0 * cooling))  # the second move: T = t0 cooling = 0.25; 0.301
    assert abs(rate - want) < 4 * math.sqrt(want * (1 - want) / chains)


# ---------------------------------------------------------------- particle swarm


def test_constricted_velocity_by_hand() -> None:
    v, x = np.array([0.1, -0.2]), np.array([0.5, 0.0])
    p, n = np.array([0.6, -0.1]), np.array([0.2, 0.4])
    r1, r2 = np.array([0.5, 0.25]), np.array([0.1, 1.0])
    # 0.7298 * (0.1 + 2.05 * 0.5 * 0.1 + 2.05 * 0.1 * -0.3) = 0.7298 * 0.141
    # 0.7298 * (-0.2 + 2.05 * 0.25 * -0.1 + 2.05 * 1.0 * 0.4) = 0.7298 * 0.56875
    got = constricted_velocity(v, x, p, n, r1, r2, 0.7298, 2.05, 2.05, 1.0)
    np.testing.assert_allclose(got, [0.1029018, 0.41507375], rtol=1e-12)
    clamped = constricted_velocity(v, x, p, n, r1, r2, 0.7298, 2.05, 2.05, 0.3)
    np.testing.assert_allclose(clamped, [0.1029018, 0.3], rtol=1e-12)


def test_moves_stop_at_the_walls() -> None:
    x, v = move_within_walls(np.array([0.9, -0.95, 0.0, -0.5]), np.array([0.2, -0.01, 0.5, -0.5]))
    np.testing.assert_allclose(x, [1.0, -0.96, 0.5, -1.0])
    np.testing.assert_array_equal(v, [0.0, -0.01, 0.5, -0.5])  # exactly on the wall: not out


def test_neighbourhood_best_by_hand() -> None:
    f = np.array([1.0, 5.0, np.nan, 2.0, 2.0, 0.0])
    np.testing.assert_array_equal(neighbourhood_best(f, "global"), [1] * 6)
    np.testing.assert_array_equal(neighbourhood_best(f, "ring"), [1, 1, 1, 3, 4, 4])
    np.testing.assert_array_equal(neighbourhood_best(np.full(3, np.nan), "ring"), [0, 1, 2])


def test_swarm_step_matches_a_hand_computation_with_the_same_draws() -> None:
    opt = build("pso", genes=3, population=4, topology="global", max_velocity=0.1)
    assert isinstance(opt, ParticleSwarm)
    x = opt.ask()
    fitness = np.array([1.0, np.nan, 3.0, 2.0])
    draws = np.random.Generator(np.random.PCG64())
    draws.bit_generator.state = opt.rng.bit_generator.state
    draws.random((4, 3))  # r1: the first step pulls nowhere (x = pbest = nbest)
    r2 = draws.random((4, 3))
    opt.tell(fitness)
    # first step: velocities start at 0 and each personal best is the particle itself (the failed
    # one too, at -inf), so v = chi c2 r2 (x_2 - x), clamped to 0.2
    v = np.clip(0.7298 * 2.05 * r2 * (x[2] - x), -0.2, 0.2)
    want = np.clip(x + v, -1, 1)
    state = opt.state_dict()
    np.testing.assert_allclose(state["position"], want, rtol=1e-15)
    np.testing.assert_array_equal(state["best"], x)
    np.testing.assert_array_equal(state["best_fitness"], [1.0, -np.inf, 3.0, 2.0])
    np.testing.assert_array_equal(state["position"][2], x[2])  # the global best stays put
    # a worse value does not replace a personal best; a better one does
    opt.ask()
    opt.tell(np.array([0.5, 0.0, 4.0, np.inf]))
    np.testing.assert_array_equal(opt.state_dict()["best_fitness"], [1.0, 0.0, 4.0, 2.0])
    np.testing.assert_array_equal(opt.state_dict()["best"][[0, 3]], x[[0, 3]])
    np.testing.assert_array_equal(opt.state_dict()["best"][[1, 2]], want[[1, 2]])


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(("name", "settings", "message"), [
    ("microbial", {"population": 9}, r"`population` must be even \(disjoint pairs\), got 9"),
    ("microbial", {"deme": 0}, r"`deme` must be >= 1, got 0"),
    ("microbial", {"recombination": 1.5}, r"`recombination` must be <= 1, got 1.5"),
    ("sa", {"cooling": 1.2}, r"`cooling` must be <= 1, got 1.2"),
    ("sa", {"step_decay": 0}, r"`step_decay` must be > 0, got 0.0"),
    ("sa", {"initial_temperature": -1}, r"`initial_temperature` must be >= 0, got -1.0"),
    ("pso", {"topology": "star"}, r'`topology` must be one of `ring`, `global`, got "star"'),
    ("pso", {"max_velocity": 0}, r"`max_velocity` must be > 0, got 0.0"),
    ("pso", {"chi": 2.0}, r"`chi` must be <= 1, got 2.0"),
])
def test_wrong_settings_are_one_line_errors_naming_table_key_and_value(name: str, settings: dict[str, Any],
                                                                        message: str) -> None:
    with pytest.raises(ConfigError, match=r"^w\.toml \[optimizer\]: " + message) as info:
        parse(OPTIMIZERS[name].Spec, settings, "w.toml [optimizer]")
    assert "\n" not in str(info.value)
