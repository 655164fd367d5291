"""Evolution runs end to end: run directory, determinism, champion replay, bad champion files."""

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from evorobot.cli import main
from evorobot.config import load_world
from evorobot.evolution.runner import HISTORY_COLUMNS, evolve


def _history(path: Path) -> list[dict[str, str]]:
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r.pop("seconds")
    return rows


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, request):
    world = request.getfixturevalue("small_world_module")
    out = tmp_path_factory.mktemp("runs") / "a"
    assert main(["evolve", str(world), "--out", str(out), "--generations", "3"]) == 0
    return out


@pytest.fixture(scope="module")
def small_world_module(tmp_path_factory):
    from conftest import CP_WORLD, ROOT

    text = CP_WORLD.read_text().replace('file = "../agents/beer_agent.toml"',
                                        f'file = "{(ROOT / "agents" / "beer_agent.toml").as_posix()}"')
    text = text.replace("offsets = 12", "offsets = 2").replace("population = 96", "population = 6")
    text = text.replace("chunk_size = 16", "chunk_size = 4")
    p = tmp_path_factory.mktemp("worlds") / "small.toml"
    p.write_text(text)
    return p


def test_run_directory_contents(run_dir):
    names = {p.name for p in run_dir.iterdir()}
    assert {"manifest.json", "config.json", "history.csv", "champion.json", "checkpoint"} <= names
    manifest = json.loads((run_dir / "manifest.json").read_text())
    for key in ("evorobot", "python", "numpy", "numba", "pymunk", "platform", "seed", "command"):
        assert key in manifest
    with open(run_dir / "history.csv") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == HISTORY_COLUMNS and len(rows) == 4
    champ = json.loads((run_dir / "champion.json").read_text())
    assert champ["schema_version"] == 1 and len(champ["genome"]) == champ["controller"]["genome_size"]
    assert set(champ["controller"]["parameters"]) >= {"tau", "bias", "gain", "weights", "input_weights"}
    assert len(champ["trials"]) == 4
    best_ever = [float(r[4]) for r in rows[1:]]
    assert champ["fitness"] == max(best_ever)
    assert not [p for p in run_dir.rglob("*.tmp")]


def test_replay_reproduces_stored_fitness_bit_for_bit(run_dir, capsys):
    assert main(["replay", str(run_dir / "champion.json"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    champ = json.loads((run_dir / "champion.json").read_text())
    assert doc["trials"] == champ["trials"] and doc["fitness"] == champ["fitness"]
    assert doc["matches_stored"] is True


def test_replay_detects_a_different_fitness(run_dir, tmp_path, capsys):
    champ = json.loads((run_dir / "champion.json").read_text())
    champ["trials"][0] = champ["trials"][0] + 1e-12
    p = tmp_path / "champion.json"
    p.write_text(json.dumps(champ))
    assert main(["replay", str(p), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["matches_stored"] is False


def test_replay_trace(run_dir, tmp_path):
    trace = tmp_path / "trace.csv"
    assert main(["replay", str(run_dir), "--trace", str(trace)]) == 0
    with open(trace) as fh:
        rows = list(csv.DictReader(fh))
    header = rows[0].keys()
    for col in ("trial", "time", "agent_x", "object0_y", "ray6", "ray6_distance", "y_m1", "m1", "motor1", "vx"):
        assert col in header
    assert {r["trial"] for r in rows} == {"0", "1", "2", "3"}
    first = [r for r in rows if r["trial"] == "0"]
    assert len(first) == 818  # t = 0, then 817 ticks
    # objects fall at 3 units per time unit from y = 275
    assert float(first[0]["time"]) == 0.0 and float(first[0]["object0_y"]) == 275
    assert float(first[1]["object0_y"]) == pytest.approx(275 - 0.3)
    assert float(first[-1]["time"]) == pytest.approx(81.7)


def test_same_seed_same_results_and_other_seed_differs(small_world_module, tmp_path):
    exp = load_world(small_world_module, ["evolution.generations=3"])
    evolve(exp, tmp_path / "a", stream=None)
    evolve(exp, tmp_path / "b", stream=None)
    assert _history(tmp_path / "a" / "history.csv") == _history(tmp_path / "b" / "history.csv")
    assert (tmp_path / "a" / "champion.json").read_bytes() == (tmp_path / "b" / "champion.json").read_bytes()
    other = load_world(small_world_module, ["evolution.generations=3", "experiment.seed=2"])
    evolve(other, tmp_path / "c", stream=None)
    assert _history(tmp_path / "a" / "history.csv") != _history(tmp_path / "c" / "history.csv")


def test_chunk_size_does_not_change_the_run(small_world_module, tmp_path):
    a = load_world(small_world_module, ["evolution.generations=2", "evolution.chunk_size=1"])
    b = load_world(small_world_module, ["evolution.generations=2", "evolution.chunk_size=6"])
    evolve(a, tmp_path / "a", stream=None)
    evolve(b, tmp_path / "b", stream=None)
    assert _history(tmp_path / "a" / "history.csv") == _history(tmp_path / "b" / "history.csv")
    ca = json.loads((tmp_path / "a" / "champion.json").read_text())
    cb = json.loads((tmp_path / "b" / "champion.json").read_text())
    ca["experiment"]["evolution"].pop("chunk_size"), cb["experiment"]["evolution"].pop("chunk_size")
    assert ca == cb


def test_refuses_a_non_empty_output_directory(small_world_module, tmp_path, capsys):
    out = tmp_path / "full"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    assert main(["evolve", str(small_world_module), "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def _bad_champion(run_dir: Path, tmp_path: Path, edit) -> Path:
    text = (run_dir / "champion.json").read_text()
    p = tmp_path / "bad.json"
    p.write_text(edit(text))
    return p


def _set(key, value):
    def edit(text):
        d = json.loads(text)
        d[key] = value(d) if callable(value) else value
        return json.dumps(d)
    return edit


BAD_CHAMPIONS = {
    "truncated": (lambda t: t[: len(t) // 2], "not valid JSON"),
    "unknown schema version": (_set("schema_version", 99), "unknown champion schema_version 99"),
    "wrong genome length": (_set("genome", lambda d: d["genome"][:-1]), "genes, the controller needs"),
    "not a champion": (lambda t: "[1, 2]", "not an evorobot champion file"),
    "gene out of range": (_set("genome", lambda d: [2.0] + d["genome"][1:]), "within [-1, 1]"),
    "bad experiment": (_set("experiment", lambda d: {**d["experiment"], "task": {"type": "nope"}}),
                       "unknown task type `nope`"),
    "NaN literal": (lambda t: t.replace('"fitness": ', '"fitness": NaN, "x": ', 1), "not valid JSON"),
}


@pytest.mark.parametrize("case", list(BAD_CHAMPIONS))
def test_bad_champion_files(run_dir, tmp_path, capsys, case):
    edit, fragment = BAD_CHAMPIONS[case]
    p = _bad_champion(run_dir, tmp_path, edit)
    trace = tmp_path / "trace.csv"
    assert main(["replay", str(p), "--trace", str(trace)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evorobot: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert fragment in err and str(p) in err
    assert not trace.exists()


def test_a_champion_whose_tables_disagree_is_a_champion_file_error(run_dir, tmp_path):
    from evorobot.champion import load_champion
    from evorobot.errors import ChampionFileError

    def fast_neurons(d):  # each table is valid alone; tau below dt / 2 is not, with euler at dt = 0.1
        exp = json.loads(json.dumps(d["experiment"]))
        exp["controller"]["tau_range"] = [0.05, 2.0]
        return exp

    p = _bad_champion(run_dir, tmp_path, _set("experiment", fast_neurons))
    with pytest.raises(ChampionFileError, match="tau_range"):
        load_champion(p)


def test_missing_champion(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "nothing.json")]) == 2
    assert "not found" in capsys.readouterr().err


def test_list_names_registries_and_worlds(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "categorical_perception" in out and "ctrnn" in out and "ga" in out
    assert "categorical_perception_izquierdo.toml" in out


def test_replay_into_a_closed_pipe_leaves_no_traceback(run_dir):
    # `evorobot replay RUN | head -1`: the reader has gone before replay prints; the child waits
    # for a line on stdin so that its stdout is surely closed first
    code = ("import sys; sys.stdin.readline(); from evorobot.cli import main; "
            f"raise SystemExit(main(['replay', {str(run_dir)!r}]))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()
    _, err = proc.communicate(b"go\n", timeout=300)
    assert proc.returncode == 1
    assert "Traceback" not in err.decode() and "BrokenPipe" not in err.decode()


def test_progress_lines_number_generations_as_history_does(small_world, tmp_path):
    import io

    from evorobot.evolution.runner import _clock

    assert (_clock(3723.4), _clock(65), _clock(0.2)) == ("1:02:03", "1:05", "0:00")
    stream = io.StringIO()
    out = tmp_path / "r"
    evolve(load_world(small_world, ["evolution.generations=3"]), out, stream=stream)
    lines = [line for line in stream.getvalue().splitlines() if line.startswith("gen ")]
    with open(out / "history.csv") as fh:
        gens = [int(r["generation"]) for r in csv.DictReader(fh)]
    assert [line.split()[1] for line in lines] == [str(g) for g in gens] == ["0", "1", "2"]
    assert [line.split()[2] for line in lines] == ["(1/3)", "(2/3)", "(3/3)"]
    assert all(re.search(r"\[\d+:\d\d<\d+:\d\d\]$", line) for line in lines)
