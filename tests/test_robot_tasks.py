"""Phototaxis, obstacle avoidance and the Braitenberg vehicle: fitness against hand-computed cases,
random trials, determinism, replay on fresh trials, and the errors a user can make."""

import json
import math

import numpy as np
import pytest

from evorobot.cli import main
from evorobot.config import load_world
from evorobot.controllers.braitenberg import BraitenbergSpec, wiring_matrix
from evorobot.episode import Episode
from evorobot.evolution.runner import evolve
from evorobot.seeding import conditions_rng
from evorobot.setup import build
from evorobot.tasks.robot import NOISE_SEEDS

from conftest import ROOT, assert_alone_equals_batch

PHOTOTAXIS = ROOT / "worlds" / "phototaxis.toml"
AVOIDANCE = ROOT / "worlds" / "obstacle_avoidance.toml"


def _constant(setup, conditions, left, right):
    """An episode whose controller always outputs (left, right)."""
    ep = Episode(setup, np.zeros((1, setup.genome_size)), conditions)
    ep.controller.step = lambda params, state, inputs, dt, out: out.__setitem__(slice(None), (left, right))
    return ep


def test_phototaxis_closeness_fitness_by_hand():
    setup = build(load_world(PHOTOTAXIS, ["task.duration=5"], controller="braitenberg"))
    # standing still at 50 from the light: closeness 0 throughout
    still = _constant(setup, np.array([[-25.0, 0.0, 0.0, 25.0, 0.0, 1.0]]), 0.5, 0.5).run()
    assert still.fitness[0, 0] == 0.0
    # driving straight at the light at full speed: d(t) = 50 - 14.4 t (from the first tick on)
    ep = _constant(setup, np.array([[-25.0, 0.0, 0.0, 25.0, 0.0, 1.0]]), 1.0, 1.0)
    ep.run()
    d0 = 50.0
    steps = ep.task.max_steps
    d = [max(abs(d0 - 14.4 * 0.1 * (k + 1)), 0.0) for k in range(steps)]  # after each tick
    expected = np.mean([min(max((d0 - x) / (d0 - 10.0), 0.0), 1.0) for x in d])  # d0: at the start pose
    assert ep.result().fitness[0, 0] == pytest.approx(expected, abs=1e-9)
    assert ep.scores.values[0, 1] == d0  # version 1 took d0 after the first tick (48.56 here)
    assert ep.task.diagnostics(ep.scores, ep.conditions)["reached"][0] == 1.0


def test_phototaxis_a_robot_at_the_light_all_along_scores_exactly_one():
    setup = build(load_world(PHOTOTAXIS, ["task.duration=2", "task.min_start_distance=0"], controller="braitenberg"))
    at_light = _constant(setup, np.array([[20.0, 5.0, 0.0, 25.0, 0.0, 1.0]]), 0.5, 0.5).run()  # 7.07 < reach 10
    assert at_light.fitness[0, 0] == 1.0


def test_lights_are_never_inside_obstacles():
    setup = build(load_world(ROOT / "worlds" / "braitenberg.toml", ["task.trials=1000"]))
    spec = setup.task.spec
    assert spec.obstacles
    for seed in (7, 8):
        cond = setup.task.conditions(conditions_rng(seed, 0))
        for ob in spec.obstacles:
            assert np.all(np.hypot(cond[:, 3] - ob.x, cond[:, 4] - ob.y) > ob.bounding_radius() + spec.light_margin)
        assert np.all(np.abs(cond[:, 3:5]) <= spec.arena_width / 2 - spec.light_margin)


def test_without_obstacles_the_trials_of_version_1_are_unchanged():
    setup = build(load_world(PHOTOTAXIS, ["task.trials=200"]))
    sp = setup.task.spec
    rng, cond = conditions_rng(3, 0), setup.task.conditions(conditions_rng(3, 0))
    for row in cond:  # version 1 drew the light as two uniforms, then the start pose
        lx = rng.uniform(-sp.arena_width / 2 + sp.light_margin, sp.arena_width / 2 - sp.light_margin)
        ly = rng.uniform(-sp.arena_height / 2 + sp.light_margin, sp.arena_height / 2 - sp.light_margin)
        assert (row[3], row[4]) == (lx, ly)
        while True:
            pose = setup.task.start_pose(rng)
            if math.hypot(pose[0] - lx, pose[1] - ly) >= sp.min_start_distance:
                break
        assert tuple(row[:3]) == pose
        rng.integers(NOISE_SEEDS)


def test_obstacle_avoidance_phi_by_hand():
    setup = build(load_world(AVOIDANCE, ["task.obstacles=[]", "agent.ir.noise=0", "task.duration=1"],
                             controller="braitenberg"))
    centre = np.array([[0.0, 0.0, 0.3, 1.0]])
    assert _constant(setup, centre, 1.0, 1.0).run().fitness[0, 0] == pytest.approx(1.0)  # fast, straight, clear
    assert _constant(setup, centre, 0.5, 0.5).run().fitness[0, 0] == 0.0  # still
    assert _constant(setup, centre, 0.0, 1.0).run().fitness[0, 0] == pytest.approx(0.0, abs=1e-12)  # spinning
    half = _constant(setup, centre, 0.75, 0.75).run().fitness[0, 0]
    assert half == pytest.approx(0.5)  # V = 1/2
    turning = _constant(setup, centre, 1.0, 0.5).run().fitness[0, 0]  # wheels 1 and 0
    assert turning == pytest.approx(0.5 * (1 - math.sqrt(0.5)))  # V = 1/2, dV = 1/2


def test_obstacle_avoidance_penalises_proximity():
    setup = build(load_world(AVOIDANCE, ["task.obstacles=[]", "agent.ir.noise=0", "task.duration=1"],
                             controller="braitenberg"))
    # facing the right wall, 3 cm from the body's front: the +-10 degree sensors see it nearest
    r, a = 2.75, math.radians(10)
    near = _constant(setup, np.array([[50.0 - r - 3.0, 0.0, 0.0, 1.0]]), 0.5, 0.5)
    near.tick()
    d = (3.0 + r * (1 - math.cos(a))) / math.cos(a)  # from the sensor on the perimeter to the wall
    assert near.inputs[0, :8].max() == pytest.approx(math.exp(-d / 2.5), rel=1e-9)
    assert near.scores.values[0, 1] == 0.0  # 0.29 is not "near" (threshold 0.5)


@pytest.mark.parametrize("world", [PHOTOTAXIS, AVOIDANCE])
def test_trials_are_random_within_the_arena_and_reproducible(world):
    setup = build(load_world(world, ["task.trials=50"]))
    a = setup.task.conditions(conditions_rng(1, 3))
    assert np.array_equal(a, setup.task.conditions(conditions_rng(1, 3)))
    assert not np.array_equal(a, setup.task.conditions(conditions_rng(1, 4)))
    spec, r = setup.task.spec, setup.experiment.agent.body.radius
    assert np.all(np.abs(a[:, :2]) <= spec.arena_width / 2 - r - spec.start_margin)
    for ob in spec.obstacles:
        assert np.all(np.hypot(a[:, 0] - ob.x, a[:, 1] - ob.y) > ob.bounding_radius() + r)
    if setup.task.name == "phototaxis":
        assert np.all(np.hypot(a[:, 0] - a[:, 3], a[:, 1] - a[:, 4]) >= spec.min_start_distance)
    assert len(set(a[:, -1])) == 50  # a noise seed per trial


@pytest.mark.parametrize("world", [PHOTOTAXIS, AVOIDANCE])
def test_robot_fitness_is_bitwise_identical_alone_and_in_a_batch(world):
    setup = build(load_world(world, ["task.trials=3", "task.duration=8"]))
    cond = setup.task.conditions(conditions_rng(1, 0))
    assert_alone_equals_batch(setup, np.random.default_rng(2).uniform(-1, 1, (3, setup.genome_size)), cond)


def test_braitenberg_wiring():
    layout = [("light", math.radians(45)), ("light", math.radians(-45)), ("ir", 0.0), ("ir", math.pi)]
    crossed = wiring_matrix(BraitenbergSpec(light_weight=1.0, light_wiring="crossed", ir_weight=2.0), layout)
    f45 = (1 + math.cos(math.radians(45))) / 2
    assert crossed[:, 0] == pytest.approx([0.0, f45])  # left light sensor -> right wheel
    assert crossed[:, 1] == pytest.approx([f45, 0.0])
    assert crossed[:, 2] == pytest.approx([1.0, 1.0])  # straight ahead: both wheels, half each of 2
    assert crossed[:, 3] == pytest.approx([0.0, 0.0], abs=1e-15)  # straight behind: weighted 0
    uncrossed = wiring_matrix(BraitenbergSpec(light_weight=-1.0, light_wiring="uncrossed"), layout)
    assert uncrossed[:, 0] == pytest.approx([-f45, 0.0])  # inhibitory, own side (vehicle 3a)


def test_braitenberg_vehicle_turns_towards_the_light_and_reaches_it_often():
    setup = build(load_world(PHOTOTAXIS, ["task.trials=30"], controller="braitenberg"))
    cond = setup.task.conditions(conditions_rng(5, 0))
    ep = Episode(setup, np.zeros((1, 0)), cond)
    ep.run()
    reached = setup.task.diagnostics(ep.scores, ep.conditions)["reached"]
    assert reached.mean() >= 0.5  # 71-85 % on 100 fresh trials (README)
    # crossed excitatory: a light on the left speeds up the right wheel
    ep = Episode(setup, np.zeros((1, 0)), np.array([[0.0, 0.0, 0.0, 0.0, 30.0, 1.0]]))
    ep.tick()
    assert ep.outputs[0, 1] > ep.outputs[0, 0]


def test_replay_fresh_trials_of_world_file_and_champion(tmp_path, capsys):
    argv = ["replay", str(PHOTOTAXIS), "--controller", "braitenberg", "--trials", "4", "--seed", "3", "--json",
            "--set", "task.duration=5"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out) == first  # the same fresh trials from the same seed
    assert len(first["trials"]) == 4 and "reached" in first["diagnostics"]
    assert main(argv[:-5] + ["--seed", "4", "--json", "--set", "task.duration=5"]) == 0
    assert json.loads(capsys.readouterr().out) != first
    exp = load_world(PHOTOTAXIS, ["task.trials=2", "task.duration=3", "optimizer.population=4", "evolution.generations=2"])
    evolve(exp, tmp_path / "run", stream=None)
    assert main(["replay", str(tmp_path / "run"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["matches_stored"] is True
    assert main(["replay", str(tmp_path / "run"), "--trials", "5", "--seed", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["trials"]) == 5 and "matches_stored" not in doc


@pytest.mark.parametrize("argv,fragment", [
    (["replay", str(ROOT / "worlds" / "categorical_perception.toml"), "--trials", "5"], "fixed grid of trials"),
    (["evolve", str(ROOT / "worlds" / "braitenberg.toml")], "has no genes to evolve"),
    (["replay", str(PHOTOTAXIS), "--set", "simulation.substeps=1", "--set", "simulation.project_contacts=false"],
     "use substeps >= 3 or project_contacts = true"),
    (["replay", str(PHOTOTAXIS), "--set", 'agent.sensors=["ir", "camera"]'], "`camera`"),
    (["replay", str(PHOTOTAXIS), "--set", 'agent.sensors=["ir"]'], "needs light sensors"),
    (["replay", str(PHOTOTAXIS), "--set", 'agent.file="../agents/beer_agent.toml"', "--set", 'agent.sensors=["eye"]'],
     "differential-drive robot"),
    (["replay", str(AVOIDANCE), "--set", "task.obstacles=[{shape='polygon', vertices=[[0,0],[1,1],[2,2]]}]"],
     "convex polygon"),
    (["replay", str(AVOIDANCE), "--set", "task.obstacles=[{shape='circel'}]"], "[task.obstacles][0]"),
    (["replay", str(PHOTOTAXIS), "--set", "agent.light.angles_deg=[]"], "non-empty array"),
])
def test_robot_world_errors_are_one_line(argv, fragment, capsys, tmp_path):
    if argv[0] == "evolve":
        argv = argv + ["--out", str(tmp_path / "out")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


def test_record_target_is_refused_before_anything_runs(tmp_path, capsys):
    missing = tmp_path / "no_such_folder" / "frames"
    assert main(["replay", str(PHOTOTAXIS), "--controller", "braitenberg", "--record", str(missing)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "does not exist" in err and err.count("\n") == 1  # no trial was run or printed
    full = tmp_path / "full"
    full.mkdir()
    (full / "x.png").write_bytes(b"")
    assert main(["replay", str(PHOTOTAXIS), "--controller", "braitenberg", "--record", str(full)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "already exists" in err
