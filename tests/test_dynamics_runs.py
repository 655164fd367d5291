"""Tasks that bring their own dynamics run through everything bodies do: two workers give the run
of one, a resumed run ends identical to a straight one, a champion replays bit for bit with its
held-out score, and ``replay --trace`` writes a row at time 0 and one per live trial step with the plant state."""

import csv
import json
from pathlib import Path

import pytest
from conftest import ROOT, history

from evorobot.cli import main
from evorobot.config import load_world
from evorobot.evolution import OPTIMIZERS
from evorobot.evolution.backends import make_backend
from evorobot.evolution.runner import evolve, resume
from evorobot.source import open_source

WORLDS = {"cartpole": ["task.trials=3", "task.steps=200"],
          "double_pole_nv": [],
          "narma10": ["task.length=120", "task.train_sequences=2", "task.test_sequences=1"]}
SMALL = ["optimizer.population=8", "evolution.chunk_size=3"]


def experiment(name: str, generations: int):
    return load_world(ROOT / "worlds" / f"{name}.toml", [*WORLDS[name], *SMALL, f"evolution.generations={generations}"])


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_two_workers_and_a_resumed_run_equal_one_straight_run(name: str, tmp_path: Path) -> None:
    straight = tmp_path / "straight"
    evolve(experiment(name, 4), straight, stream=None)
    backend = make_backend(workers=2)
    try:
        evolve(experiment(name, 4), tmp_path / "two", stream=None, backend=backend)
    finally:
        backend.close()
    evolve(experiment(name, 2), tmp_path / "half", stream=None)
    resume(tmp_path / "half", overrides=["evolution.generations=4"], stream=None)
    assert history(tmp_path / "two") == history(straight) == history(tmp_path / "half")
    assert (tmp_path / "two" / "champion.json").read_bytes() == (straight / "champion.json").read_bytes()
    a, b = (json.loads((d / "champion.json").read_text()) for d in (tmp_path / "half", straight))
    # (a champion found before the resume records the experiment with its first `generations`)
    assert {k: a[k] for k in ("genome", "trials", "fitness", "generation")} == \
        {k: b[k] for k in ("genome", "trials", "fitness", "generation")}
    assert a.get("held_out") == b.get("held_out")


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_champion_replays_with_its_held_out_score_and_traces_the_plant(name: str, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    evolve(experiment(name, 2), run, stream=None)
    champion = json.loads((run / "champion.json").read_text())
    trace = tmp_path / "trace.csv"
    assert main(["replay", str(run / "champion.json"), "--json", "--trace", str(trace)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["matches_stored"] is True
    if "held_out" in champion:
        assert doc["held_out"] == champion["held_out"]
    with open(trace) as fh:
        rows = list(csv.DictReader(fh))
    header = list(rows[0])
    task = open_source(str(run / "champion.json")).setup.task
    assert header[:2] == ["trial", "time"] and "agent_x" not in header
    # the task's own names for its inputs and outputs, in order, as evorobot.labels gives them
    i = header.index(task.interface.inputs[0])
    assert header[i: i + len(task.interface.inputs)] == list(task.interface.inputs)
    assert set(task.interface.outputs) <= set(header)
    if name == "cartpole":
        assert {"cart_x", "pole_angle"} <= set(header)
        # a row at time 0, then one per live step: each trial's steps balanced (Gymnasium's return)
        per_trial = [sum(1 for r in rows if r["trial"] == str(t)) for t in range(len(champion["trials"]))]
        assert per_trial == [int(float(x)) + 1 for x in champion["trials"]]


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_every_optimizer_evolves_a_pole_balancer_whose_champion_replays(optimizer: str, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    exp = load_world(ROOT / "worlds" / "cartpole.toml", ["task.trials=2", "task.steps=50", "evolution.generations=2"],
                     optimizer=optimizer)
    run = tmp_path / "run"
    summary = evolve(exp, run, stream=None)
    assert summary.generations == 2 and summary.best_fitness >= 1
    assert main(["replay", str(run / "champion.json"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["matches_stored"] is True
