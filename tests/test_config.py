"""Strict loading of world and agent files: one bad-input case per rule, each one line, exit 2."""

import shutil
from pathlib import Path

import pytest
from conftest import CP_WORLD, ROOT, WORLDS

from evorobot.cli import main
from evorobot.config import experiment_from_dict, load_world
from evorobot.errors import ConfigError, UnknownNameError  # noqa: F401
from evorobot.setup import load_setup
from evorobot.tasks import TASKS


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = CP_WORLD.read_text()
    assert old in text, old
    (tmp_path / "worlds").mkdir(exist_ok=True)
    shutil.copytree(ROOT / "agents", tmp_path / "agents", dirs_exist_ok=True)
    p = tmp_path / "worlds" / "bad.toml"
    p.write_text(text.replace(old, new, 1))
    return p


@pytest.mark.parametrize("world", WORLDS, ids=[p.name for p in WORLDS])
def test_shipped_worlds_load(world):
    exp = load_world(world)
    if exp.agent is None:  # a task with its own dynamics: no body, the task sizes the network
        assert not TASKS[exp.task_type].embodied and "agent" not in exp.to_dict()
    else:
        assert exp.agent.n_outputs == 2
        assert exp.agent.n_inputs == len(exp.agent.input_layout()) == sum(exp.agent.sensor_counts.values())
        if exp.agent.eye is not None:  # Beer's agent
            assert exp.agent.n_inputs == exp.agent.eye.rays == 7
    again = experiment_from_dict(exp.to_dict(), "round trip")
    assert again.to_dict() == exp.to_dict()


def test_izquierdo_preset_overrides_agent_file():
    exp = load_world(ROOT / "worlds" / "categorical_perception_izquierdo.toml")
    assert exp.agent.eye.gain == 1.0 and exp.agent.motor.gain == 8.0
    assert exp.task.distance_clip == 75.0 and exp.controller.weight_range == (-10.0, 10.0)
    base = load_world(CP_WORLD)
    assert base.agent.eye.gain == 10.0 and base.agent.motor.gain == 5.0


BAD = [
    # (old, new, expected fragments of the message)
    ("offsets = 12", "offets = 12", ["[task]", "unknown key `offets`", "did you mean `offsets`"]),
    ("offsets = 12", 'offsets = "twelve"', ["[task]", "`offsets` must be an integer", '"twelve"']),
    ("offsets = 12", "offsets = 1.5", ["[task]", "`offsets` must be an integer", "1.5"]),
    ("fall_speed = 3.0", "fall_speed = -3.0", ["[task]", "`fall_speed` must be > 0", "-3.0"]),
    ("population = 96", "population = 1", ["[optimizer]", "`population` must be >= 2", "got 1"]),
    ("dt = 0.1", "dt = 0.0", ["[simulation]", "`dt` must be > 0"]),
    ("symmetric = true", "symmetric = 1", ["[controller]", "`symmetric` must be true or false", "got 1"]),
    ('type = "ctrnn"', 'type = "ctrn"', ["[controller]", "unknown controller type `ctrn`", "did you mean `ctrnn`"]),
    ('type = "categorical_perception"', 'type = "categorical"', ["[task]", "unknown task type"]),
    ("tau_range = [1.0, 2.0]", "tau_range = [2.0, 1.0]", ["[controller]", "`tau_range`", "low <= high"]),
    ("tau_range = [1.0, 2.0]", "tau_range = [0.05, 2.0]", ["[controller]", "tau_range", "exp_euler", "rk4"]),
    ("[evolution]", "[evolutoin]", ["unknown table [evolutoin]", "did you mean `evolution`"]),
    ('file = "beer_agent"', 'file = "../agents/nobody.toml"', ["[agent]", "nobody.toml", "not found"]),
    ('file = "beer_agent"', 'file = "nobody"', ["[agent]", "no shipped agent", "beer_agent"]),
    ("avoid_shape = \"diamond\"", "avoid_shape = \"square\"", ["[task]", "`avoid_shape` must be one of"]),
    ("object_y = 275.0", "object_y = 20.0", ["[task]", "`object_y` must exceed"]),
]


@pytest.mark.parametrize("old,new,fragments", BAD, ids=[b[1] for b in BAD])
def test_bad_world_gives_one_line_naming_file_table_key(tmp_path, capsys, old, new, fragments):
    p = _variant(tmp_path, old, new)
    with pytest.raises(ConfigError) as info:
        load_setup(p)  # parse, then build (the checks that span tables)
    msg = str(info.value)
    assert "\n" not in msg
    assert str(p) in msg
    for frag in fragments:
        assert frag in msg, (frag, msg)
    out = tmp_path / "run"
    rc = main(["evolve", str(p), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("evorobot: error: ") and "Traceback" not in err
    assert not out.exists()


def test_malformed_toml(tmp_path, capsys):
    p = tmp_path / "broken.toml"
    p.write_text("[task\ntype = 'x'\n")
    assert main(["evolve", str(p), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "malformed TOML" in err and str(p) in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_missing_world_file(tmp_path, capsys):
    assert main(["evolve", str(tmp_path / "none.toml")]) == 2
    assert "not found" in capsys.readouterr().err


def test_bad_agent_file_names_agent_file(tmp_path):
    p = _variant(tmp_path, 'file = "beer_agent"', 'file = "../agents/beer_agent.toml"')  # the copy, by path
    agent = tmp_path / "agents" / "beer_agent.toml"
    agent.write_text(agent.read_text().replace("rays = 7", "ray = 7"))
    with pytest.raises(ConfigError, match=r"beer_agent.toml \[eye\]: unknown key `ray` \(did you mean `rays`\?\)"):
        load_world(p)


def test_set_overrides_and_their_errors(cp_world):
    exp = load_world(cp_world, ["task.offsets=3", "controller.integrator=rk4", "agent.eye.gain=2.5"])
    assert exp.task.offsets == 3 and exp.controller.integrator == "rk4" and exp.agent.eye.gain == 2.5
    with pytest.raises(ConfigError, match=r"\[task\]: `offsets` must be >= 1, got 0"):
        load_world(cp_world, ["task.offsets=0"])
    with pytest.raises(ConfigError, match="expected TABLE.KEY=VALUE"):
        load_world(cp_world, ["offsets"])
    with pytest.raises(ConfigError, match="unknown key `sped`"):
        load_world(cp_world, ["task.sped=3"])


def test_resolved_experiment_round_trips(cp_world):
    from evorobot.config import experiment_from_dict

    exp = load_world(cp_world)
    again = experiment_from_dict(exp.to_dict(), "resolved")
    assert again.to_dict() == exp.to_dict()


def test_a_bodiless_task_refuses_an_agent_table(tmp_path):
    text = (ROOT / "worlds" / "cartpole.toml").read_text() + '\n[agent]\nfile = "../agents/beer_agent.toml"\n'
    p = tmp_path / "w.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=r"w.toml \[agent\]: task `cartpole` brings its own dynamics"):
        load_world(p)
