"""``evorobot replay --trace`` and ``--json``: the trace file is the episode, bit for bit.

Each world kind (Beer's agent, a Khepera, a team, a cart-pole) is replayed through the CLI with
``--trace``; an :class:`~evorobot.episode.Episode` built from the same source is then stepped by
hand, and every row (the one at time 0, then the one after each tick) must hold exactly what the
episode holds at that moment, column by column, named by :mod:`evorobot.labels`. ``--json``'s
per-trial records must carry the numbers the text output prints.
"""

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ROOT, WORLDS

from evorobot.cli import main
from evorobot.episode import Episode
from evorobot.labels import input_labels, output_labels
from evorobot.replay import trace_columns
from evorobot.source import open_source, with_fresh_trials

CP = ROOT / "worlds" / "categorical_perception.toml"
PHOTOTAXIS = ROOT / "worlds" / "phototaxis.toml"
TEAM = ROOT / "worlds" / "coordinated_movement.toml"
CARTPOLE = ROOT / "worlds" / "cartpole.toml"


def run_trace(tmp_path: Path, world: Path, args: list[str]) -> tuple[list[str], list[dict[str, str]]]:
    path = tmp_path / "trace.csv"
    assert main(["replay", str(world), *args, "--trace", str(path)]) == 0
    with open(path) as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        assert reader.fieldnames is not None
        return list(reader.fieldnames), rows


def hand_episode(world: Path, overrides: list[str], trials: int | None = None,
                 seed: int = 1) -> tuple[Episode, np.ndarray]:
    """The episode ``replay`` runs for these arguments, built independently; and its conditions."""
    source = open_source(str(world), overrides)
    if trials is not None:
        source = with_fresh_trials(source, trials, seed)
    return Episode(source.setup, source.genome[None, :], source.conditions), source.conditions


def neuron_columns(ep: Episode, b: int) -> dict[str, float]:
    """A CTRNN's traced state by neuron label: ``y_h0`` for the state, ``h0`` for the output."""
    out = {}
    for i, label in enumerate(ep.controller.neurons):
        out[f"y_{label}"] = ep.state.y[b, i]
        out[label] = ep.state.o[b, i]
    return out


def expected_body_rows(ep: Episode, live: np.ndarray) -> list[dict[str, Any]]:
    """What each running robot's row must hold now, read straight from the episode's arrays."""
    rows = []
    extra = ep.task.trace(ep.frame)
    for w in np.flatnonzero(live):
        for k in range(ep.n_robots):
            b, ox, oy = w * ep.n_robots + k, *ep.origins[w]
            a = ep.agent_body[b]
            r: dict[str, Any] = {"trial": w, "time": ep.step_count * ep.dt,
                                 "agent_x": ep.poses[a, 0] - ox, "agent_y": ep.poses[a, 1] - oy,
                                 "agent_heading": ep.poses[a, 2], "vx": ep.velocities[a, 0], "vy": ep.velocities[a, 1]}
            if ep.n_robots > 1:
                r["robot"] = k
            r.update({f"cond_{n}": v for n, v in zip(ep.task.condition_names, ep.conditions[w])})
            for j, o in enumerate(ep.objects[w]):
                if o >= 0:
                    r.update({f"object{j}_x": ep.poses[o, 0] - ox, f"object{j}_y": ep.poses[o, 1] - oy})
            r.update(zip(input_labels(ep), ep.inputs[b]))
            if ep.robots is None:
                r.update({f"ray{i}_distance": d for i, d in enumerate(ep.distances[b])})
            else:
                per = ep.robots.ir_rays  # a sensor of several rays names each ray
                names = [f"ir{i // per}_ray{i % per}" if per > 1 else f"ir{i}" for i in range(ep.distances.shape[1])]
                r.update({f"{n}_distance": d for n, d in zip(names, ep.distances[b])})
                if ep.robots.n_pixels:  # the camera's buffers exist from the first sensing on
                    cam = ep.robots.cam_dist[b] if ep.step_count else [ep.robots.cam_range] * ep.robots.n_pixels
                    r.update({f"pixel{p}_distance": d for p, d in enumerate(cam)})
                r.update(wheel_left=ep.wheels[b, 0], wheel_right=ep.wheels[b, 1])
            r.update(neuron_columns(ep, b))
            r.update({f"motor{i}": v for i, v in enumerate(ep.outputs[b])})
            r.update({name: arr[w] for name, arr in extra.items()})
            rows.append(r)
    return rows


def same(row: dict[str, str], want: dict[str, Any]) -> None:
    """Every expected column equal bit for bit (a float column parsed with ``float``)."""
    for col, v in want.items():
        got = float(row[col]) if isinstance(v, float) else int(row[col])
        assert got == v or (math.isnan(got) and math.isnan(v)), (col, row[col], v)


def check_every_tick(ep: Episode, header: list[str], rows: list[dict[str, str]], expected) -> int:
    """Step ``ep`` by hand through the whole episode; the rows of each time equal ``expected(ep, live)``.

    Returns the number of ticks checked."""
    by_time: dict[float, list[dict[str, str]]] = {}
    for r in rows:
        by_time.setdefault(float(r["time"]), []).append(r)
    live = ~(ep.scores.done | ep.scores.failed)
    ticks = 0
    while True:
        want = expected(ep, live)
        got = by_time.pop(ep.step_count * ep.dt)
        assert len(got) == len(want)
        assert set(header) == set(want[0]) | {c for c in header if c.startswith("object")}
        for g, w in zip(got, want):
            same(g, w)
        if not ep.running:
            break
        live = ~(ep.scores.done | ep.scores.failed)
        ep.tick()
        ticks += 1
    assert not by_time  # no row beyond the episode's end
    return ticks


def test_beer_agent_trace_is_the_episode_bit_for_bit(tmp_path: Path) -> None:
    header, rows = run_trace(tmp_path, CP, ["--set", "task.offsets=2"])
    ep, conds = hand_episode(CP, ["task.offsets=2"])
    neurons = list(ep.controller.neurons)
    assert header == (["trial", "time", "cond_offset", "cond_avoid", "agent_x", "agent_y", "agent_heading",
                       "object0_x", "object0_y"] + [f"ray{i}" for i in range(7)]
                      + [f"ray{i}_distance" for i in range(7)] + [f"y_{n}" for n in neurons] + neurons
                      + ["motor0", "motor1", "vx", "vy"])
    assert neurons == ["h0", "h1", "h2", "h3", "h4", "m0", "m1"]
    # the row at time 0: nothing sensed or commanded yet; the network's outputs from init_state
    first = [r for r in rows if r["time"] == "0.0"]
    init = ep.controller.init_state(ep.params)
    assert len(first) == len(conds) == 4
    for t, r in enumerate(first):
        assert [float(r[c]) for c in ("cond_offset", "cond_avoid")] == list(conds[t])
        assert float(r["object0_x"]) == conds[t, 0] and float(r["agent_x"]) == 0.0
        assert all(float(r[f"ray{i}"]) == 0.0 and float(r[f"ray{i}_distance"]) == ep.agent.eye.range for i in range(7))
        assert [float(r[n]) for n in neurons] == list(init.o[t]) and float(r["motor0"]) == 0.0
    ticks = check_every_tick(ep, header, rows, expected_body_rows)
    assert ticks == ep.step_count > 100
    # each trial's conditions columns are its stored conditions on every row
    for r in rows:
        assert [float(r["cond_offset"]), float(r["cond_avoid"])] == list(conds[int(r["trial"])])


def test_robot_trace_has_distances_and_wheels_of_each_tick(tmp_path: Path) -> None:
    args = ["--set", "task.duration=3"]
    header, rows = run_trace(tmp_path, PHOTOTAXIS, [*args, "--trials", "2", "--seed", "1"])
    ep, conds = hand_episode(PHOTOTAXIS, ["task.duration=3"], trials=2)
    assert header[:9] == ["trial", "time", "cond_x", "cond_y", "cond_heading", "cond_light_x", "cond_light_y",
                          "cond_noise_seed", "agent_x"]
    ir, light = [f"ir{i}" for i in range(8)], [f"light{i}" for i in range(8)]
    assert input_labels(ep) == ir + light
    i = header.index("ir0")
    assert header[i: i + 24] == ir + light + [f"{c}_distance" for c in ir]
    assert header[-4:] == ["vx", "vy", "wheel_left", "wheel_right"]
    first = rows[0]
    assert float(first["ir0_distance"]) == ep.robots.ir_range and float(first["wheel_left"]) == 0.0
    assert check_every_tick(ep, header, rows, expected_body_rows) == 30
    assert any(float(r["ir3_distance"]) < ep.robots.ir_range for r in rows) or \
        any(float(r["light0"]) > 0 for r in rows)  # the trace saw something
    assert {float(r["cond_noise_seed"]) for r in rows if r["trial"] == "1"} == {conds[1, -1]}


def test_team_trace_has_one_row_per_robot_with_the_task_columns(tmp_path: Path) -> None:
    header, rows = run_trace(tmp_path, TEAM, ["--trials", "2", "--seed", "1", "--set", "task.duration=1"])
    ep, conds = hand_episode(TEAM, ["task.duration=1"], trials=2)
    assert header[:3] == ["trial", "robot", "time"]
    assert header[3: 3 + conds.shape[1]] == [f"cond_{n}" for n in ep.task.condition_names]
    assert header[-2:] == ["leader", "displacement"]
    assert check_every_tick(ep, header, rows, expected_body_rows) == 10
    assert [(r["trial"], r["robot"]) for r in rows[:4]] == [("0", "0"), ("0", "1"), ("1", "0"), ("1", "1")]


def test_camera_robot_trace_has_its_pixel_distances(tmp_path: Path) -> None:
    world = ROOT / "worlds" / "vision_small_target.toml"
    header, rows = run_trace(tmp_path, world, ["--trials", "2", "--seed", "1", "--set", "task.duration=1"])
    ep, _ = hand_episode(world, ["task.duration=1"], trials=2)
    fields = [f"field{i}" for i in range(3)]  # evolved receptive fields over the pixels
    assert input_labels(ep) == [f"ir{i}" for i in range(8)] + fields
    i = header.index("field2") + 1
    assert header[i: i + 8 + 32] == [f"ir{k}_distance" for k in range(8)] + [f"pixel{p}_distance" for p in range(32)]
    assert check_every_tick(ep, header, rows, expected_body_rows) == 10
    assert any(float(r["pixel16_distance"]) < ep.robots.cam_range for r in rows)  # it saw the walls at least


def expected_plant_rows(ep: Episode, live: np.ndarray) -> list[dict[str, Any]]:
    rows = []
    extra = ep.task.trace(ep.frame)
    trace = ep.controller.trace(ep.state)
    for w in np.flatnonzero(live):
        r: dict[str, Any] = {"trial": w, "time": ep.step_count * ep.dt}
        r.update({f"cond_{n}": v for n, v in zip(ep.task.condition_names, ep.conditions[w])})
        r.update(zip(input_labels(ep), ep.inputs[w]))
        for key, arr in trace.items():  # a fully recurrent network: no neuron labels
            r.update({f"{key}{i}": v for i, v in enumerate(arr[w])})
        r.update(zip(output_labels(ep), ep.outputs[w]))
        r.update({name: arr[w] for name, arr in extra.items()})
        rows.append(r)
    return rows


def test_dynamics_trace_is_the_plant_bit_for_bit(tmp_path: Path) -> None:
    header, rows = run_trace(tmp_path, CARTPOLE, ["--set", "task.trials=2", "--set", "task.steps=40"])
    ep, conds = hand_episode(CARTPOLE, ["task.trials=2", "task.steps=40"])
    names = ["x", "x_dot", "theta", "theta_dot"]
    assert header[:6] == ["trial", "time", *[f"cond_{n}" for n in names]]
    assert header[6:10] == names and "push" in header and "agent_x" not in header
    assert header[-4:] == ["cart_x", "cart_v", "pole_angle", "pole_velocity"]
    for r in rows[:2]:  # time 0: the plant at its initial conditions, nothing observed yet
        t = int(r["trial"])
        assert [float(r[c]) for c in header[-4:]] == list(conds[t])
        assert [float(r[n]) for n in names] == [0.0] * 4
    check_every_tick(ep, header, rows, expected_plant_rows)


@pytest.mark.parametrize("world", WORLDS, ids=[w.stem for w in WORLDS])
def test_every_world_has_unique_trace_columns(world: Path) -> None:
    source = open_source(str(world))
    ep = Episode(source.setup, source.genome[None, :], source.conditions[:1])
    cols = trace_columns(ep, ep.controller.trace(ep.state), ep.task.trace(ep.frame))
    assert len(cols) == len(set(cols))
    assert set(input_labels(ep)) <= set(cols) and set(output_labels(ep)) <= set(cols)


def test_double_pole_plant_state_is_prefixed_beside_its_inputs() -> None:
    source = open_source(str(ROOT / "worlds" / "double_pole.toml"))
    ep = Episode(source.setup, source.genome[None, :], source.conditions[:1])
    extra = ep.task.trace(ep.frame)
    cols = trace_columns(ep, ep.controller.trace(ep.state), extra)
    assert "x" in input_labels(ep) and "x" in extra
    assert set(extra) == {"x", "x_dot", "theta1", "theta1_dot", "theta2", "theta2_dot"} <= set(input_labels(ep))
    assert cols[-len(extra):] == [f"task_{n}" for n in extra]


def test_json_per_trial_records_carry_the_text_output_numbers(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    args = ["replay", str(TEAM), "--trials", "3", "--seed", "2", "--set", "task.duration=2"]
    assert main(args) == 0
    text = capsys.readouterr().out.splitlines()
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ep, conds = hand_episode(TEAM, ["task.duration=2"], trials=3, seed=2)
    names = ep.task.condition_names
    assert len(doc["per_trial"]) == 3 and doc["trials"] == [p["fitness"] for p in doc["per_trial"]]
    for t, rec in enumerate(doc["per_trial"]):
        assert rec["trial"] == t and rec["failed"] is False
        assert rec["conditions"] == dict(zip(names, conds[t].tolist()))
        assert set(rec["diagnostics"]) == set(doc["diagnostics"]) >= {"lead_share", "collided"}
        desc = "  ".join(f"{n}={v:g}" for n, v in rec["conditions"].items() if n != "noise_seed")
        extra = "".join(f"  {k}={v:g}" for k, v in rec["diagnostics"].items())
        assert text[t] == f"trial {t:3d}  {desc}  fitness {rec['fitness']:.6f}{extra}"
    for k, mean in doc["diagnostics"].items():  # the summary's means are the records' means
        assert mean == float(np.mean([rec["diagnostics"][k] for rec in doc["per_trial"]]))
