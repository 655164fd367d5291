"""The numba ray kernel against pymunk's own segment queries on random scenes."""

import math

import numpy as np
import pymunk
import pytest

from evorobot.sim import rays
from evorobot.sim.world import World


def _random_scene(rng: np.random.Generator) -> tuple[World, int]:
    world = World()
    space = world.new_space()
    world.new_world(space)
    agent = world.add_body(space, (0.0, 0.0), angle=float(rng.uniform(-math.pi, math.pi)))
    for _ in range(int(rng.integers(1, 8))):
        pos = tuple(rng.uniform(-150, 150, size=2))
        if math.hypot(*pos) < 40:
            continue  # keep the ray origins outside every shape
        row = world.add_body(space, pos, angle=float(rng.uniform(-math.pi, math.pi)))
        kind = rng.integers(0, 3)
        size = float(rng.uniform(5, 25))
        if kind == 0:
            world.add_circle(row, size)
        elif kind == 1:
            n = int(rng.integers(3, 8))
            phase = rng.uniform(0, 2 * math.pi)
            verts = [(size * math.cos(phase + 2 * math.pi * k / n), size * math.sin(phase + 2 * math.pi * k / n))
                     for k in range(n)]
            world.add_polygon(row, verts)
        else:
            world.add_segment(row, (-size, 0.0), (size, float(rng.uniform(-size, size))))
    world.finish()
    return world, agent


@pytest.mark.parametrize("seed", range(40))
def test_rays_agree_with_pymunk_segment_query_first(seed):
    rng = np.random.default_rng(seed)
    world, agent = _random_scene(rng)
    poses = np.empty((world.n_bodies, 3))
    world.read(poses)
    angles = np.linspace(-math.pi, math.pi, 64, endpoint=False)
    start, max_range, gain = 15.0, 220.0, 10.0
    dist = np.empty((1, angles.size))
    out = np.empty((1, angles.size))
    rays.cast(poses, world.geometry, np.array([agent]), np.array([0]), angles, start, max_range, gain, dist, out)
    space = world.spaces[0]
    px, py, heading = poses[agent]
    hits = 0
    for r, a in enumerate(angles):
        u = (math.cos(heading + a), math.sin(heading + a))
        p0 = (px + start * u[0], py + start * u[1])
        p1 = (p0[0] + max_range * u[0], p0[1] + max_range * u[1])
        info = space.segment_query_first(p0, p1, 0.0, pymunk.ShapeFilter())
        expected = max_range if info is None else info.alpha * max_range
        hits += info is not None
        assert dist[0, r] == pytest.approx(expected, abs=1e-7), (r, a)
        assert out[0, r] == pytest.approx(gain * (max_range - expected) / max_range, abs=1e-7)
    assert hits >= 0


def test_scenes_produce_hits_and_misses():
    """Guard against a vacuous comparison: the random scenes contain both hits and misses."""
    total_hits = total = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        world, agent = _random_scene(rng)
        poses = np.empty((world.n_bodies, 3))
        world.read(poses)
        angles = np.linspace(-math.pi, math.pi, 64, endpoint=False)
        dist = np.empty((1, 64))
        rays.cast(poses, world.geometry, np.array([agent]), np.array([0]), angles, 15.0, 220.0, 1.0,
                  dist, np.empty((1, 64)))
        total_hits += int((dist < 220.0).sum())
        total += 64
    assert 0.05 * total < total_hits < 0.95 * total


def test_own_world_only_and_own_body_ignored():
    world = World()
    space = world.new_space()
    agents = []
    for _ in range(2):
        world.new_world(space)
        a = world.add_body(space, (0.0, 0.0))
        world.add_circle(a, 15.0)
        agents.append(a)
    # an object straight above the first agent only
    obj = world.add_body(space, (0.0, 100.0))
    world.add_circle(obj, 15.0)
    world.finish()
    poses = np.empty((world.n_bodies, 3))
    world.read(poses)
    dist = np.empty((2, 1))
    rays.cast(poses, world.geometry, np.array(agents), np.array([0, 1]), np.array([math.pi / 2]),
              15.0, 220.0, 1.0, dist, np.empty((2, 1)))
    # the object belongs to world 1 (it was added after world 1 opened) and sits at its origin + (0, 100)
    assert dist[1, 0] == pytest.approx(100.0 - 15.0 - 15.0)
    assert dist[0, 0] == 220.0


def test_ray_from_inside_reads_zero():
    world = World()
    space = world.new_space()
    world.new_world(space)
    a = world.add_body(space, (0.0, 0.0))
    b = world.add_body(space, (0.0, 20.0))
    world.add_polygon(b, [(-10, -10), (10, -10), (10, 10), (-10, 10)])
    world.finish()
    poses = np.empty((world.n_bodies, 3))
    world.read(poses)
    dist = np.empty((1, 1))
    rays.cast(poses, world.geometry, np.array([a]), np.array([0]), np.array([math.pi / 2]), 15.0, 220.0,
              1.0, dist, np.empty((1, 1)))
    assert dist[0, 0] == 0.0
