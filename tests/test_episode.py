"""The step loop: batch independence, trial isolation, Beer's task geometry and fitness."""

import numpy as np
import pytest

from evorobot.config import load_world
from evorobot.episode import Episode
from evorobot.evolution.evaluate import evaluate
from evorobot.seeding import conditions_rng
from evorobot.setup import build

from conftest import CP_WORLD, assert_alone_equals_batch


@pytest.fixture(scope="module")
def setup():
    return build(load_world(CP_WORLD))


@pytest.fixture(scope="module")
def conditions(setup):
    return setup.task.conditions(conditions_rng(1, 0))


def test_conditions_are_beers_grid(setup, conditions):
    assert conditions.shape == (24, 2)
    np.testing.assert_array_equal(conditions[:12, 0], np.linspace(-50, 50, 12))
    np.testing.assert_array_equal(conditions[:, 1], [0.0] * 12 + [1.0] * 12)


def test_individual_alone_equals_in_batch(setup, conditions):
    assert_alone_equals_batch(setup, np.random.default_rng(3).uniform(-1, 1, (5, setup.genome_size)), conditions)


def test_chunking_does_not_change_fitness(setup, conditions):
    g = np.random.default_rng(4).uniform(-1, 1, (7, setup.genome_size))
    a = evaluate(setup, g, conditions, chunk_size=7)
    b = evaluate(setup, g, conditions, chunk_size=2)
    assert np.array_equal(a.trials, b.trials) and np.array_equal(a.fitness, b.fitness)


def test_state_is_reset_between_runs(setup, conditions):
    g = np.random.default_rng(5).uniform(-1, 1, (2, setup.genome_size))
    ep = Episode(setup, g, conditions)
    first = ep.run()
    ep.reset()
    second = ep.run()
    assert np.array_equal(first.fitness, second.fitness)


def test_trials_are_isolated_from_each_other(setup, conditions):
    """A trial's fitness does not depend on what the other trials of its Space contain.

    (Its tile slot is part of the Space's composition: tiled coordinates round differently in
    the last bits, which is why every individual keeps the same tiles alone and in a batch.)
    """
    g = np.random.default_rng(6).uniform(-1, 1, (1, setup.genome_size))
    a = Episode(setup, g, conditions).run().fitness[0]
    others = conditions[::-1].copy()
    others[5] = conditions[5]
    b = Episode(setup, g, others).run().fitness[0]
    assert b[5] == a[5]
    assert not np.array_equal(a, b)  # the other trials did change
    first = Episode(setup, g, conditions[:1]).run().fitness[0]
    assert first[0] == a[0]


def test_still_agent_scores_the_closed_form(setup, conditions):
    """Zero genes give zero weights and equal motor biases (symmetric genome): vx = 0 exactly,
    so the final distance is the start offset and fitness follows Beer's formula."""
    ep = Episode(setup, np.zeros((1, setup.genome_size)), conditions)
    res = ep.run()
    d = np.abs(conditions[:, 0])
    near = np.minimum(d, 45.0) / 45.0
    expected = np.where(conditions[:, 1] > 0, near, 1 - near)
    np.testing.assert_allclose(res.fitness[0], expected, rtol=0, atol=1e-12)  # tiles round
    # the object fell at vy = -3 with dt = 0.1 until its centre was 30 above the agent
    a, o = ep.agent_body[0], ep.objects[0, 0]
    assert res.steps == 817 and ep.poses[o, 1] == pytest.approx(275 - 0.3 * 817)
    assert ep.poses[a, 0] - ep.origins[0, 0] == 0.0


def test_agent_is_held_at_the_world_edge(tmp_path):
    exp = load_world(CP_WORLD, ["controller.symmetric=false"])
    s = build(exp)
    genes = np.zeros(s.genome_size)
    bias = s.controller.layout.entry_genes("bias")
    genes[bias[-2]], genes[bias[-1]] = 1.0, -1.0  # left motor neuron on, right off: vx ~ +4.9
    cond = s.task.conditions(conditions_rng(1, 0))[:1]
    ep = Episode(s, genes[None, :], cond)
    xs = []
    ep.run(lambda e: xs.append(e.poses[e.agent_body[0], 0] - e.origins[0, 0]))
    assert max(xs) == pytest.approx(200.0, abs=1e-9) and xs[-1] == pytest.approx(200.0, abs=1e-9)
    assert np.all(np.diff(xs) >= 0)


def test_blow_up_is_a_counted_failure_not_a_crash(setup, conditions):
    g = np.random.default_rng(7).uniform(-1, 1, (3, setup.genome_size))
    g[1, :] = np.nan
    ev = evaluate(setup, g, conditions, chunk_size=3)
    assert ev.failed[1] == len(conditions) and ev.failed[0] == 0 and ev.failed[2] == 0
    assert np.all(ev.trials[1] == setup.task.worst)
