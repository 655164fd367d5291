"""The camera (Lambertian pixels of known scenes, distances against pymunk), evolved receptive
fields (coverage, genome layout, champion files), incremental evolution (--init-from), the vision
task's moving target, and the viewer's retina strip."""

import json
import math
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pymunk
import pytest

from evorobot.agent import CameraSpec
from evorobot.cli import main
from evorobot.config import load_world
from evorobot.episode import Episode
from evorobot.seeding import conditions_rng
from evorobot.setup import build
from evorobot.sim.camera import ReceptiveFields, decode_fields
from evorobot.sim.sensors import RobotSensors
from evorobot.sim.world import STATIC, World

from conftest import ROOT
from test_robot_sensors import R, _scene

STAGE4 = ROOT / "worlds" / "vision_triangle_rectangle.toml"
FAST = ["task.trials=2", "task.duration=3.0", "optimizer.population=6", "evolution.chunk_size=3"]


class _Agent:
    """The bits of an AgentSpec that RobotSensors reads: a camera only."""

    def __init__(self, camera):
        self.ir = self.light = self.bumper = None
        self.camera = camera
        self.body = type("B", (), {"radius": R})()


def _look(world, robot, cam, fields=None):
    """(inputs, pixels, distances) of ``robot`` with camera ``cam`` (and fields) in ``world``."""
    sensors = RobotSensors(_Agent(cam), fields)
    poses = np.empty((world.n_bodies, 3))
    world.read(poses)
    out = np.empty((1, cam.n_inputs))
    sensors.sense(poses, world.geometry, np.array([robot]), np.array([0]), np.array([0]), 0,
                  np.zeros((1, 0, cam.n_inputs)), out, np.empty((1, 0)))
    return out[0], sensors.pixels[0].copy(), sensors.cam_dist[0].copy()


def _one_object(verts, brightness, heading=0.0):
    world = World()
    space = world.new_space()
    world.new_world(space)
    robot = world.add_robot(space, (0.0, 0.0), heading, R, 80.0)
    world.add_polygon(STATIC, verts, brightness)
    world.finish()
    return world, robot


def test_face_on_rectangle_reads_its_brightness_shaded_by_the_ray_angle():
    """Every ray hits the flat face x = 25, normal (-1, 0): pixel k = brightness * cos(angle k),
    so the centre pixel (angle 0) is the brightness exactly and the row is uniform within
    cos(fov / 2)."""
    cam = CameraSpec(pixels=9, fov_deg=20.0, range=100.0)
    world, robot = _one_object([(25.0, -30.0), (35.0, -30.0), (35.0, 30.0), (25.0, 30.0)], 0.8)
    inputs, pixels, dist = _look(world, robot, cam)
    angles = cam.angles()
    assert pixels[4] == 0.8
    np.testing.assert_allclose(pixels, 0.8 * np.cos(angles), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dist, (25.0 - R * np.cos(angles)) / np.cos(angles), atol=1e-9)
    assert np.ptp(pixels) <= 0.8 * (1 - math.cos(math.radians(10))) + 1e-12
    np.testing.assert_array_equal(inputs, pixels)  # fields = 0: the pixels are the inputs


def test_nothing_hit_is_black_background():
    cam = CameraSpec(pixels=8, fov_deg=40.0, range=100.0)
    world, robot = _one_object([(25.0, -5.0), (35.0, -5.0), (35.0, 5.0), (25.0, 5.0)], 1.0, heading=math.pi)
    _, pixels, dist = _look(world, robot, cam)
    assert np.all(pixels == 0.0) and np.all(dist == 100.0)


def test_triangle_faces_follow_the_lambertian_formula_by_hand():
    """A triangle with its apex (20, 2) towards the robot: the lower face runs from (32, -10) to
    the apex, the upper from the apex to (32, 10). By hand, the outward normals are
    n_low = (-12, -12) / sqrt(288) and n_up = (-8, 12) / sqrt(208); a ray at angle a reads
    brightness * max(0, -(cos a, sin a) . n) on the face it hits."""
    cam = CameraSpec(pixels=24, fov_deg=40.0, range=100.0)
    world, robot = _one_object([(32.0, -10.0), (32.0, 10.0), (20.0, 2.0)], 1.0)
    _, pixels, dist = _look(world, robot, cam)
    angles = cam.angles()
    n_low, n_up = np.array([-12.0, -12.0]) / math.sqrt(288), np.array([-8.0, 12.0]) / math.sqrt(208)
    seen_low, seen_up = [], []
    for k, a in enumerate(angles):
        u = np.array([math.cos(a), math.sin(a)])
        hit = R * u + dist[k] * u
        if dist[k] >= 100.0:
            assert pixels[k] == 0.0
            continue
        low = hit[1] < 2.0  # below the apex: the lower face
        expected = max(0.0, -u @ (n_low if low else n_up))
        assert pixels[k] == pytest.approx(expected, abs=1e-12), k
        (seen_low if low else seen_up).append(pixels[k])
    assert len(seen_low) >= 3 and len(seen_up) >= 3
    assert np.mean(seen_low) > np.mean(seen_up) + 0.1  # the two faces look distinct


def test_a_segment_is_shaded_from_either_side_and_a_circle_radially():
    world = World()
    space = world.new_space()
    world.new_world(space)
    robot = world.add_robot(space, (0.0, 0.0), 0.0, R, 80.0)
    world.add_segment(STATIC, (20.0, 10.0), (20.0, -10.0), 0.5)  # either winding faces the ray
    world.finish()
    cam = CameraSpec(pixels=1, fov_deg=10.0, range=100.0)
    assert _look(world, robot, cam)[1][0] == 0.5
    world = World()
    space = world.new_space()
    world.new_world(space)
    robot = world.add_robot(space, (0.0, 0.0), 0.0, R, 80.0)
    world.add_circle(STATIC, 5.0, 1.0, offset=(30.0, 3.0))
    world.finish()
    _, pixels, dist = _look(world, robot, CameraSpec(pixels=1, fov_deg=10.0, range=100.0))
    hit = np.array([R + dist[0], 0.0])
    n = (hit - [30.0, 3.0]) / 5.0
    assert pixels[0] == pytest.approx(-n[0], abs=1e-12)


@pytest.mark.parametrize("seed", range(15))
def test_camera_distances_agree_with_pymunk_segment_query_first(seed):
    rng = np.random.default_rng(seed)
    world, robot = _scene(rng)
    cam = CameraSpec(pixels=48, fov_deg=360.0, range=80.0)
    _, pixels, dist = _look(world, robot, cam)
    poses = np.empty((world.n_bodies, 3))
    world.read(poses)
    px, py, heading = poses[robot]
    me = world.bodies[robot].shapes
    for k, a in enumerate(cam.angles()):
        u = (math.cos(heading + a), math.sin(heading + a))
        p0 = (px + R * u[0], py + R * u[1])
        p1 = (p0[0] + 80.0 * u[0], p0[1] + 80.0 * u[1])
        hits = [h for h in world.spaces[0].segment_query(p0, p1, 0.0, pymunk.ShapeFilter()) if h.shape not in me]
        expected = min((h.alpha * 80.0 for h in hits), default=80.0)
        assert dist[k] == pytest.approx(expected, abs=1e-7), k
        assert 0.0 <= pixels[k] <= 1.0 and (pixels[k] == 0.0) >= (expected == 80.0)


def test_receptive_fields_cover_the_documented_pixels():
    cam = CameraSpec(pixels=32, fields=3, min_width=0.5, max_width=16.0)
    # centre gene 0 -> c = 16; width gene -1 -> w = 0.5: no centre in [15.75, 16.25] -> nearest pixel
    # (16, centre 16.5... and 15, centre 15.5, tie broken by floor(c) = 16); width gene 1 -> w = 16
    genes = np.array([[0.0, -1.0, 0.0, 1.0, -1.0, 1.0]])
    f = decode_fields(cam, genes)
    np.testing.assert_array_equal(f.centre, [[16.0, 16.0, 0.0]])
    np.testing.assert_array_equal(f.width, [[0.5, 16.0, 16.0]])
    assert (f.lo[0].tolist(), f.hi[0].tolist()) == ([16, 8, 0], [17, 24, 8])
    rng = np.random.default_rng(3)
    genes = rng.uniform(-1, 1, (200, 6))
    f = decode_fields(cam, genes)
    centres = np.arange(32) + 0.5
    for b in range(200):
        for k in range(3):
            c, w = f.centre[b, k], f.width[b, k]
            inside = np.flatnonzero((centres >= c - w / 2) & (centres <= c + w / 2))
            if inside.size == 0:
                inside = np.array([np.argmin(np.abs(centres - c))])
            assert (f.lo[b, k], f.hi[b, k]) == (inside[0], inside[-1] + 1)


def test_fields_average_exactly_the_pixels_they_cover():
    rng = np.random.default_rng(5)
    world, robot = _scene(rng)
    raw = CameraSpec(pixels=32, fov_deg=300.0, range=80.0)
    cam = CameraSpec(pixels=32, fov_deg=300.0, range=80.0, fields=4, min_width=1.0, max_width=32.0)
    _, pixels, _ = _look(world, robot, raw)
    assert np.unique(pixels).size > 4
    fields = decode_fields(cam, rng.uniform(-1, 1, (1, 8)))
    inputs, pixels2, _ = _look(world, robot, cam, fields)
    np.testing.assert_array_equal(pixels2, pixels)
    for k in range(4):
        lo, hi = fields.lo[0, k], fields.hi[0, k]
        assert inputs[k] == sum(float(p) for p in pixels[lo:hi]) / (hi - lo)


def test_genome_is_controller_then_two_genes_per_field_and_decodes_back():
    exp = load_world(STAGE4)
    setup = build(exp)
    cam = exp.agent.camera
    assert cam.fields == 3 and setup.morphology_size == 6
    assert setup.genome_size == setup.controller.genome_size + 2 * cam.fields
    assert exp.agent.n_inputs == len(exp.agent.ir.angles_deg) + cam.fields
    assert setup.controller.n_inputs == exp.agent.n_inputs
    g = np.random.default_rng(0).uniform(-1, 1, (5, setup.genome_size))
    f = setup.decode_morphology(g)
    tail = g[:, setup.controller.genome_size:].reshape(5, 3, 2)
    np.testing.assert_allclose((f.centre / 32) * 2 - 1, tail[:, :, 0], atol=1e-12)
    np.testing.assert_allclose((f.width - 1.0) / (cam.widest - 1.0) * 2 - 1, tail[:, :, 1], atol=1e-12)
    assert build(load_world(STAGE4, ["agent.camera.fields=0"])).morphology_size == 0
    assert load_world(STAGE4, ["agent.camera.fields=0"]).agent.n_inputs == 8 + 32


def test_a_bad_camera_table_is_one_error_line(tmp_path, capsys):
    assert main(["evolve", str(STAGE4), "--set", "agent.camera.max_width=64", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "max_width" in err and not (tmp_path / "x").exists()


@pytest.fixture(scope="module")
def stage_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("vision")
    a, b = root / "a", root / "b"
    sets = [x for s in FAST for x in ("--set", s)]
    assert main(["evolve", str(ROOT / "worlds" / "vision_moving_target.toml"), "--out", str(a),
                 "--generations", "2", *sets]) == 0
    assert main(["evolve", str(STAGE4), "--out", str(b), "--generations", "2", "--init-from", str(a),
                 "--population", "8", "--set", "evolution.checkpoint_every=10", *sets]) == 0
    return a, b


def test_champion_with_fields_describes_them_and_replays_bit_for_bit(stage_runs, capsys):
    _, b = stage_runs
    champ = json.loads((b / "champion.json").read_text())
    fields = champ["morphology"]["receptive_fields"]
    assert len(fields) == 3 and {"first_pixel", "last_pixel", "centre_deg", "width_deg"} <= set(fields[0])
    capsys.readouterr()
    assert main(["replay", str(b / "champion.json"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["matches_stored"] is True
    assert main(["replay", str(b), "--trials", "3", "--seed", "7"]) == 0
    assert "nearer_triangle" in capsys.readouterr().out


def test_init_from_starts_from_the_other_runs_final_population(stage_runs):
    from evorobot.evolution import checkpoint

    a, b = stage_runs
    final = checkpoint.load_latest(a, print).optimizer["population"]
    start = checkpoint.read(b / "checkpoint" / "gen-000000")  # kept: checkpoint_every > generations
    man = json.loads((b / "manifest.json").read_text())
    assert man["init_from"]["run"] == str(a) and man["init_from"]["generations_done"] == 2
    pop = start.optimizer["population"]  # 6 from the old run, 2 more drawn among them
    np.testing.assert_array_equal(pop[:6], final)
    assert all(any(np.array_equal(row, old) for old in final) for row in pop[6:])


def test_init_from_truncates_a_larger_population(stage_runs):
    from evorobot.evolution import checkpoint
    from evorobot.evolution.runner import initial_population

    _, b = stage_runs
    setup = build(load_world(STAGE4, FAST))
    pop, record = initial_population(setup, b, 5)
    np.testing.assert_array_equal(pop, checkpoint.load_latest(b, print).optimizer["population"][:5])
    assert record["population"] == 5


def test_center_crossing_init_touches_the_controller_genes_only(tmp_path):
    from evorobot.evolution import checkpoint

    sets = [x for s in FAST for x in ("--set", s)]
    out = tmp_path / "cc"
    assert main(["evolve", str(STAGE4), "--out", str(out), "--generations", "1", "--set",
                 "controller.center_crossing_init=true", *sets]) == 0
    assert checkpoint.read(out / "checkpoint" / "gen-000000").optimizer["population"].shape[1] == 110


def test_init_from_refuses_another_genome_layout_in_one_line(stage_runs, tmp_path, capsys):
    a, _ = stage_runs
    out = tmp_path / "c"
    sets = [x for s in FAST for x in ("--set", s)]
    assert main(["evolve", str(STAGE4), "--out", str(out), "--init-from", str(a), "--set",
                 "agent.camera.fields=2", *sets]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "genome layout differs" in err and "camera" in err
    assert not out.exists()
    assert main(["evolve", str(STAGE4), "--out", str(out), "--init-from", str(tmp_path / "nope"), *sets]) == 2
    assert "not a run directory" in capsys.readouterr().err and not out.exists()


def test_moving_target_goes_back_and_forth_within_its_path():
    exp = load_world(ROOT / "worlds" / "vision_moving_target.toml", ["task.trials=3", "task.duration=30"])
    setup = build(exp)
    conds = setup.task.conditions(conditions_rng(1, 0))
    ep = Episode(setup, np.zeros((1, setup.genome_size)), conds)
    along = []
    while ep.running:
        ep.tick()
        o = ep.objects[:, 0]
        rel = ep.poses[o, :2] - ep.origins - conds[:, 3:5]
        along.append(rel[:, 0] * np.cos(conds[:, 9]) + rel[:, 1] * np.sin(conds[:, 9]))
    along = np.array(along)
    half, step = exp.task.travel / 2, exp.task.speed * exp.simulation.dt
    assert along.max() <= half + step + 1e-9 and along.min() >= -half - step - 1e-9
    assert along.max() > half - step and along.min() < -half + step  # it reached both ends


def test_fields_are_a_namedtuple_of_batched_arrays():
    f = decode_fields(CameraSpec(fields=2), np.zeros((3, 4)))
    assert isinstance(f, ReceptiveFields) and f.lo.shape == (3, 2) and f.lo.dtype == np.int64


def test_viewer_draws_camera_rays_and_the_retina_strip(stage_runs):
    import pygame

    from evorobot.source import ChampionSource
    from evorobot.viewer import render
    from evorobot.viewer.app import Viewer

    _, b = stage_runs
    v = Viewer(ChampionSource(b / "champion.json"))
    v.step(5)
    surface = pygame.Surface((900, 560))
    v.draw(surface)
    ep, trial = v.episode, v.state.trial
    agent = trial * ep.n_robots
    pixels = ep.robots.pixels[agent]
    cells = v.renderer.retina_cells
    assert len(cells) == pixels.size == 32
    for rect, p in zip(cells, pixels):  # each cell is its pixel's grey
        grey = round(255 * p)
        assert tuple(surface.get_at(rect.center))[:3] == (grey, grey, grey)
    # the receptive fields' bars lie under the retina, from each field's first to last pixel
    lo = int(ep.morphology.lo[agent, 0])
    below = (cells[lo].centerx, cells[lo].bottom + 3)
    assert tuple(surface.get_at(below))[:3] == render.FIELD
    # a camera ray that hit something is drawn in its pixel's grey (checked half-way along it)
    tf, ox, oy = v.renderer.transform, *ep.origins[trial]
    x, y, heading = ep.poses[ep.agent_body[agent]]
    hits = np.flatnonzero(pixels > 0.3)
    if hits.size:
        r = int(hits[0])
        a = heading + ep.robots.cam_angles[r]
        d = ep.robots.cam_dist[agent, r] / 2 + ep.agent.body.radius
        px, py = tf(x - ox + d * math.cos(a), y - oy + d * math.sin(a))
        near = {tuple(surface.get_at((px + i, py + j)))[:3] for i in (-1, 0, 1) for j in (-1, 0, 1)}
        assert render._mix(render.CAMERA_RAY, render.OBJECT, float(pixels[r])) in near  # Bresenham: +-1 px
