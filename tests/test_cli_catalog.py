"""`evorobot list KIND NAME`, agents by name, world files copied elsewhere, --version (issue 19)."""

import dataclasses
import json
import re
import shutil

import pytest
from conftest import ROOT

import evorobot
from evorobot.agent import AGENT_TABLES
from evorobot.catalog import KINDS, _registry
from evorobot.cli import main
from evorobot.config import load_world

ENTRY = re.compile(r"^  (\w+)\s+= ")


def _listed_keys(capsys, kind, name):
    assert main(["list", kind, name]) == 0
    return [m.group(1) for line in capsys.readouterr().out.splitlines() if (m := ENTRY.match(line))]


@pytest.mark.parametrize("kind", KINDS)
def test_list_prints_every_key_of_every_registered_type(capsys, kind):
    registry = _registry(kind)
    assert main(["list", kind]) == 0
    assert capsys.readouterr().out.split() == sorted(registry)
    for name, entry in registry.items():
        spec = entry if kind == "agent" else entry.Spec
        assert _listed_keys(capsys, kind, name) == [f.name for f in dataclasses.fields(spec)], name


def test_list_shows_defaults_ranges_and_meanings(capsys):
    assert main(["list", "controller", "lstm"]) == 0
    out = capsys.readouterr().out
    assert "  cells" in out and "= 4 (>= 1)" in out and "number of memory cells" in out


@pytest.mark.parametrize("args, needle", [(["list", "controler"], "did you mean `controller`"),
                                          (["list", "controller", "lstn"], "did you mean `lstm`")])
def test_list_refuses_unknown_names_in_one_line(capsys, args, needle):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]


def test_every_shipped_world_loads_when_copied_into_an_empty_folder(tmp_path):
    worlds = sorted((ROOT / "worlds").glob("*.toml"))
    for world in worlds:
        copy = tmp_path / world.name
        shutil.copy(world, copy)
        assert load_world(copy).to_dict() == load_world(world).to_dict(), world.name


def test_agent_by_name_equals_the_agent_file_by_path(tmp_path):
    by_name = load_world(ROOT / "worlds" / "phototaxis.toml")
    by_path = load_world(ROOT / "worlds" / "phototaxis.toml", ['agent.file="../agents/khepera.toml"'])
    assert by_name.to_dict() == by_path.to_dict()
    assert set(AGENT_TABLES) >= {"body", "ir"}


def test_an_unknown_agent_name_is_one_line_naming_the_shipped_ones(capsys):
    assert main(["replay", str(ROOT / "worlds" / "phototaxis.toml"), "--set", 'agent.file="kepera"']) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did you mean `khepera`" in err[0] and "beer_agent" in err[0]


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"evorobot {evorobot.__version__}"


def test_evolve_swaps_the_controller_type(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["evolve", str(ROOT / "worlds" / "phototaxis.toml"), "--controller", "lstm", "--set",
                 "controller.cells=4", "--generations", "1", "--population", "4", "--out", str(out)]) == 0
    assert '"type": "lstm"' in (out / "config.json").read_text().replace("'", '"')


def test_replay_champion_with_task_settings_is_a_generalisation_test(tmp_path, capsys):
    out = tmp_path / "r"
    world = str(ROOT / "worlds" / "categorical_perception.toml")
    assert main(["evolve", world, "--set", "task.offsets=2", "--generations", "1", "--population", "4",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["replay", str(out), "--json"]) == 0
    stored = json.loads(capsys.readouterr().out)
    assert main(["replay", str(out), "--set", "task.offsets=3", "--json"]) == 0
    dense = json.loads(capsys.readouterr().out)
    assert "matches_stored" not in dense and len(dense["trials"]) == 6
    # offsets -50 and +50 are in both grids: each trial is its own world, so their fitness is the same bits
    for rec in stored["per_trial"]:
        same = [d for d in dense["per_trial"] if d["conditions"] == rec["conditions"]]
        assert len(same) == 1 and same[0]["fitness"] == rec["fitness"]
    assert main(["replay", str(out), "--set", "controller.hidden=2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "task.KEY=VALUE" in err[0]


def test_the_same_evolve_twice_suggests_resume_or_another_out(tmp_path, capsys):
    args = ["evolve", str(ROOT / "worlds" / "categorical_perception.toml"), "--set", "task.offsets=2",
            "--generations", "1", "--population", "4", "--out", str(tmp_path / "r")]
    assert main(args) == 0
    before = sorted(p.name for p in (tmp_path / "r").iterdir())
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"evorobot resume {tmp_path / 'r'}" in err[0] and "--out" in err[0]
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == before


def test_the_resume_summary_times_only_the_resumed_generations(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["evolve", str(ROOT / "worlds" / "categorical_perception.toml"), "--set", "task.offsets=2",
                 "--generations", "2", "--population", "4", "--out", str(out)]) == 0
    assert "after 2 generations in " in capsys.readouterr().out
    assert main(["resume", str(out), "--generations", "5"]) == 0
    assert "after 5 generations (3 in this session, " in capsys.readouterr().out


def test_init_from_with_another_layout_names_the_first_difference_in_one_line(tmp_path, capsys):
    world = str(ROOT / "worlds" / "categorical_perception.toml")
    base = ["--set", "task.offsets=2", "--generations", "1", "--population", "4"]
    assert main(["evolve", world, *base, "--out", str(tmp_path / "a")]) == 0
    capsys.readouterr()
    assert main(["evolve", world, *base, "--set", "controller.hidden=4", "--init-from", str(tmp_path / "a"),
                 "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "genome layout differs: controller.hidden is 5 there, 4 here" in err[0]
    assert len(err[0]) < 200


def test_first_difference_walks_into_tables_and_lists():
    from evorobot.evolution.runner import first_difference

    a = {"n": 1, "c": {"hidden": 5, "tau": [1.0, 2.0]}}
    b = {"n": 1, "c": {"hidden": 5, "tau": [1.0, 3.0]}}
    assert first_difference(a, b) == ("c.tau[1]", 2.0, 3.0)
    assert first_difference({"x": 1}, {"x": 1, "y": 2}) == ("y", "(absent)", 2)
