"""The vectorised circle eye (evorobot.sim.fan) reads what the generic ray kernel reads, bit for bit."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from evorobot.agent import EyeSpec
from evorobot.config import load_world
from evorobot.episode import Episode
from evorobot.seeding import conditions_rng
from evorobot.setup import build
from evorobot.sim import fan, rays
from evorobot.sim.world import World

ROOT = Path(__file__).resolve().parents[1]
EYE_WORLDS = ["categorical_perception", "circle_line", "categorical_perception_izquierdo", "size_categorisation",
              "orientation", "short_term_memory", "categorical_perception_mtrnn"]
"""Worlds whose agents are alone with one circle in some trials."""


def _casters(ep: Episode) -> tuple[rays.EyeCaster, fan.CircleFanEye | None]:
    eye = ep.agent.eye
    args = (ep.geometry, ep.agent_body, ep.agent_world, ep._angles, ep.agent.body.radius, eye.range, eye.gain,
            ep._directions, eye.inside == "far_side", eye.midpoint_edges)
    return rays.EyeCaster(*args), fan.CircleFanEye.build(*args)


@pytest.mark.parametrize("name", EYE_WORLDS)
def test_fan_reads_the_generic_kernel_every_tick_of_whole_episodes(name):
    setup = build(load_world(ROOT / "worlds" / f"{name}.toml"))
    cond = setup.task.conditions(conditions_rng(3, 0))
    genomes = np.random.default_rng(5).uniform(-1, 1, (3, setup.genome_size))
    ep = Episode(setup, genomes, cond)
    generic, fast = _casters(ep)
    assert fast is not None
    d1, o1 = ep.distances.copy(), ep.inputs.copy()
    d2, o2 = d1.copy(), o1.copy()
    seen = 0
    while ep.running:
        generic(ep.poses, d1, o1)
        fast(ep.poses, d2, o2)
        assert np.array_equal(d1, d2) and np.array_equal(o1, o2), f"tick {ep.step_count}"
        seen += int((d1 < ep.agent.eye.range).sum())
        ep.tick()
    assert seen > 100  # objects were seen


def test_episode_uses_the_fan_and_its_fitness_is_the_generic_one(monkeypatch):
    setup = build(load_world(ROOT / "worlds" / "categorical_perception.toml"))
    cond = setup.task.conditions(conditions_rng(1, 0))
    genomes = np.random.default_rng(9).uniform(-1, 1, (4, setup.genome_size))
    ep = Episode(setup, genomes, cond)
    assert isinstance(ep._eye, fan.CircleFanEye)
    fast = ep.run().fitness
    monkeypatch.setattr(fan.CircleFanEye, "build", classmethod(lambda cls, *a, **k: None))
    slow_ep = Episode(setup, genomes, cond)
    assert isinstance(slow_ep._eye, rays.EyeCaster)
    assert np.array_equal(slow_ep.run().fitness, fast)


@pytest.mark.parametrize("far", [False, True])
def test_random_scenes_turned_agents_insides_and_hidden_circles(far):
    """Agents at random headings, circles anywhere (around the ray origins too), some hidden, and
    worlds the fan leaves to the generic loop (a diamond, two circles): same bits."""
    rng = np.random.default_rng(17 + far)
    world = World()
    space = world.new_space()
    agents = []
    for k in range(60):
        world.new_world(space)
        a = world.add_body(space, (0.0, 0.0), angle=float(rng.uniform(-math.pi, math.pi)) if k % 3 else 0.0)
        world.add_circle(a, 15.0)
        agents.append(a)
        for _ in range(2 if k % 10 == 9 else 1):
            o = world.add_body(space, (float(rng.uniform(-80, 80)), float(rng.uniform(-40, 200))))
            if k % 7 == 6:
                world.add_polygon(o, [(15.0, 0.0), (0.0, 15.0), (-15.0, 0.0), (0.0, -15.0)])
            else:
                world.add_circle(o, float(rng.uniform(5.0, 60.0)))
    g = world.finish()
    g.visible[rng.random(g.visible.shape[0]) < 0.1] = False
    poses = np.empty((world.n_bodies, 3))
    world.read(poses)
    body, where = np.array(agents), np.arange(len(agents))
    eye = EyeSpec(exact_axes=True)
    args = (g, body, where, eye.angles(), 15.0, 220.0, 10.0, eye.directions(), far, False)
    fast = fan.CircleFanEye.build(*args)
    assert fast is not None
    groups = fan.circle_agents(g, body, where)
    assert 0 < groups[2].shape[0] < len(agents)  # some worlds left to the generic loop
    d1, o1 = np.empty((len(agents), 7)), np.empty((len(agents), 7))
    d2, o2 = d1.copy(), o1.copy()
    rays.EyeCaster(*args)(poses, d1, o1)
    fast(poses, d2, o2)
    assert np.array_equal(d1, d2) and np.array_equal(o1, o2)
    assert (d1 == 0.0).any() != far and (d1 < 220.0).sum() > 50  # rays from inside circles, and hits


def test_teams_and_crowded_worlds_are_left_to_the_generic_loop():
    world = World()
    space = world.new_space()
    world.new_world(space)
    a, b = world.add_body(space, (0.0, 0.0)), world.add_body(space, (40.0, 0.0))
    world.add_circle(a, 15.0)
    world.add_circle(b, 15.0)
    world.add_circle(world.add_body(space, (0.0, 100.0)), 10.0)
    g = world.finish()
    fan_, _, rest = fan.circle_agents(g, np.array([a, b]), np.array([0, 0]))
    assert fan_.shape[0] == 0 and list(rest) == [0, 1]


@pytest.mark.parametrize("name", ["aperture", "selective_attention"])
def test_worlds_without_a_lone_circle_keep_the_generic_kernel(name):
    setup = build(load_world(ROOT / "worlds" / f"{name}.toml"))
    cond = setup.task.conditions(conditions_rng(3, 0))
    ep = Episode(setup, np.zeros((1, setup.genome_size)), cond)
    assert _casters(ep)[1] is None and isinstance(ep._eye, rays.EyeCaster)
