"""``[simulation] project_contacts``: the commanded velocity cut off static geometry (evorobot.sim.motors).

Closed-form cuts of the kernel, then whole episodes: robots rammed into walls at full speed with one
substep stay out of them, slide along them at the tangential speed, and the loader's substep rule.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from evorobot.config import load_world
from evorobot.episode import Episode
from evorobot.errors import ConfigError
from evorobot.setup import build
from evorobot.sim.motors import project_off_static, project_one
from evorobot.sim.world import CIRCLE, POLYGON, STATIC, World

ROOT = Path(__file__).resolve().parents[1]
R, DT = 2.75, 0.1
BOX = [(5.0, -20.0), (10.0, -20.0), (10.0, 20.0), (5.0, 20.0)]  # a wall 2.25 beyond a robot at the origin


def _cut(vx: float, vy: float, shapes: list[tuple[int, tuple[float, float], float, list]], px: float = 0.0,
         py: float = 0.0) -> tuple[float, float]:
    kinds = np.array([k for k, _, _, _ in shapes], dtype=np.int64)
    centres = np.array([c for _, c, _, _ in shapes], dtype=np.float64).reshape(-1, 2)
    radii = np.array([r for _, _, r, _ in shapes], dtype=np.float64)
    counts = np.array([len(v) for _, _, _, v in shapes], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    verts = np.array([p for _, _, _, v in shapes for p in v], dtype=np.float64).reshape(-1, 2)
    return project_one(px, py, vx, vy, R, DT, kinds, centres, radii, starts, counts, verts)


WALL = (POLYGON, (7.5, 0.0), math.hypot(2.5, 20.0), BOX)
POST = (CIRCLE, (10.0, 0.0), 3.0, [])  # gap 10 - 3 - 2.75 = 4.25


@pytest.mark.parametrize("v,expected", [
    ((30.0, 4.0), (22.5, 4.0)),     # would travel 3 > gap 2.25: the normal speed cut to 2.25 / 0.1
    ((20.0, 4.0), (20.0, 4.0)),     # travels 2 < 2.25: untouched
    ((-30.0, 4.0), (-30.0, 4.0)),   # moving away: untouched
    ((0.0, 50.0), (0.0, 50.0)),     # along the wall: untouched
])
def test_a_wall_takes_only_the_normal_speed_beyond_the_gap(v, expected):
    assert _cut(*v, [WALL]) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("v,expected", [
    ((60.0, 0.0), (42.5, 0.0)),     # head on: cut to the gap, 4.25 / 0.1
    ((60.0, 60.0), (42.5, 60.0)),   # the nearest point is straight ahead: only x is cut
    ((40.0, 0.0), (40.0, 0.0)),     # stops short of the post
])
def test_a_post_takes_the_speed_towards_its_nearest_point(v, expected):
    assert _cut(*v, [POST]) == pytest.approx(expected, abs=1e-12)


def test_off_axis_post_cuts_along_the_line_of_centres():
    # post centre at (6, 8), distance 10: normal (-0.6, -0.8), gap 10 - 3 - 2.75 = 4.25
    post = (CIRCLE, (6.0, 8.0), 3.0, [])
    vx, vy = _cut(36.0, 48.0, [post])  # straight at the centre, speed 60: cut to 42.5
    assert (vx, vy) == pytest.approx((0.6 * 42.5, 0.8 * 42.5), abs=1e-12)


def test_a_corner_takes_both_normal_speeds_and_a_touching_robot_only_slides():
    floor = (POLYGON, (0.0, -5.0), 30.0, [(-20.0, -10.0), (20.0, -10.0), (20.0, -2.75), (-20.0, -2.75)])
    assert _cut(30.0, -30.0, [WALL, floor]) == pytest.approx((22.5, 0.0), abs=1e-12)  # touching the floor
    assert _cut(-7.0, -30.0, [floor]) == pytest.approx((-7.0, 0.0), abs=1e-12)


def test_only_static_shapes_of_the_robots_own_world_count():
    world = World()
    space = world.new_space()
    for k in range(2):
        world.new_world(space)
        row = world.add_robot(space, (0.0, 0.0), 0.0, R, 80.0)
        world.add_polygon(STATIC, BOX)
        if k == 0:
            other = world.add_body(space, (6.0, 0.0))  # a moving body in front: left to the solver
            world.add_circle(other, 1.0)
    g = world.finish()
    poses = np.zeros((world.n_bodies, 3))
    world.read(poses)
    velocities = np.zeros((world.n_bodies, 3))
    robots = np.array([0, 2], dtype=np.int64)
    velocities[robots, 0] = 30.0
    project_off_static(robots, np.array([0, 1]), R, DT, poses, velocities, g.body, g.kind, g.centre, g.radius,
                       g.vert_start, g.vert_count, g.verts, g.world_start, len(world.bodies))
    assert velocities[robots, 0] == pytest.approx([22.5, 22.5], abs=1e-12)  # each its own world's wall
    assert velocities[1, 0] == 0.0  # the moving body is not a robot: untouched


def _ram(agent_file: str, overrides: list[str]) -> tuple[float, float, Episode]:
    """24 robots at full speed for 30 s in the empty obstacle-avoidance arena: how far past the wall
    line any centre got (sink), and how close they came to it."""
    exp = load_world(ROOT / "worlds" / "obstacle_avoidance.toml",
                     [f'agent.file="../agents/{agent_file}"', "task.obstacles=[]", *overrides], controller="braitenberg")
    ep = Episode(build(exp), np.zeros((1, 0)),
                 np.array([[10.0 * math.cos(3 * h), 10.0 * math.sin(2 * h), h, 1.0]
                           for h in np.linspace(-math.pi, math.pi, 24, endpoint=False)]))
    ep.controller.step = lambda params, state, inputs, dt, out: out.__setitem__(slice(None), 1.0)
    worst = 0.0
    for _ in range(300):
        ep.tick()
        local = ep.poses[ep.agent_body, :2] - ep.origins[ep.agent_world]
        worst = max(worst, float(np.abs(local).max()))
    inner = exp.task.arena_width / 2 - exp.agent.body.radius  # centre of a robot touching a wall
    return worst - inner, exp.agent.motor.max_speed * exp.simulation.dt, ep


@pytest.mark.parametrize("agent_file", ["khepera.toml", "epuck.toml"])
def test_one_substep_with_projection_keeps_robots_out_of_walls(agent_file):
    sink, travel, _ = _ram(agent_file, ["simulation.substeps=1", "simulation.project_contacts=true"])
    assert travel > 1.0  # a whole tick's travel is a third of a radius or more: without it they would sink
    assert -1e-9 < sink < 1e-9  # they reached the walls and stopped on them (measured 0.0)
    unguarded, _, _ = _ram(agent_file, ["simulation.substeps=3"])
    assert unguarded > 0.5  # the solver alone lets them sink (0.77 / 0.70 cm)


def test_a_robot_driven_obliquely_into_a_wall_slides_along_it():
    exp = load_world(ROOT / "worlds" / "obstacle_avoidance.toml",
                     ["task.obstacles=[]", "simulation.substeps=1", "simulation.project_contacts=true",
                      "agent.ir.noise=0"], controller="braitenberg")
    start = np.array([[-30.0, 0.0, math.pi / 4, 1.0]])  # meets the top wall 30 short of the corner
    ep = Episode(build(exp), np.zeros((1, 0)), start)
    ep.controller.step = lambda params, state, inputs, dt, out: out.__setitem__(slice(None), 1.0)
    inner = exp.task.arena_width / 2 - exp.agent.body.radius
    v = exp.agent.motor.max_speed
    xs = []
    for _ in range(120):
        ep.tick()
        x, y = ep.poses[ep.agent_body[0], :2] - ep.origins[0]
        if abs(y - inner) < 1e-9 and x < inner - 2 * v * DT:  # on the top wall, clear of the corner
            xs.append(x)
    assert len(xs) > 5
    assert np.diff(xs) == pytest.approx(v * math.cos(math.pi / 4) * DT, abs=1e-9)  # the tangential speed


def test_the_loader_accepts_one_substep_only_with_projection_and_one_robot():
    pt = ROOT / "worlds" / "phototaxis.toml"
    with pytest.raises(ConfigError, match="project_contacts = true"):
        build(load_world(pt, ["simulation.substeps=1", "simulation.project_contacts=false"]))
    build(load_world(pt, ["simulation.substeps=1", "simulation.project_contacts=true"]))
    team = ROOT / "worlds" / "coordinated_movement.toml"
    with pytest.raises(ConfigError, match="substeps >= "):  # robots push robots: the solver's job
        build(load_world(team, ["simulation.substeps=1", "simulation.project_contacts=true"]))
