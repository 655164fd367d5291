"""CoSyNE and ESP: their pure operators on hand-worked cases, a 10-D shifted sphere, settings.

The contract (bounds, determinism, resume) is checked for both in ``test_optimizer_contract.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from evorobot.errors import ConfigError
from evorobot.evolution import OPTIMIZERS
from evorobot.evolution.base import GenomeLayout
from evorobot.evolution.cosyne import (
    CoSyNE,
    CoSyNESpec,
    mark_for_permutation,
    permutation_probability,
    permute_marked,
)
from evorobot.evolution.esp import ESP, ESPSpec, assemble, attribute, compose
from evorobot.seeding import optimizer_seed
from evorobot.spec import parse

GROUPS = (np.array([0, 1, 2]), np.array([3, 4, 5]), np.array([6, 7, 8]), np.array([9]))
LAYOUT = GenomeLayout(10, GROUPS)


def sphere(genomes: np.ndarray) -> np.ndarray:
    """Minus the squared distance to 0.3 in every gene (maximised; optimum 0)."""
    return -np.sum((genomes - 0.3) ** 2, axis=1)


def generations_to_solve(opt: CoSyNE | ESP, budget: int) -> int | None:
    """Generations until a network has sphere fitness > -1e-6, or None within ``budget``."""
    for gen in range(1, budget + 1):
        f = sphere(opt.ask())
        opt.tell(f)
        if f.max() > -1e-6:
            return gen
    return None


# -- CoSyNE --------------------------------------------------------------------------------------

def test_permutation_probability_by_hand() -> None:
    # normalised fitness (f - 0) / (4 - 0) = 1, 0, 1/2, 1/4; p = 1 - norm ** (1/2)
    p = permutation_probability(np.array([4.0, 0.0, 2.0, 1.0]), 2)
    np.testing.assert_allclose(p, [0.0, 1.0, 1.0 - np.sqrt(0.5), 0.5], rtol=0, atol=1e-15)
    # the chance that no gene of a row is marked, (1 - p) ** n, is its normalised fitness
    np.testing.assert_allclose((1.0 - permutation_probability(np.array([4.0, 0.0, 2.0, 1.0]), 7)) ** 7,
                               [1.0, 0.0, 0.5, 0.25], atol=1e-12)
    # failures count as the worst; no finite differences: nothing to disperse
    np.testing.assert_array_equal(permutation_probability(np.array([np.nan, 3.0, 1.0, -np.inf]), 3), [1, 0, 1, 1])
    np.testing.assert_array_equal(permutation_probability(np.array([2.0, 2.0]), 3), [0, 0])
    np.testing.assert_array_equal(permutation_probability(np.array([np.nan, np.nan]), 3), [1, 1])


def test_marks_follow_the_probability_with_one_draw_per_entry() -> None:
    f = np.array([4.0, 0.0, 2.0, 1.0])
    marks = mark_for_permutation(f, 2, np.random.default_rng(7))
    u = np.random.default_rng(7).random((4, 2))  # the same draws, C order
    np.testing.assert_array_equal(marks, u < np.array([0.0, 1.0, 1.0 - np.sqrt(0.5), 0.5])[:, None])
    assert not marks[0].any() and marks[1].all()  # the best never, the worst always
    many = mark_for_permutation(np.tile(f, 5000), 2, np.random.default_rng(1)).reshape(5000, 4, 2)
    np.testing.assert_allclose(many.mean(axis=(0, 2)), [0.0, 1.0, 1.0 - np.sqrt(0.5), 0.5], atol=0.02)


def test_marked_entries_are_shuffled_within_their_column() -> None:
    m = np.arange(15, dtype=float).reshape(5, 3)
    marks = np.array([[0, 1, 0], [1, 1, 0], [0, 1, 1], [1, 0, 0], [1, 1, 0]], dtype=bool)
    out = permute_marked(m, marks, np.random.default_rng(3))
    np.testing.assert_array_equal(out[~marks], m[~marks])  # unmarked entries stay
    for i in range(3):
        rows = marks[:, i]
        np.testing.assert_array_equal(np.sort(out[rows, i]), np.sort(m[rows, i]))  # a permutation
    assert out[2, 2] == m[2, 2]  # a lone mark has nowhere to go
    assert not np.array_equal(out, m)
    np.testing.assert_array_equal(m, np.arange(15, dtype=float).reshape(5, 3))  # input untouched


def test_cosyne_keeps_the_best_row_and_replaces_the_worst_by_children() -> None:
    opt = CoSyNE(CoSyNESpec(population=8), GenomeLayout(5), optimizer_seed(2))
    asked = opt.ask()
    f = sphere(asked)
    opt.tell(f)
    new = opt.ask()
    np.testing.assert_array_equal(new[0], asked[np.argmax(f)])  # p = 0: never permuted
    assert opt.n_parents == 2  # a quarter of 8; its 4 children replace the 4 worst rows
    best4 = asked[np.argsort(-f)[:4]]  # the survivors' columns are permutations of the best four rows'
    np.testing.assert_array_equal(np.sort(new[:4], axis=0), np.sort(best4, axis=0))


def test_cosyne_solves_the_shifted_sphere() -> None:
    # 40 networks x at most 600 generations = 24,000 evaluations (seeds 0-9 take 156-314 generations)
    spec = parse(CoSyNESpec, {"population": 40, "mutation_rate": 0.1, "mutation_scale": 0.02}, "test")
    assert generations_to_solve(CoSyNE(spec, GenomeLayout(10), optimizer_seed(0)), 600) is not None


# -- ESP -----------------------------------------------------------------------------------------

def test_assembly_takes_one_individual_per_subpopulation_each_as_often() -> None:
    a = assemble(4, 3, 6, np.random.default_rng(0))
    assert a.shape == (6, 4) and a.dtype == np.int64
    for g in range(4):
        for block in (a[:3, g], a[3:, g]):  # two permutations of 0, 1, 2 per subpopulation
            np.testing.assert_array_equal(np.sort(block), [0, 1, 2])
        np.testing.assert_array_equal(np.bincount(a[:, g], minlength=3), [2, 2, 2])
    with pytest.raises(ValueError, match="multiple"):
        assemble(4, 4, 6, np.random.default_rng(0))


def test_compose_takes_each_groups_genes_from_its_individual() -> None:
    individuals = np.arange(30, dtype=float).reshape(3, 10) / 100  # row k, gene i -> (10 k + i) / 100
    assignment = np.array([[0, 1, 2, 0], [2, 2, 1, 1]])
    genomes = compose(individuals, GROUPS, assignment)
    np.testing.assert_array_equal(genomes[0], [0.00, 0.01, 0.02, 0.13, 0.14, 0.15, 0.26, 0.27, 0.28, 0.09])
    np.testing.assert_array_equal(genomes[1], [0.20, 0.21, 0.22, 0.23, 0.24, 0.25, 0.16, 0.17, 0.18, 0.19])


def test_attribution_is_the_mean_of_the_networks_taken_part_in() -> None:
    assignment = np.array([[0, 1], [1, 0], [0, 0], [1, 1]])  # 4 networks, 2 groups of 2 individuals
    merit = attribute(assignment, np.array([1.0, 2.0, 3.0, 5.0]), 2)
    # group 0: individual 0 in networks 0, 2 -> 2; individual 1 in 1, 3 -> 3.5
    # group 1: individual 0 in networks 1, 2 -> 2.5; individual 1 in 0, 3 -> 3
    np.testing.assert_array_equal(merit, [[2.0, 2.5], [3.5, 3.0]])
    failed = attribute(assignment, np.array([1.0, 2.0, 3.0, np.nan]), 2)
    np.testing.assert_array_equal(failed, [[2.0, 2.5], [-np.inf, -np.inf]])
    unused = attribute(np.array([[0], [0]]), np.array([1.0, 2.0]), 2)  # individual 1 took part in none
    np.testing.assert_array_equal(unused, [[1.5], [-np.inf]])


def test_esp_asks_what_its_assembly_says() -> None:
    opt = ESP(parse(ESPSpec, {"population": 24, "subpopulation": 8}, "test"), LAYOUT, optimizer_seed(1))
    np.testing.assert_array_equal(opt.ask(), compose(opt.individuals, GROUPS, opt.assignment))
    assert all(np.array_equal(np.bincount(c, minlength=8), [3] * 8) for c in opt.assignment.T)


def test_burst_recreates_the_subpopulations_around_the_best_network() -> None:
    spec = parse(ESPSpec, {"population": 12, "subpopulation": 12, "stagnation": 2, "burst_scale": 0.01}, "test")
    opt = ESP(spec, LAYOUT, optimizer_seed(4))
    first = opt.ask()
    opt.tell(np.arange(12.0))  # network 11 is the best, and stays so
    best = first[11]
    opt.ask()
    opt.tell(np.full(12, -1.0))
    assert opt.stagnation == 1
    opt.ask()
    opt.tell(np.full(12, -1.0))  # second generation without improvement: burst
    assert opt.stagnation == 0 and opt.best_fitness == 11.0
    np.testing.assert_array_equal(opt.individuals[0], best)
    assert np.median(np.abs(opt.individuals[1:] - best)) < 0.05  # Cauchy noise of scale 0.01


def test_esp_solves_the_shifted_sphere() -> None:
    # groups of 3, 3, 3, 1 genes; 48 networks (each individual in 4) x at most 1000 generations =
    # 48,000 evaluations (seeds 0-29 take 192-617 generations). The fine Cauchy scales reach the
    # 1e-6 precision; bursts re-centre there.
    spec = parse(ESPSpec, {"population": 48, "subpopulation": 12, "mutation_scale": 0.005, "stagnation": 100,
                           "burst_scale": 0.005}, "test")
    assert generations_to_solve(ESP(spec, LAYOUT, optimizer_seed(0)), 1000) is not None


# -- settings ------------------------------------------------------------------------------------

def one_line_config_error(fn: Callable[[], object], match: str) -> None:
    with pytest.raises(ConfigError, match=match) as info:
        fn()
    assert "\n" not in str(info.value)


def test_wrong_settings_are_one_line_config_errors() -> None:
    w = "w.toml [optimizer]"
    one_line_config_error(lambda: parse(ESPSpec, {"population": 50, "subpopulation": 12}, w),
                          r"w\.toml \[optimizer\]: `population` \(50\) must be a multiple of `subpopulation` \(12\)")
    one_line_config_error(lambda: parse(ESPSpec, {"subpopulation": 3}, w), r"`subpopulation` must be >= 4, got 3")
    one_line_config_error(lambda: parse(ESPSpec, {"burst_scale": 0}, w), r"`burst_scale` must be > 0")
    one_line_config_error(lambda: parse(ESPSpec, {"stagnation": 0}, w), r"`stagnation` must be >= 1")
    one_line_config_error(lambda: parse(CoSyNESpec, {"elite_fraction": 0.6}, w), r"`elite_fraction` must be <= 0\.5")
    one_line_config_error(lambda: parse(CoSyNESpec, {"mutation_scale": -1}, w), r"`mutation_scale` must be > 0")
    one_line_config_error(lambda: parse(CoSyNESpec, {"mutation_rate": 2}, w), r"`mutation_rate` must be <= 1")
    one_line_config_error(lambda: parse(CoSyNESpec, {"population": 3}, w), r"`population` must be >= 4, got 3")


def test_esp_refuses_a_layout_without_groups() -> None:
    one_line_config_error(lambda: ESP(ESPSpec(), GenomeLayout(10), optimizer_seed(0), "w.toml [optimizer]"),
                          r"^w\.toml \[optimizer\]: optimizer `esp` needs the controller's neuron gene groups; "
                          r"this controller declares none \(use another optimizer\)$")


def test_registered() -> None:
    assert OPTIMIZERS["cosyne"] is CoSyNE and OPTIMIZERS["esp"] is ESP
