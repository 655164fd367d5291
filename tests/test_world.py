"""The kinematic fast path of evorobot.sim.world: the same bits as pymunk's own integration."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT

from evorobot.episode import Episode
from evorobot.seeding import conditions_rng
from evorobot.setup import load_setup


def _pair(world: str, overrides: list[str], n: int = 3) -> tuple[Episode, Episode]:
    setup = load_setup(ROOT / "worlds" / world, overrides)
    genomes = np.random.default_rng(7).uniform(-1, 1, (n, setup.genome_size))
    conds = setup.task.conditions(conditions_rng(1, 0))[:6]
    fast, slow = Episode(setup, genomes, conds), Episode(setup, genomes, conds)
    assert fast.world.kinematic
    slow.world.kinematic = False  # pymunk integrates (its bodies are at the start, as after a reset)
    return fast, slow


@pytest.mark.parametrize("world,overrides", [
    ("categorical_perception.toml", []),
    ("categorical_perception.toml", ["simulation.substeps=3"]),
    ("selective_attention.toml", []),   # two objects, one steered
    ("orientation.toml", []),
])
def test_kinematic_batches_move_exactly_as_pymunk_moves_them(world: str, overrides: list[str]) -> None:
    fast, slow = _pair(world, overrides)
    ticks = 0
    while fast.running:
        fast.tick()
        slow.tick()
        ticks += 1
        assert np.array_equal(fast.poses, slow.poses), f"tick {ticks}"
    assert not slow.running and ticks > 100
    a, b = fast.result(), slow.result()
    assert np.array_equal(a.fitness, b.fitness) and np.array_equal(a.failed, b.failed)
    assert np.ptp(fast.poses[:, 0]) > 0 and np.ptp(fast.poses[:, 1]) > 0  # things moved


def test_a_body_moved_through_the_world_moves_the_kernel_s_copy() -> None:
    fast, slow = _pair("categorical_perception.toml", [])
    for _ in range(40):
        fast.tick()
        slow.tick()
    row = int(fast.objects[2, 0])
    target = (float(fast.origins[2, 0]) + 12.345, 150.0)
    fast.world.move_body(row, target)
    slow.world.move_body(row, target)
    fast.world.read(fast.poses)
    slow.world.read(slow.poses)
    assert np.array_equal(fast.poses, slow.poses) and fast.poses[row, 1] == 150.0
    for _ in range(40):
        fast.tick()
        slow.tick()
    assert np.array_equal(fast.poses, slow.poses)


def test_reset_puts_the_kernel_s_bodies_back_at_the_start() -> None:
    fast, _ = _pair("categorical_perception.toml", [])
    start = fast.poses.copy()
    for _ in range(30):
        fast.tick()
    assert not np.array_equal(fast.poses, start)
    fast.reset()
    assert np.array_equal(fast.poses, start)


def test_robot_worlds_keep_pymunk() -> None:
    setup = load_setup(ROOT / "worlds" / "phototaxis.toml")
    ep = Episode(setup, np.zeros((1, setup.genome_size)), setup.task.conditions(conditions_rng(1, 0))[:2])
    assert not ep.world.kinematic
