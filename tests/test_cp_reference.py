"""The C reference of the categorical-perception agent (evorobot/bench/cp_ref.c) computes what the
batched Episode computes: the same fitness per trial and the same trajectory tick by tick.

No timing is asserted here (ARCHITECTURE.md §5): `evorobot bench` reports the speed.
"""

import numpy as np
import pytest
from conftest import CP_WORLD, ROOT

from evorobot.bench.cp_reference import compile_cp_reference
from evorobot.config import load_world
from evorobot.episode import Episode
from evorobot.errors import EvorobotError
from evorobot.seeding import conditions_rng
from evorobot.setup import build

TOL = 1e-9


@pytest.fixture(scope="module")
def ref():
    compiled = compile_cp_reference()
    if compiled is None:
        pytest.skip("no C compiler on this machine: the C reference is not measured here")
    return compiled


def episode_trace(setup, genomes, cond):
    """Run the Episode tick by tick: its result and, per tick, agent x, object y and inputs,
    each (n, T, ticks[, R]) in the order of the C trace."""
    ep = Episode(setup, genomes, cond)
    xs, ys, inputs = [], [], []
    while ep.running:
        ep.tick()
        xs.append(ep.poses[ep.agent_body, 0].copy())
        ys.append(ep.poses[ep.objects[:, 0], 1].copy())
        inputs.append(ep.inputs.copy())
    n, t = genomes.shape[0], cond.shape[0]
    shape = (n, t, len(xs))
    return (ep.result(), np.array(xs).T.reshape(shape), np.array(ys).T.reshape(shape),
            np.array(inputs).transpose(1, 0, 2).reshape(*shape, -1))


@pytest.mark.parametrize("world, overrides", [
    (CP_WORLD, []),  # circles and diamonds, Beer 2003
    (CP_WORLD, ["controller.symmetric=false", "simulation.substeps=3"]),
    (ROOT / "worlds" / "circle_line.toml", []),  # circles and lines, Beer 1996
    (ROOT / "worlds" / "categorical_perception_izquierdo.toml", []),  # other gains and clip
], ids=["diamond", "asymmetric-substeps3", "line", "izquierdo"])
def test_c_reference_computes_the_episode_fitness_of_every_trial(ref, world, overrides):
    setup = build(load_world(world, overrides))
    cond = setup.task.conditions(conditions_rng(1, 0))
    genomes = np.random.default_rng(7).uniform(-1, 1, (3, setup.genome_size))
    batched = Episode(setup, genomes, cond).run()
    c = ref.bind(setup, genomes, cond)()
    assert cond.shape[0] >= 24 and set(cond[:, 1]) == {0.0, 1.0}  # both shapes, many offsets
    assert not batched.failed.any() and not c.failed.any()
    np.testing.assert_allclose(c.fitness, batched.fitness, rtol=0, atol=TOL)
    assert (c.steps == batched.steps).all() and c.agent_steps == c.steps.size * batched.steps
    # not vacuous: the genomes behave differently and end at graded distances
    assert len(np.unique(np.round(c.fitness, 6))) > 10
    assert ((c.fitness > 1e-3) & (c.fitness < 1 - 1e-3)).sum() >= 10


def test_c_reference_follows_the_episode_tick_by_tick(ref):
    """Agent x, object y and the seven ray inputs after every tick of every trial."""
    setup = build(load_world(CP_WORLD))
    cond = setup.task.conditions(conditions_rng(1, 0))[[0, 5, 11, 12, 17, 23]]
    genomes = np.random.default_rng(3).uniform(-1, 1, (2, setup.genome_size))
    batched, xs, ys, inputs = episode_trace(setup, genomes, cond)
    c = ref.bind(setup, genomes, cond, trace=True)()
    assert c.trace is not None
    ticks = batched.steps
    np.testing.assert_allclose(c.trace[:, :, :ticks, 0], xs, rtol=0, atol=TOL)
    np.testing.assert_allclose(c.trace[:, :, :ticks, 1], ys, rtol=0, atol=TOL)
    np.testing.assert_allclose(c.trace[:, :, :ticks, 2:], inputs, rtol=0, atol=TOL)
    # not vacuous: the agents moved, and the rays saw the object at many distances
    assert (np.ptp(xs, axis=2) > 1.0).sum() >= 8  # of 12 trials
    assert len(np.unique(np.round(inputs, 6))) > 100 and inputs.max() > 5.0


def test_c_reference_holds_the_agent_at_the_x_limit(ref):
    """With a narrow world the motor's cut engages: the agent lands exactly on the limit."""
    setup = build(load_world(CP_WORLD, ["task.x_limit=4.0"]))
    cond = setup.task.conditions(conditions_rng(1, 0))[[0, 11, 12, 23]]
    genomes = np.random.default_rng(1).uniform(-1, 1, (3, setup.genome_size))
    batched, xs, _, _ = episode_trace(setup, genomes, cond)
    c = ref.bind(setup, genomes, cond, trace=True)()
    np.testing.assert_allclose(c.fitness, batched.fitness, rtol=0, atol=TOL)
    local = c.trace[:, :, : batched.steps, 0] - 2000.0 * np.arange(4)[None, :, None]  # trial tiles
    np.testing.assert_allclose(c.trace[:, :, : batched.steps, 0], xs, rtol=0, atol=TOL)
    assert np.abs(local).max() <= 4.0 + 1e-9 and np.isclose(np.abs(local), 4.0, rtol=0, atol=1e-9).any()


def test_c_reference_refuses_other_tasks(ref):
    setup = build(load_world(ROOT / "worlds" / "phototaxis.toml"))
    with pytest.raises(EvorobotError, match="categorical perception"):
        ref.bind(setup, np.zeros((1, setup.genome_size)), np.zeros((1, 2)))


def test_c_reference_fails_a_trial_on_a_non_finite_command(ref):
    """A network that outputs NaN fails every trial at the first tick, in both; it scores the worst."""
    setup = build(load_world(CP_WORLD))
    cond = setup.task.conditions(conditions_rng(1, 0))[[0, 12]]
    genomes = np.random.default_rng(2).uniform(-1, 1, (2, setup.genome_size))
    genomes[1, 0] = np.nan
    batched = Episode(setup, genomes, cond).run()
    c = ref.bind(setup, genomes, cond)()
    assert c.failed.tolist() == batched.failed.tolist() == [[False, False], [True, True]]
    np.testing.assert_array_equal(c.fitness, batched.fitness)
    assert (c.fitness[1] == setup.task.worst).all() and (c.steps[1] == 1).all()
