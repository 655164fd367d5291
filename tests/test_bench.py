"""`evorobot bench`: its baselines compute what the fast code computes, and its output is well formed.

No timing is asserted here (ARCHITECTURE.md §5): speed is reported by `evorobot bench`, never tested.
"""

import json
import math
import shutil

import numpy as np
import pytest
from conftest import CP_WORLD, ROOT

from evorobot import cli
from evorobot.bench import format_table
from evorobot.bench.measure import numpy_euler_step, row
from evorobot.bench.naive import NaiveEye, NaiveTrial, run_naive, sense
from evorobot.bench.naive_robot import NaiveRobotTrial, NaiveSensors, run_naive_robot
from evorobot.config import load_world
from evorobot.controllers.ctrnn import CTRNN, CTRNNSpec
from evorobot.episode import Episode
from evorobot.seeding import conditions_rng
from evorobot.setup import build
from evorobot.sim import rays
from evorobot.sim.world import World
from evorobot.tasks.categorical_perception import add_falling_object

PT_WORLD = ROOT / "worlds" / "phototaxis.toml"

EXPECTED = {
    f"ctrnn.{what}.{tag}{suffix}"
    for tag in ("n7", "n10", "n50", "n200")
    for what, suffixes in (("euler", ("", ".ns", ".per_network")), ("rk4", ("", ".cost")), ("exp_euler", ("", ".cost")))
    for suffix in suffixes
} | {"episode.cp", "episode.cp.us", "episode.cp.build", "episode.phototaxis", "episode.phototaxis.us",
     "episode.phototaxis.build", "evolve.peak_rss.quick", "bptt.elman.h32.t100", "bptt.elman.h32.t100.batched"}
if shutil.which("cc") or shutil.which("gcc") or shutil.which("clang"):
    EXPECTED |= {f"ctrnn.euler.{tag}.vs_c" for tag in ("n7", "n10", "n50", "n200")}
    EXPECTED |= {"episode.cp.vs_c", "episode.cp.c_us"}

TRIALS = [1, 5, 10, 13, 16, 22]
"""A few trials of Beer's grid: circles and diamonds, left and right, near and far."""


@pytest.mark.parametrize("overrides", [[], ["controller.symmetric=false"]], ids=["symmetric", "asymmetric"])
def test_naive_baseline_computes_the_batched_fitness(overrides):
    setup = build(load_world(CP_WORLD, overrides))
    cond = setup.task.conditions(conditions_rng(1, 0))[TRIALS]
    genomes = np.random.default_rng(11).uniform(-1, 1, (2, setup.genome_size))
    batched = Episode(setup, genomes, cond).run()
    naive = run_naive(setup, genomes, cond)
    assert not batched.failed.any() and not naive.failed.any()
    assert naive.agent_steps == genomes.shape[0] * len(TRIALS) * batched.steps
    np.testing.assert_allclose(naive.fitness, batched.fitness, rtol=0, atol=1e-6)
    # Not vacuous: the agents moved and ended within the clip distance of the object in some
    # trials, where the fitness depends on exactly where they stopped.
    still = Episode(setup, np.zeros((1, setup.genome_size)), cond).run().fitness[0]
    moved = np.abs(naive.fitness - still) > 1e-3
    graded = (naive.fitness > 1e-3) & (naive.fitness < 1 - 1e-3)
    assert (moved & graded).sum() >= 3


@pytest.mark.parametrize("avoid_shape", ["diamond", "line"])
def test_naive_rays_read_what_the_ray_kernel_reads(avoid_shape):
    """pymunk segment queries (plus the inside test) against the numba kernel, objects near the agent:
    close enough that ray origins often lie inside a circle or diamond (the kernel reads 0 there,
    pymunk reports no hit), which random genomes seldom reach in whole trials."""
    setup = build(load_world(CP_WORLD, [f"task.avoid_shape={avoid_shape}"]))
    spec, eye = setup.task.spec, NaiveEye.of(setup)
    angles = setup.experiment.agent.eye.angles()
    rng = np.random.default_rng(5)
    inside = 0
    for k in range(120):
        avoid = k % 2
        ax, heading = rng.uniform(-20, 20), (0.0 if k % 3 else rng.uniform(-0.3, 0.3))
        ox, oy = ax + rng.uniform(-25, 25), rng.uniform(15, 60)
        trial = NaiveTrial(setup, np.array([0.0, float(avoid)]))
        trial.agent.position, trial.agent.angle, trial.obj.position = (ax, 0.0), heading, (ox, oy)
        for body in (trial.agent, trial.obj):
            trial.space.reindex_shapes_for_body(body)
        naive = np.empty(len(angles))
        sense(trial, eye, trial.agent.position, trial.agent.angle, naive)

        world = World()
        space = world.new_space()
        world.new_world(space)
        a = world.add_body(space, (ax, 0.0), angle=heading)
        world.add_circle(a, eye.start)
        add_falling_object(world, space, avoid_shape if avoid else "circle", spec.object_size, ox, oy, -3.0)
        world.finish()
        poses = np.empty((world.n_bodies, 3))
        world.read(poses)
        dist, kernel = np.empty((1, len(angles))), np.empty((1, len(angles)))
        rays.cast(poses, world.geometry, np.array([a]), np.array([0]), angles, eye.start, eye.range, eye.gain,
                  dist, kernel)
        np.testing.assert_allclose(naive, kernel[0], rtol=0, atol=1e-7)
        inside += int((dist == 0.0).sum())
    assert inside > 20  # the inside case was exercised


def test_naive_rejects_what_it_does_not_implement():
    setup = build(load_world(CP_WORLD, ["controller.integrator=rk4"]))
    with pytest.raises(ValueError, match="Euler CTRNN"):
        run_naive(setup, np.zeros((1, setup.genome_size)), setup.task.conditions(conditions_rng(1, 0))[:1])


OBSTACLES = ('task.obstacles=[{shape="circle", x=-15.0, y=10.0, radius=8.0}, '
             '{shape="box", x=20.0, y=-20.0, width=20.0, height=6.0, angle_deg=30.0}]')
"""A circle and a turned box in the phototaxis arena: more to see, and lights to hide."""


SOLVER = ["simulation.substeps=3", "simulation.project_contacts=false"]
"""Walls left to pymunk's contact solver alone (the world file projects velocities off them)."""


@pytest.mark.parametrize("overrides", [[], [OBSTACLES], SOLVER, [*SOLVER, OBSTACLES]],
                         ids=["walls", "obstacles", "walls-solver", "obstacles-solver"])
def test_naive_robot_baseline_computes_the_batched_fitness(overrides):
    """Same per-trial fitness as :class:`Episode` on 5-s phototaxis trials (50 ticks), with the world
    file's one substep and contact projection, and with three substeps and the solver alone.

    Tolerance 1e-9: Episode tiles trial ``t`` at x = 2000 t in one Space per individual where the
    naive loop runs at the origin, so positions round differently by ~ulp(2000) = 2.3e-13 per
    operation (and pymunk's solver sees seven other robots in the Space); observed differences stay
    below 1e-12, even over whole 30-s trials. A semantic slip (noise row, sensor order, substep, closeness) shows at >= 1e-4."""
    setup = build(load_world(PT_WORLD, ["task.duration=5", *overrides]))
    cond = setup.task.conditions(conditions_rng(1, 0))
    genomes = np.random.default_rng(11).uniform(-1, 1, (3, setup.genome_size))
    seen = {"hit": 0, "inside": 0}

    def count(ep: Episode) -> None:
        seen["hit"] += int((ep.distances < ep.robots.ir_range).sum())
        seen["inside"] += int((ep.distances == 0.0).sum())

    batched = Episode(setup, genomes, cond).run(count)
    naive = run_naive_robot(setup, genomes, cond)
    assert not batched.failed.any() and not naive.failed.any()
    assert batched.steps == 50 and naive.agent_steps == genomes.shape[0] * len(cond) * 50
    np.testing.assert_allclose(naive.fitness, batched.fitness, rtol=0, atol=1e-9)
    # Not vacuous: robots closed in on the light, IR rays hit walls or obstacles, and, left to the
    # solver, robots pressed into them (ray origins inside a shape read distance 0).
    assert (naive.fitness > 1e-3).sum() >= 8
    assert seen["hit"] > 100 and (seen["inside"] > 10 or "simulation.substeps=3" not in overrides)


def test_naive_robot_sensors_read_what_the_sensor_kernel_reads():
    """IR and light readings (no noise) at random poses, some pressed into walls or obstacles,
    against :class:`RobotSensors`; lights are hidden behind the obstacles in some of them."""
    setup = build(load_world(PT_WORLD, [OBSTACLES]))
    bare = build(load_world(PT_WORLD))
    rng = np.random.default_rng(7)
    k = 150
    cond = np.column_stack([rng.uniform(-50, 50, (k, 2)), rng.uniform(-np.pi, np.pi, k),
                            rng.uniform(-40, 40, (k, 2)), np.zeros(k)])
    ep = Episode(setup, np.zeros((1, setup.genome_size)), cond)
    n_in = setup.experiment.agent.n_inputs
    kernel, dist = np.empty((k, n_in)), np.empty((k, ep.robots.n_ir_rays))
    ep.robots.sense(ep.poses, ep.geometry, ep.agent_body, ep.agent_world, ep.agent_trial, 0,
                    np.zeros((k, 0, n_in)), kernel, dist)
    sensors, naive, unhidden = NaiveSensors(setup), np.empty((k, n_in)), np.empty((k, n_in))
    for t in range(k):
        for s, out in ((setup, naive), (bare, unhidden)):
            trial = NaiveRobotTrial(s, cond[t])
            sensors.sense(trial, trial.body.position, trial.body.angle, None, out[t])
    np.testing.assert_allclose(naive, kernel, rtol=0, atol=1e-9)
    n_ir = ep.robots.n_ir
    assert (dist == 0.0).sum() > 5 and (naive[:, :n_ir] > 0).sum() > 50
    assert (naive[:, n_ir:] < unhidden[:, n_ir:] - 1e-3).sum() > 5  # occluded lights


def test_naive_robot_rejects_what_it_does_not_implement():
    setup = build(load_world(PT_WORLD, ["controller.integrator=rk4"]))
    with pytest.raises(ValueError, match="Euler CTRNN"):
        run_naive_robot(setup, np.zeros((1, setup.genome_size)), setup.task.conditions(conditions_rng(1, 0))[:1])


@pytest.mark.parametrize("hidden", [5, 48])
def test_numpy_baseline_steps_like_the_kernel(hidden):
    net = CTRNN(CTRNNSpec(hidden=hidden, topology="full"), 7, 2, 0.1)
    rng = np.random.default_rng(hidden)
    p = net.decode(rng.uniform(-1, 1, (16, net.genome_size)))
    x = rng.uniform(0, 10, (16, 7))
    state = net.init_state(p)
    y, o = state.y.copy(), state.o.copy()
    out = np.empty((16, 2))
    for _ in range(30):
        net.step(p, state, x, 0.1, out)
        numpy_euler_step(p.tau, p.bias, p.gain, p.w, p.w_in, y, o, x, 0.1)
    np.testing.assert_allclose(y, state.y, rtol=0, atol=1e-10)
    np.testing.assert_allclose(o[:, hidden:], out, rtol=0, atol=1e-12)


def test_quick_bench_prints_json_rows(capsys):
    assert cli.main(["bench", "--json", "--quick"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert isinstance(rows, list)
    assert [r["name"] for r in rows if r["name"] not in EXPECTED] == []
    assert {r["name"] for r in rows} == EXPECTED and len(rows) == len(EXPECTED)
    for r in rows:
        assert set(r) == {"name", "value", "unit", "baseline", "ratio"}
        assert isinstance(r["unit"], str) and r["unit"]
        for key in ("value", "baseline", "ratio"):
            v = r[key]
            if key == "value" or v is not None:
                assert isinstance(v, float) and math.isfinite(v) and v > 0, (r["name"], key, v)
        assert (r["baseline"] is None) == (r["ratio"] is None)
    by_name = {r["name"]: r for r in rows}
    ep = by_name["episode.cp"]
    assert ep["ratio"] == pytest.approx(ep["value"] / ep["baseline"])
    ns = by_name["ctrnn.euler.n7.ns"]
    assert ns["ratio"] == pytest.approx(ns["baseline"] / ns["value"])  # a ratio is always a speed-up
    assert 10 < by_name["evolve.peak_rss.quick"]["value"] < 100_000  # MB, read from a real child process


def test_table_lists_rows_and_targets():
    rows = [row("episode.cp", 2e6, "agent-steps/s", 5e4, 40.0), row("evolve.peak_rss", 512.0, "MB")]
    text = format_table(rows)
    assert text.splitlines()[0].split() == ["name", "value", "unit", "baseline", "ratio"]
    assert "40.00x" in text and "512.0" in text
    assert "target episode.cp ratio >= 60: MISSED (40.00x;" in text
    assert "target evolve.peak_rss value < 400: MISSED (512.000;" in text
    assert "target ctrnn.euler.n7.per_network ratio >= 30: not measured" in text
    assert "target episode.cp.vs_c ratio >= 1: not measured" in text


def _verdicts(text: str) -> dict[tuple[str, str], tuple[str, str]]:
    """``(row, field) -> (verdict, printed figure)`` from the target lines of a table."""
    found = {}
    for line in text.splitlines():
        if line.startswith("target ") and "not measured" not in line:
            _, name, field, _, _ = line.split(": ")[0].split()
            verdict, rest = line.split(": ", 1)[1].split(" (", 1)
            found[(name, field)] = (verdict, rest.split(";")[0])
    return found


@pytest.mark.parametrize(("ratio", "figure", "verdict"), [
    (59.996, "59.996x", "MISSED"),  # 60.00x beside MISSED before
    (59.9999996, "59.9999996x", "MISSED"),
    (60.004, "60.00x", "met"),
    (60.0, "60.00x", "met"),
    (59.9, "59.90x", "MISSED"),
])
def test_verdict_agrees_with_the_printed_ratio(ratio, figure, verdict):
    text = format_table([row("episode.cp", 2e6, "agent-steps/s", 2e6 / ratio, ratio)])
    assert _verdicts(text)[("episode.cp", "ratio")] == (verdict, figure)
    table_row = text.splitlines()[2].split()
    assert table_row[0] == "episode.cp" and table_row[-1] == figure


@pytest.mark.parametrize(("name", "field", "v", "figure", "verdict"), [
    ("episode.phototaxis", "value", 999_999.6, "999999.6", "MISSED"),  # 1e+06 at the default digits
    ("episode.phototaxis", "value", 1_000_000.0, "1.000e+06", "met"),
    ("evolve.peak_rss", "value", 399.9996, "399.9996", "met"),  # 400.000 at the default digits
    ("evolve.peak_rss", "value", 400.0004, "400.000", "MISSED"),
    ("ctrnn.euler.n7.vs_c", "ratio", 0.8334, "0.8334x", "met"),  # cost <= 1.2x C: ratio >= 0.8333...
    ("ctrnn.euler.n7.vs_c", "ratio", 0.8333, "0.83x", "MISSED"),
    ("evolve.cp.workers2", "ratio", 1.79996, "1.79996x", "MISSED"),
])
def test_verdict_agrees_with_the_printed_figure_at_the_boundary(name, field, v, figure, verdict):
    r = row(name, v, "u", 1.0, 2.0) if field == "value" else row(name, 3.0, "u", 1.0, v)
    assert _verdicts(format_table([r]))[(name, field)] == (verdict, figure)


def test_every_verdict_is_that_of_the_raw_figure_and_of_the_printed_one():
    """Around every target's bound (down to 1e-9 relative): the verdict is the raw figure's, and
    the printed figure, read back as a number, gives the same verdict; the table prints the same."""
    from evorobot.bench import TARGETS

    ops = {">=": float.__ge__, ">": float.__gt__, "<=": float.__le__, "<": float.__lt__}
    rng = np.random.default_rng(3)
    for t in TARGETS:
        for rel in [0.0, *(s * 10.0 ** -k for k in range(1, 10) for s in (1, -1)), *rng.normal(0, 1e-4, 20)]:
            v = t.bound * (1 + rel)
            r = row(t.row, v, "u", 1.0, 2.0) if t.field == "value" else row(t.row, 3.0, "u", 1.0, v)
            text = format_table([r])
            verdict, figure = _verdicts(text)[(t.row, t.field)]
            truth = ops[t.op](float(v), t.bound)
            assert verdict == ("met" if truth else "MISSED"), (t, v)
            assert ops[t.op](float(figure.removesuffix("x")), t.bound) == truth, (t, v, figure)
            cells = text.splitlines()[2].split()
            assert cells[1 if t.field == "value" else -1] == figure


def test_c_reference_loop_computes_the_same_step():
    """The C baseline must do the same work as the kernel it is compared with."""
    from evorobot.bench.cref import compile_reference
    from evorobot.controllers.ctrnn import CTRNN, CTRNNSpec

    bind = compile_reference()
    if bind is None:
        pytest.skip("no C compiler on this machine: the C baseline is not measured here")
    net = CTRNN(CTRNNSpec(hidden=8, topology="full"), 7, 2, 0.1)
    rng = np.random.default_rng(0)
    p = net.decode(rng.uniform(-1, 1, (16, net.genome_size)))
    x = rng.uniform(0, 10, (16, 7))
    state = net.init_state(p)
    yc, oc = state.y.copy(), state.o.copy()
    step = bind(p.tau, p.bias, p.gain, p.w, p.w_in, yc, oc, x, 0.1)
    out = np.empty((16, 2))
    for _ in range(50):
        net.step(p, state, x, 0.1, out)
        step()
    np.testing.assert_allclose(yc, state.y, rtol=0, atol=1e-9)
    np.testing.assert_allclose(oc, state.o, rtol=0, atol=1e-12)
