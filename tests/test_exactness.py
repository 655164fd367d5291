"""Exactness options of the eye (issue 21): exact axes, Izquierdo's far-side reading; default unchanged."""

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest

from evorobot.agent import EyeSpec
from evorobot.config import load_world
from evorobot.episode import evaluate_individuals
from evorobot.seeding import conditions_rng
from evorobot.setup import build
from evorobot.sim import rays
from evorobot.sim.world import World

from conftest import CP_WORLD, assert_alone_equals_batch

START, RANGE = 15.0, 220.0


def _read(build_shapes, eye: EyeSpec, far: bool = False) -> np.ndarray:
    """Distances of ``eye``'s rays from an unrotated agent at the origin among the shapes built."""
    world = World()
    space = world.new_space()
    world.new_world(space)
    agent = world.add_body(space, (0.0, 0.0))
    build_shapes(world, space)
    world.finish()
    poses = np.empty((world.n_bodies, 3))
    world.read(poses)
    angles = np.ascontiguousarray(eye.angles(), dtype=np.float64)
    dist, out = np.empty((1, angles.size)), np.empty((1, angles.size))
    rays.cast(poses, world.geometry, np.array([agent]), np.array([0]), angles, START, RANGE, 10.0, dist, out,
              eye.directions(), far)
    return dist[0]


def test_exact_axes_middle_ray_is_vertical_and_fan_mirrored():
    cos, sin = EyeSpec(exact_axes=True).directions()
    assert (cos[3], sin[3]) == (0.0, 1.0)
    assert np.array_equal(cos, -cos[::-1]) and np.array_equal(sin, sin[::-1])
    assert np.allclose(cos, np.cos(EyeSpec().angles()), atol=1e-15)
    assert EyeSpec().directions() is None  # default: the kernel takes cos/sin of the radians
    c4, s4 = EyeSpec(rays=5, fov_deg=360.0, axis_deg=0.0, exact_axes=True).directions()
    assert list(zip(c4, s4)) == [(-1.0, 0.0), (0.0, 1.0), (1.0, 0.0), (0.0, -1.0), (-1.0, 0.0)]


def _segment_ending_above(world, space):
    row = world.add_body(space, (0.0, 200.0))
    world.add_segment(row, (0.0, 0.0), (-30.0, 0.0))  # its end exactly above the middle ray


def test_exact_axes_ray_straight_above_an_end_reads_closed_form():
    # cos(pi/2) = 6e-17 tilts the middle ray right: it misses a segment ending exactly above it
    assert _read(_segment_ending_above, EyeSpec(exact_axes=True))[3] == 200.0 - START
    assert _read(_segment_ending_above, EyeSpec())[3] == RANGE


def _circle_around_origin(world, space):
    world.add_circle(world.add_body(space, (0.0, 20.0)), 25.0)


def _diamond(world, space):
    row = world.add_body(space, (0.0, 25.0))
    world.add_polygon(row, [(0.0, -20.0), (20.0, 0.0), (0.0, 20.0), (-20.0, 0.0)])


def _segment_through(world, space):
    world.add_segment(world.add_body(space, (0.0, 40.0)), (-50.0, 0.0), (50.0, 0.0))


def test_far_side_reads_closed_form_distances():
    eye = EyeSpec(rays=1, exact_axes=True)  # one ray straight up from (0, 15)
    # circle centre (0, 20) radius 25: the ray leaves it at y = 45
    assert _read(_circle_around_origin, eye, far=True)[0] == 45.0 - START
    assert _read(_circle_around_origin, eye)[0] == 0.0
    # diamond centre (0, 25) half-diagonal 20: the ray leaves through its top vertex at y = 45
    assert _read(_diamond, eye, far=True)[0] == 45.0 - START
    assert _read(_diamond, eye)[0] == 0.0
    # a segment has no inside: 25 either way
    assert _read(_segment_through, eye, far=True)[0] == 40.0 - START == _read(_segment_through, eye)[0]


def test_far_side_at_an_angle_matches_the_chord():
    eye = EyeSpec(rays=1, axis_deg=60.0)
    d = _read(_circle_around_origin, eye, far=True)[0]
    ox, oy = START * math.cos(math.radians(60)), START * math.sin(math.radians(60))
    x, y = ox + d * math.cos(math.radians(60)), oy + d * math.sin(math.radians(60))
    assert math.hypot(x, y - 20.0) == pytest.approx(25.0, abs=1e-12) and d > 0


def test_default_fitness_is_heads():
    setup = build(load_world(CP_WORLD))
    conditions = setup.task.conditions(conditions_rng(1, 0))
    genomes = np.random.default_rng(21).uniform(-1, 1, (2, setup.genome_size))
    fit = evaluate_individuals(setup, genomes, conditions).fitness
    digest = hashlib.sha256(np.ascontiguousarray(fit).tobytes()).hexdigest()
    assert digest == "9ae454cc3e5910293807f9894fe912472b5c022655edbcbaa70074f6a6654c54"  # commit dd04cdf


def _cp_setup(placement: str, tmp: Path):
    path = tmp / "cp.toml"
    path.write_text(CP_WORLD.read_text().replace("[simulation]", f'[simulation]\nplacement = "{placement}"'))
    return build(load_world(path))


@pytest.mark.parametrize("placement", ["tiled", "per_trial"])
def test_per_trial_placement_makes_a_trial_independent_of_its_slot(placement, tmp_path):
    setup = _cp_setup(placement, tmp_path)
    conditions = setup.task.conditions(conditions_rng(1, 0))
    genome = np.random.default_rng(5).uniform(-1, 1, (1, setup.genome_size))
    together = evaluate_individuals(setup, genome, conditions).fitness[0]
    alone = np.array([evaluate_individuals(setup, genome, conditions[i:i + 1]).fitness[0, 0] for i in range(24)])
    # tiled: trial k at x = 2000 k rounds differently from the same trial at x = 0 (3e-13)
    assert np.array_equal(together, alone) == (placement == "per_trial")


def test_per_trial_placement_alone_equals_batch(tmp_path):
    setup = _cp_setup("per_trial", tmp_path)
    conditions = setup.task.conditions(conditions_rng(1, 0))
    assert_alone_equals_batch(setup, np.random.default_rng(3).uniform(-1, 1, (3, setup.genome_size)), conditions)
