"""``evorobot sweep``: one evolution per seed, each bitwise the run alone, resumable, summarised."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CP_WORLD, history

from evorobot.errors import ConfigError
from evorobot.sweep import parse_seeds, sweep

SETTINGS = ["--set", "task.offsets=2", "--population", "8", "--generations", "5"]


def plain_run(seed: int, out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "evorobot.cli", "evolve", str(CP_WORLD), *SETTINGS, "--seed", str(seed),
                    "--out", str(out)], check=True, capture_output=True, timeout=120)
    return out


@pytest.mark.parametrize("text,seeds", [("1-4", [1, 2, 3, 4]), ("3,1,3", [1, 3]), ("0-2,7", [0, 1, 2, 7]),
                                        (" 5 ", [5])])
def test_seed_lists_and_ranges(text: str, seeds: list[int]) -> None:
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["", "a", "3-1", "-1", "1-x", "0-99999"])
def test_bad_seed_lists_are_one_line(text: str) -> None:
    with pytest.raises(ConfigError, match="--seeds"):
        parse_seeds(text)


def test_each_seed_is_the_run_alone_and_an_interrupted_sweep_goes_on_exactly(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "sweep"
    monkeypatch.setenv("EVOROBOT_TEST_KILL", "history.csv:renamed@3")  # every run dies after its 3rd generation
    first = sweep(str(CP_WORLD), [4, 5], out, SETTINGS, workers=2, target=0.5)
    assert [r.status.split()[0] for r in first] == ["failed", "failed"]
    assert [r.generations for r in first] == [3, 3]
    monkeypatch.delenv("EVOROBOT_TEST_KILL")
    rows = sweep(str(CP_WORLD), [4, 5], out, SETTINGS, workers=2, target=0.5)
    state = json.loads((out / "sweep.json").read_text())
    for r in rows:
        alone = plain_run(r.seed, tmp_path / f"alone-{r.seed}")
        run = out / f"seed-{r.seed}"
        assert history(run) == history(alone)
        champ, ref = (json.loads((d / "champion.json").read_text()) for d in (run, alone))
        assert champ["genome"] == ref["genome"] and champ["fitness"] == ref["fitness"]
        hist = history(alone)
        assert r.status == "done" and r.generations == 5
        assert r.best == float(hist[-1]["best_ever"]) and r.champion == ref["fitness"]
        assert r.reached_at == next((int(h["generation"]) for h in hist if float(h["best_ever"]) >= 0.5), None)
        assert r.wall_s == state["wall_s"][str(r.seed)] > 0
    with (out / "summary.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert [int(t["seed"]) for t in table] == [4, 5]
    assert [float(t["best"]) for t in table] == [r.best for r in rows]
    md = (out / "summary.md").read_text()
    assert md.count("| done |") == 2 and "of 2 reached 0.5" in md
    again = sweep(str(CP_WORLD), [4, 5], out, SETTINGS, workers=2, target=0.5)  # nothing left to run
    assert again == rows


def test_a_second_sweep_with_other_settings_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    sweep(str(CP_WORLD), [1], out, SETTINGS)
    with pytest.raises(ConfigError, match="another settings"):
        sweep(str(CP_WORLD), [1], out, [*SETTINGS, "--set", "task.offsets=4"])
    assert len(history(out / "seed-1")) == 5
    assert json.loads((out / "sweep.json").read_text())["settings"] == SETTINGS


def test_the_command_prints_the_table_and_a_bad_world_is_one_line(tmp_path: Path) -> None:
    cli = [sys.executable, "-m", "evorobot.cli", "sweep"]
    out = subprocess.run([*cli, str(CP_WORLD), "--seeds", "2-3", "--out", str(tmp_path / "s"), "--target", "0.5",
                          "--workers", "2", "--set", "task.offsets=2", "--population", "8", "--generations", "5"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    rows = [line for line in out.stdout.splitlines() if line.startswith(("| 2 |", "| 3 |"))]
    assert len(rows) == 2 and all("| done | 5 |" in r for r in rows)
    assert json.loads((tmp_path / "s" / "sweep.json").read_text())["settings"] == [
        "--generations", "5", "--population", "8", "--set", "task.offsets=2"]
    bad = subprocess.run([*cli, str(CP_WORLD), "--seeds", "1", "--out", str(tmp_path / "b"), "--set", "task.offsets=-1"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "offsets" in bad.stderr
    assert not (tmp_path / "b").exists()
