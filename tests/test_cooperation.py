"""Coordinated movement of a clonal team (Quinn 2001): fitness and diagnostics against scripted teams
computed by hand, collisions and separation, start formations, determinism of teams, the trace,
and the errors a user can make."""

import csv
import json
import math

import numpy as np
import pytest

from evorobot.cli import main
from evorobot.config import load_world
from evorobot.episode import Episode
from evorobot.seeding import conditions_rng
from evorobot.setup import build
from evorobot.tasks.coordinated_movement import LEAD_TICKS

from conftest import ROOT, assert_alone_equals_batch

TWO = ROOT / "worlds" / "coordinated_movement.toml"
THREE = ROOT / "worlds" / "coordinated_movement_3.toml"
R = 2.75  # Khepera radius
STEP = 14.4 * 0.1  # full speed for one tick


def _setup(world=TWO, *overrides):
    return build(load_world(world, ["task.duration=2", *overrides]))


def _scripted(setup, poses, wheels):
    """One trial from ``poses`` [(x, y, heading)] with robot k's controller always outputting ``wheels[k]``."""
    cond = np.array([[*np.ravel(poses), 1.0]])
    ep = Episode(setup, np.zeros((1, setup.genome_size)), cond)
    table = np.array(wheels, dtype=np.float64)
    ep.controller.step = lambda params, state, inputs, dt, out: out.__setitem__(slice(None), table)
    return ep


def _diag(ep):
    return {k: v[0] for k, v in ep.task.diagnostics(ep.scores, ep.conditions).items()}


def test_a_team_driving_straight_moves_its_centroid_by_hand():
    setup = _setup()
    ep = _scripted(setup, [(0.0, -4.0, 0.0), (0.0, 4.0, 0.0)], [(1.0, 1.0), (1.0, 1.0)])
    fit = ep.run().fitness[0, 0]
    d = 20 * STEP  # 20 ticks at full speed, side by side, 8 cm apart (in range)
    assert ep.step_count == 20
    assert fit == pytest.approx(d / (14.4 * 2.0), rel=1e-9) and fit == pytest.approx(1.0, rel=1e-9)
    diag = _diag(ep)
    assert diag["displacement"] == pytest.approx(d / (2 * R), rel=1e-9)
    assert diag["collided"] == 0.0 and diag["apart"] == 0.0
    still = _scripted(setup, [(0.0, -4.0, 0.0), (0.0, 4.0, 0.0)], [(0.5, 0.5), (0.5, 0.5)]).run()
    assert still.fitness[0, 0] == 0.0


@pytest.mark.parametrize("penalty", [0.0, 0.7])
@pytest.mark.parametrize("mode,gain", [("end", 3 * STEP / 2 / (14.4 * 2.0)), ("zero", 0.0)])
def test_a_collision_ends_or_zeroes_the_trial(mode, gain, penalty):
    setup = _setup(TWO, f'task.collision="{mode}"', f"task.collision_penalty={penalty}")
    expected = gain - penalty
    # robot 0 drives at the standing robot 1: the gap of 4.5 cm closes to 0.18 < 0.25 on tick 3
    ep = _scripted(setup, [(-5.0, 0.0, 0.0), (5.0, 0.0, math.pi / 2)], [(1.0, 1.0), (0.5, 0.5)])
    fit = ep.run().fitness[0, 0]
    assert ep.step_count == 3 and ep.scores.done[0]
    assert fit == pytest.approx(expected, abs=1e-9)
    assert _diag(ep)["collided"] == 1.0


def test_a_collision_penalty_lets_the_trial_go_on():
    setup = _setup(TWO, 'task.collision="penalty"', "task.collision_penalty=0.3")
    ep = _scripted(setup, [(-5.0, 0.0, 0.0), (5.0, 0.0, math.pi / 2)], [(1.0, 1.0), (0.5, 0.5)])
    fit = ep.run().fitness[0, 0]
    diag = _diag(ep)
    assert ep.step_count == 20 and diag["collided"] == 1.0
    assert fit == pytest.approx(diag["displacement"] * 2 * R / (14.4 * 2.0) - 0.3, rel=1e-9)


@pytest.mark.parametrize("discount,penalty,scale", [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.5, 0.2, 0.0), (1.0, 0.0, 5.0)])
def test_separation_discounts_the_gain_and_is_penalised(discount, penalty, scale):
    setup = _setup(TWO, f"task.separation_discount={discount}", f"task.separation_penalty={penalty}",
                   f"task.separation_scale={scale}")
    # robot 0 drives away from the standing robot 1: centre distance 8 + 1.44 k > 15.5 from tick 6 on
    ep = _scripted(setup, [(-4.0, 0.0, math.pi), (4.0, 0.0, 0.0)], [(1.0, 1.0), (0.5, 0.5)])
    fit = ep.run().fitness[0, 0]
    excess = [8 + STEP * k - (2 * R + 10.0) for k in range(1, 21)]
    assert sum(e > 0 for e in excess) == 15 and _diag(ep)["apart"] == pytest.approx(0.75)
    weight = [1.0 if e <= 0 else 1 - discount * (math.tanh(e / scale) if scale else 1.0) for e in excess]
    gain = sum(STEP / 2 * w for w in weight)  # the centroid gains 0.72 cm a tick
    assert fit == pytest.approx(gain / (14.4 * 2.0) - penalty * 0.75, rel=1e-9)
    assert _diag(ep)["displacement"] == pytest.approx(20 * STEP / 2 / (2 * R), rel=1e-9)


@pytest.mark.parametrize("world,poses,front", [
    (TWO, [(-4.0, 0.0, 0.0), (4.0, 0.0, 0.0)], 1),
    (THREE, [(-4.0, -4.0, 0.0), (4.0, 0.0, 0.0), (-4.0, 4.0, 0.0)], 1),
])
def test_the_robot_in_front_is_the_leader(world, poses, front):
    setup = _setup(world)
    ep = _scripted(setup, poses, [(1.0, 1.0)] * len(poses))
    ep.run()
    diag = _diag(ep)
    assert diag["leader"] == front and diag["lead_share"] == 1.0
    # no leader on the first tick (the centroid 1.44 cm from its start, under a radius)
    assert ep.scores.values[0, LEAD_TICKS] == 19


def test_replay_trace_has_the_leader_column(tmp_path, capsys):
    path = tmp_path / "trace.csv"
    assert main(["replay", str(TWO), "--trials", "2", "--seed", "1", "--set", "task.duration=1",
                 "--trace", str(path)]) == 0
    out = capsys.readouterr().out
    assert "lead_share=" in out and "collided=" in out
    rows = list(csv.DictReader(path.open()))
    assert {"robot", "leader", "displacement"} <= set(rows[0])
    assert {r["robot"] for r in rows} == {"0", "1"}
    assert all(float(r["leader"]) in (-1.0, 0.0, 1.0) for r in rows)


@pytest.mark.parametrize("world", [TWO, THREE])
def test_starts_are_within_sensing_distance_and_reproducible(world):
    setup = _setup(world, "task.trials=200")
    task = setup.task
    a = task.conditions(conditions_rng(1, 3))
    assert np.array_equal(a, task.conditions(conditions_rng(1, 3)))
    assert not np.array_equal(a, task.conditions(conditions_rng(1, 4)))
    n = task.n_robots
    assert a.shape == (200, 3 * n + 1) and len(task.condition_names) == 3 * n + 1
    xy = a[:, : 3 * n].reshape(200, n, 3)[:, :, :2]
    assert np.allclose(xy.mean(axis=1), 0.0, atol=1e-12)  # centroid at the arena's centre
    dist = np.hypot(*(xy[:, :, None, :] - xy[:, None, :, :]).transpose(3, 0, 1, 2))
    dist[:, np.arange(n), np.arange(n)] = np.inf
    nearest = dist.min(axis=2)
    spec = task.spec
    assert np.all(nearest >= 2 * R + spec.start_min_gap - 1e-9)
    assert np.all(nearest <= 2 * R + spec.start_max_gap + 1e-9)  # every robot in IR range of a teammate
    assert np.all(nearest <= task.apart)
    headings = a[:, 2 : 3 * n : 3]
    assert np.all(np.abs(headings) <= math.pi) and headings.std() > 1.5  # uniform headings
    assert len(set(a[:, -1])) == 200  # a noise seed per trial


@pytest.mark.parametrize("world", [TWO, THREE])
def test_team_fitness_is_bitwise_identical_alone_and_in_a_batch(world):
    # close starts and scoring through collisions: a contact-heavy test of pymunk's solver order
    setup = _setup(world, "task.trials=3", "task.duration=6", "task.start_min_gap=0.5", "task.start_max_gap=2",
                   'task.collision="penalty"')
    cond = setup.task.conditions(conditions_rng(1, 0))
    genomes = np.random.default_rng(2).uniform(-1, 1, (3, setup.genome_size))
    assert_alone_equals_batch(setup, genomes, cond)
    ep = Episode(setup, genomes, cond)
    ep.run()
    assert ep.task.diagnostics(ep.scores, ep.conditions)["collided"].any()


@pytest.mark.parametrize("override,fragment", [
    ("task.robots=1", "[task]: `robots` must be >= 2, got 1"),
    ('task.collision="crash"', "`collision` must be one of"),
    ("task.start_max_gap=20", "`start_max_gap` 20 would start robots apart"),
    ("task.duration=100", "walls within reach"),
    ("task.start_min_gap=0.1", "must exceed `collision_margin`"),
])
def test_errors_are_one_line(override, fragment, capsys):
    assert main(["replay", str(TWO), "--set", override]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "coordinated_movement.toml" in err and err.count("\n") == 1, err


LINE = [(0.0, -8.0, 0.0), (0.0, 0.0, 0.0), (0.0, 8.0, 0.0)]  # side by side 8 cm apart: in range (15.5 cm)


@pytest.mark.parametrize("overrides,poses,wheels,together_moving", [
    # 20 ticks at full speed: 28.8 cm = 5.24 diameters
    ((), LINE, [(1.0, 1.0)] * 3, 1.0),
    # at 0.97 the wheels turn at 0.94 of full speed: 27.07 cm = 4.92 diameters, short of 5
    ((), LINE, [(0.97, 0.97)] * 3, 0.0),
    # 30 ticks, robot 2 drives off sideways: 43.2 sqrt(5) / 3 cm = 5.86 diameters, but robot 2 is out
    # of range from tick 5 on (hypot(1.44 k, 8 + 1.44 k) > 15.5): apart 26 / 30 > 0.2
    (("task.duration=3",), LINE[:2] + [(0.0, 8.0, math.pi / 2)], [(1.0, 1.0)] * 3, 0.0),
    # robots 0 and 1 drive 5.7 cm apart (<= 5.75: a collision on every tick), the trial goes on
    (('task.collision="penalty"',), [(0.0, -5.7, 0.0), *LINE[1:]], [(1.0, 1.0)] * 3, 0.0),
])
def test_together_and_moving_is_issue_21s_goal_per_trial(overrides, poses, wheels, together_moving):
    ep = _scripted(_setup(THREE, *overrides), poses, wheels)
    ep.run()
    diag = _diag(ep)
    assert diag["together_moving"] == together_moving
    # each refused trial misses exactly one of the three conditions
    missed = [diag["collided"] == 1.0, diag["apart"] > 0.2, diag["displacement"] < 5.0]
    assert sum(missed) == (0 if together_moving else 1)


def test_together_and_moving_counts_the_share_of_trials(capsys):
    assert main(["replay", str(THREE), "--trials", "3", "--seed", "7", "--set", "task.duration=1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    per_trial = [t["diagnostics"]["together_moving"] for t in doc["per_trial"]]
    assert len(per_trial) == 3 and set(per_trial) <= {0.0, 1.0}
    assert doc["diagnostics"]["together_moving"] == sum(per_trial) / 3
