"""Robot sensors and bodies: IR against pymunk's segment queries, the light law and its occlusion,
bumpers, noise, differential kinematics, and walls that a robot at full speed never passes."""

import math

import numpy as np
import pymunk
import pytest

from evorobot.agent import BumperSpec, IRSpec, LightSpec
from evorobot.config import load_world
from evorobot.episode import Episode
from evorobot.setup import build
from evorobot.sim.sensors import RobotSensors, draw_noise
from evorobot.sim.world import STATIC, World

from conftest import ROOT

R = 2.75  # Khepera radius (cm)


class _Agent:
    """The bits of an AgentSpec that RobotSensors reads."""

    def __init__(self, ir=None, light=None, bumper=None, radius=R):
        self.ir, self.light, self.bumper = ir, light, bumper
        self.body = type("B", (), {"radius": radius})()


def _sense(world, sensors, robot, n_in, step=0, noise=None):
    poses = np.empty((world.n_bodies, 3))
    world.read(poses)
    out = np.empty((1, n_in))
    ir_dist = np.empty((1, sensors.n_ir_rays))
    noise = np.zeros((1, 0, n_in)) if noise is None else noise
    sensors.sense(poses, world.geometry, np.array([robot]), np.array([0]), np.array([0]), step, noise, out, ir_dist)
    return out[0], ir_dist[0], poses


def _scene(rng):
    """A walled arena with random static circles, boxes and polygons and two other robots."""
    world = World()
    space = world.new_space()
    world.new_world(space)
    robot = world.add_robot(space, (0.0, 0.0), float(rng.uniform(-math.pi, math.pi)), R, 80.0)
    w, t = 50.0, 5.0
    for x0, y0, x1, y1 in ((-w - t, -w - t, w + t, -w), (-w - t, w, w + t, w + t), (-w - t, -w, -w, w), (w, -w, w + t, w)):
        world.add_polygon(STATIC, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
    for _ in range(int(rng.integers(2, 7))):
        c = rng.uniform(-40, 40, 2)
        if math.hypot(*c) < 20:
            continue  # ray origins stay outside every shape
        size = float(rng.uniform(2, 8))
        kind = rng.integers(0, 3)
        if kind == 0:
            world.add_circle(STATIC, size, offset=(float(c[0]), float(c[1])))
        else:
            n = 4 if kind == 1 else int(rng.integers(3, 7))
            ph = rng.uniform(0, 2 * math.pi)
            world.add_polygon(STATIC, [(c[0] + size * math.cos(ph + 2 * math.pi * k / n),
                                        c[1] + size * math.sin(ph + 2 * math.pi * k / n)) for k in range(n)])
    for _ in range(2):
        c = rng.uniform(-30, 30, 2)
        if math.hypot(*c) > 12:
            world.add_robot(space, (float(c[0]), float(c[1])), 0.0, R, 80.0)
    world.finish()
    return world, robot


@pytest.mark.parametrize("seed", range(25))
def test_ir_distances_agree_with_pymunk_segment_query_first(seed):
    rng = np.random.default_rng(seed)
    world, robot = _scene(rng)
    angles = tuple(np.linspace(-180, 180, 48, endpoint=False))
    ir = IRSpec(angles_deg=angles, range=60.0, decay=2.5, noise=0.0)
    sensors = RobotSensors(_Agent(ir=ir))
    out, dist, poses = _sense(world, sensors, robot, len(angles))
    space = world.spaces[0]
    own = world.bodies[robot]
    px, py, heading = poses[robot]
    hits = 0
    for r, a in enumerate(np.radians(angles)):
        u = (math.cos(heading + a), math.sin(heading + a))
        p0 = (px + R * u[0], py + R * u[1])
        p1 = (p0[0] + ir.range * u[0], p0[1] + ir.range * u[1])
        infos = [i for i in space.segment_query(p0, p1, 0.0, pymunk.ShapeFilter()) if i.shape.body is not own]
        expected = min((i.alpha * ir.range for i in infos), default=ir.range)
        hits += bool(infos)
        assert dist[r] == pytest.approx(expected, abs=1e-7), (r, a)
        value = math.exp(-expected / ir.decay) if expected < ir.range else 0.0
        assert out[r] == pytest.approx(value, abs=1e-9)
    assert hits > 0


def _light_world(light_at, blocker=None, robot_angle=0.0):
    world = World()
    space = world.new_space()
    world.new_world(space)
    robot = world.add_robot(space, (0.0, 0.0), robot_angle, R, 80.0)
    if blocker is not None:
        world.add_circle(STATIC, 3.0, offset=blocker)
    world.add_light(light_at, 1.0)
    world.finish()
    return world, robot


@pytest.mark.parametrize("falloff", ["linear", "inverse_square"])
def test_light_sensors_follow_the_documented_law(falloff):
    spec = LightSpec(angles_deg=(45.0, -45.0, 0.0, 180.0), aperture_deg=120.0, falloff=falloff, r0=20.0, noise=0.0)
    sensors = RobotSensors(_Agent(light=spec))
    for lx, ly in [(30.0, 10.0), (5.0, 40.0), (60.0, -60.0), (-20.0, 0.0)]:
        world, robot = _light_world((lx, ly))
        out, _, _ = _sense(world, sensors, robot, 4)
        for k, a in enumerate(np.radians(spec.angles_deg)):
            sx, sy = R * math.cos(a), R * math.sin(a)
            d = math.hypot(lx - sx, ly - sy)
            cos_a = ((lx - sx) * math.cos(a) + (ly - sy) * math.sin(a)) / d
            f = 1 / (1 + d / spec.r0) if falloff == "linear" else (spec.r0 / max(d, spec.r0)) ** 2
            expected = f * cos_a if cos_a >= math.cos(math.radians(60)) else 0.0
            assert out[k] == pytest.approx(min(expected, 1.0), abs=1e-12), (lx, ly, k)


def test_light_is_zero_behind_an_obstacle_and_seen_without_it():
    spec = LightSpec(angles_deg=(0.0,), aperture_deg=90.0, noise=0.0)
    sensors = RobotSensors(_Agent(light=spec))
    seen, _, _ = _sense(*_light_world((40.0, 0.0))[:1], sensors, 0, 1)
    hidden, _, _ = _sense(*_light_world((40.0, 0.0), blocker=(20.0, 0.0))[:1], sensors, 0, 1)
    beside, _, _ = _sense(*_light_world((40.0, 0.0), blocker=(20.0, 10.0))[:1], sensors, 0, 1)
    assert seen[0] > 0.3 and hidden[0] == 0.0 and beside[0] == seen[0]


def test_bumper_sector_points_at_the_contact():
    sensors = RobotSensors(_Agent(bumper=BumperSpec(sectors=4, margin=0.25)))
    for offset, sector in [((R + 3.0 + 0.1, 0.0), 0), ((0.0, R + 3.1), 1), ((-R - 3.1, 0.0), 2), ((0.0, -R - 3.1), 3)]:
        world = World()
        space = world.new_space()
        world.new_world(space)
        robot = world.add_robot(space, (0.0, 0.0), 0.0, R, 80.0)
        world.add_circle(STATIC, 3.0, offset=offset)
        world.finish()
        out, _, _ = _sense(world, sensors, robot, 4)
        assert list(out) == [1.0 if k == sector else 0.0 for k in range(4)], offset
    far = World()
    space = far.new_space()
    far.new_world(space)
    robot = far.add_robot(space, (0.0, 0.0), 0.0, R, 80.0)
    far.add_circle(STATIC, 3.0, offset=(R + 3.0 + 0.5, 0.0))  # 0.5 away: beyond the margin
    far.finish()
    assert list(_sense(far, sensors, robot, 4)[0]) == [0.0] * 4


def test_noise_is_reproducible_bounded_and_absent_at_zero():
    seeds = np.array([11.0, 12.0])
    a, b = draw_noise(seeds, 50, 8), draw_noise(seeds, 50, 8)
    assert np.array_equal(a, b) and np.abs(a).max() <= 1.0
    assert not np.array_equal(a[0], a[1])  # each trial its own stream
    assert np.array_equal(draw_noise(seeds[1:], 50, 8)[0], a[1])  # independent of the other trials
    rng = np.random.default_rng(3)
    world, robot = _scene(rng)
    clean_ir = IRSpec(angles_deg=(0.0, 90.0, 180.0, -90.0), range=60.0, noise=0.0)
    noisy_ir = IRSpec(angles_deg=clean_ir.angles_deg, range=60.0, noise=0.05)
    clean, _, _ = _sense(world, RobotSensors(_Agent(ir=clean_ir)), robot, 4)
    noise = draw_noise(np.array([5.0]), 3, 4)
    noisy, _, _ = _sense(world, RobotSensors(_Agent(ir=noisy_ir)), robot, 4, step=2, noise=noise)
    assert np.allclose(noisy, np.clip(clean + 0.05 * noise[0, 2], 0, 1), atol=1e-15)
    same, _, _ = _sense(world, RobotSensors(_Agent(ir=clean_ir)), robot, 4, step=2, noise=noise)
    assert np.array_equal(same, clean)  # amplitude 0: the noise array changes nothing


def test_differential_kinematics_follow_the_unicycle_recurrence():
    exp = load_world(ROOT / "worlds" / "phototaxis.toml", ["agent.ir.noise=0", "agent.light.noise=0"],
                     controller="braitenberg")
    setup = build(exp)
    cond = np.array([[-30.0, -20.0, 0.3, 40.0, 40.0, 1.0]])
    ep = Episode(setup, np.zeros((1, 0)), cond)
    m = exp.agent.motor
    x, y, th = -30.0, -20.0, 0.3
    o = np.array([[0.9, 0.6]])
    ep.controller.step = lambda params, state, inputs, dt, out: out.__setitem__(slice(None), o)
    for _ in range(40):  # stays clear of the walls
        ep.tick()
        left, right = 2 * o[0] - 1
        v, w = m.max_speed * (left + right) / 2, m.max_speed * (right - left) / m.wheel_distance
        x, y, th = x + v * math.cos(th) * exp.simulation.dt, y + v * math.sin(th) * exp.simulation.dt, th + w * exp.simulation.dt
        px, py, pa = ep.poses[ep.agent_body[0]]
        assert (px - ep.origins[0, 0], py, pa) == pytest.approx((x, y, th), abs=1e-9)


@pytest.mark.parametrize("agent_file,sink_over_radius", [("khepera.toml", 0.29), ("epuck.toml", 0.19)])
def test_a_robot_at_full_speed_never_passes_through_a_wall(agent_file, sink_over_radius):
    world = ROOT / "worlds" / "obstacle_avoidance.toml"
    exp = load_world(world, [f'agent.file="../agents/{agent_file}"', "task.obstacles=[]"], controller="braitenberg")
    setup = build(exp)
    headings = np.linspace(-math.pi, math.pi, 24, endpoint=False)
    cond = np.array([[10.0 * math.cos(3 * h), 10.0 * math.sin(2 * h), h, 1.0] for h in headings])
    ep = Episode(setup, np.zeros((1, 0)), cond)
    ep.controller.step = lambda params, state, inputs, dt, out: out.__setitem__(slice(None), 1.0)
    half = exp.task.arena_width / 2
    worst = 0.0
    for _ in range(300):  # 30 s at full speed: every robot rams a wall or a corner for many seconds
        ep.tick()
        local = ep.poses[ep.agent_body, :2] - ep.origins[ep.agent_world]
        worst = max(worst, float(np.abs(local).max()))
    r = exp.agent.body.radius
    assert worst > half - r - 0.5  # they did reach the walls
    # and sank in by one substep's travel (the loader keeps it under a quarter radius) plus pymunk's
    # contact slop: measured 0.772 cm = 0.281 r (Khepera), 0.697 cm = 0.188 r (e-puck), as the README says
    travel = exp.agent.motor.max_speed * exp.simulation.dt / exp.simulation.substeps
    sink = worst - (half - r)
    assert travel < sink < travel + 0.3 and sink < sink_over_radius * r


def test_ir_fan_reads_the_nearest_of_its_rays_and_sees_off_axis_robots():
    rng = np.random.default_rng(11)
    world, robot = _scene(rng)
    fan = IRSpec(angles_deg=(0.0, 90.0, 180.0, -90.0), range=60.0, noise=0.0, rays=3, aperture_deg=30.0)
    sensors = RobotSensors(_Agent(ir=fan))
    out, dist, poses = _sense(world, sensors, robot, 4)
    assert dist.shape == (12,) and sensors.n_ir == 4
    space, own = world.spaces[0], world.bodies[robot]
    px, py, heading = poses[robot]
    for k, centre in enumerate(fan.angles_deg):
        nearest = fan.range
        for off in (-15.0, 0.0, 15.0):
            a = heading + math.radians(centre + off)
            p0 = (px + R * math.cos(a), py + R * math.sin(a))
            p1 = (p0[0] + fan.range * math.cos(a), p0[1] + fan.range * math.sin(a))
            hits = [i.alpha * fan.range for i in space.segment_query(p0, p1, 0.0, pymunk.ShapeFilter())
                    if i.shape.body is not own]
            nearest = min([nearest, *hits])
        expected = math.exp(-nearest / fan.decay) if nearest < fan.range else 0.0
        assert out[k] == pytest.approx(expected, abs=1e-9)
    # a robot 25 degrees off the front sensor's axis (its edge 7 degrees off): missed by one ray, seen by the fan
    world = World()
    space = world.new_space()
    world.new_world(space)
    me = world.add_robot(space, (0.0, 0.0), 0.0, R, 80.0)
    world.add_robot(space, (9.0 * math.cos(math.radians(25)), 9.0 * math.sin(math.radians(25))), 0.0, R, 80.0)
    world.finish()
    single = IRSpec(angles_deg=(0.0,), noise=0.0)
    assert _sense(world, RobotSensors(_Agent(ir=single)), me, 1)[0][0] == 0.0
    assert _sense(world, RobotSensors(_Agent(ir=IRSpec(angles_deg=(0.0,), noise=0.0, rays=3, aperture_deg=40.0))),
                  me, 1)[0][0] > 0.05


def test_ir_fan_needs_an_aperture():
    from evorobot.errors import ConfigError
    from evorobot.spec import parse

    with pytest.raises(ConfigError, match=r"\[ir\]: `rays` = 3 needs an `aperture_deg` > 0"):
        parse(IRSpec, {"rays": 3}, "a.toml [ir]")
