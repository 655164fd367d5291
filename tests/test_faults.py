"""Hostile and broken input (issue 22): one line and exit 2, never a hang, a traceback or a half-written run.

Every command that could hang runs in a subprocess with a deadline, so a regression fails the test
instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

WORLD = ROOT / "worlds" / "categorical_perception.toml"
DEADLINE = 90  # seconds: bounds a failure; a success takes a few


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    return subprocess.run([sys.executable, "-m", "evorobot.cli", *args], capture_output=True, text=True, check=False,
                          timeout=DEADLINE, cwd=cwd, env=env)


def one_line(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("evorobot: error: ") and "Traceback" not in out.stderr
    return lines[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("command", ["evolve", "replay", "view"])
def test_a_fifo_given_as_a_file_is_refused_instead_of_hanging(tmp_path: Path, command: str) -> None:
    fifo = tmp_path / ("world.toml" if command == "evolve" else "champion.json")
    os.mkfifo(fifo)
    line = one_line(run_cli(command, str(fifo), cwd=tmp_path))
    assert "is not a regular file" in line and str(fifo) in line
    assert not (tmp_path / "runs").exists()


def test_deeply_nested_world_and_champion_files_are_one_line(tmp_path: Path) -> None:
    world = tmp_path / "deep.toml"
    world.write_text("[experiment]\nname = \"x\"\n[task]\ntype = \"categorical_perception\"\nv = "
                     + "[" * 5000 + "]" * 5000 + "\n")
    assert "nested too deeply" in one_line(run_cli("evolve", str(world), cwd=tmp_path))
    champ = tmp_path / "champion.json"
    champ.write_text("[" * 200000 + "]" * 200000)
    assert "nested too deeply" in one_line(run_cli("replay", str(champ), cwd=tmp_path))


def test_a_symlink_loop_or_a_directory_as_champion_is_one_line(tmp_path: Path) -> None:
    loop = tmp_path / "loop.json"
    os.symlink(loop, loop)
    assert "symlink loop" in one_line(run_cli("replay", str(loop), cwd=tmp_path))
    folder = tmp_path / "folder.json"  # a directory is read as a run directory
    folder.mkdir()
    assert "no champion.json yet" in one_line(run_cli("replay", str(folder), cwd=tmp_path))


def test_negative_seeds_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert run_cli("evolve", str(WORLD), "--generations", "1", "--population", "4", "--set", "task.offsets=2",
                   "--out", str(out), cwd=tmp_path).returncode == 0
    doc = json.loads((out / "champion.json").read_text())
    doc["seed"] = -1
    (tmp_path / "neg.json").write_text(json.dumps(doc))
    assert "`seed` must be >= 0, got -1" in one_line(run_cli("replay", str(tmp_path / "neg.json"), cwd=tmp_path))
    bad = run_cli("replay", str(WORLD), "--genome-seed", "-1", cwd=tmp_path)
    assert bad.returncode == 2 and "expected an integer >= 0, got -1" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize("name", ["../../escaped", "a/b", "", ".hidden", "x" * 101])
def test_a_run_name_cannot_leave_the_output_root(tmp_path: Path, name: str) -> None:
    line = one_line(run_cli("evolve", str(WORLD), "--set", f"experiment.name={json.dumps(name)}", cwd=tmp_path))
    assert "must be one folder name" in line
    assert not (tmp_path / "runs").exists() and not (tmp_path.parent / "escaped").exists()


def test_control_characters_in_a_key_do_not_reach_the_terminal(tmp_path: Path) -> None:
    line = one_line(run_cli("evolve", str(WORLD), "--set", "task.\x1b[2Jboom=1", cwd=tmp_path))
    assert "\x1b" not in line and "\\x1b[2Jboom" in line


def _forge(checkpoint: Path, edit) -> None:
    """Edit the optimizer arrays of ``checkpoint`` and recompute both checksums, as a forger would."""
    import hashlib

    import numpy as np

    from evorobot.evolution.checkpoint import _sha
    from evorobot.store import npz_bytes

    state = json.loads((checkpoint / "state.json").read_text())
    with np.load(checkpoint / "optimizer.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k].copy() for k in npz.files}
    edit(arrays)
    data = npz_bytes(arrays)
    (checkpoint / "optimizer.npz").write_bytes(data)
    state.pop("state_sha256")
    state["npz_sha256"] = hashlib.sha256(data).hexdigest()
    state["state_sha256"] = _sha(state)
    (checkpoint / "state.json").write_text(json.dumps(state))


@pytest.mark.parametrize("optimizer,value", [("ga", float("nan")), ("ga", 1.5), ("cmaes", float("nan"))])
def test_a_forged_checkpoint_with_recomputed_checksums_is_refused(tmp_path: Path, optimizer: str, value: float) -> None:
    out = tmp_path / "run"
    args = ["--generations", "2", "--population", "6", "--set", "task.offsets=2", "--optimizer", optimizer]
    assert run_cli("evolve", str(WORLD), *args, "--out", str(out), cwd=tmp_path).returncode == 0
    newest = max((out / "checkpoint").iterdir())

    def edit(arrays: dict) -> None:
        key = next(k for k, a in arrays.items() if a.dtype.kind == "f" and a.ndim >= 1 and k != "fitness")
        arrays[key].reshape(-1)[0] = value

    for ck in (out / "checkpoint").iterdir():  # every checkpoint: resume falls back to older valid ones
        _forge(ck, edit)
    line = one_line(run_cli("resume", str(out), "--generations", "3", cwd=tmp_path))
    assert f"{newest.name} optimizer: optimizer state `" in line
    assert "holds non-finite values" in line or "must be finite and within [-1.0, 1.0]" in line
    line = one_line(run_cli("evolve", str(WORLD), *args, "--init-from", str(out), "--out", str(tmp_path / "b"),
                            cwd=tmp_path))
    assert "optimizer state" in line and not (tmp_path / "b").exists()


def test_resume_removes_the_temporary_files_of_an_interrupted_write(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["--population", "4", "--set", "task.offsets=2"]
    assert run_cli("evolve", str(WORLD), "--generations", "1", *args, "--out", str(out), cwd=tmp_path).returncode == 0
    stale = [out / ".champion.json.k2j3h4.tmp", out / ".history.csv.x9y8.tmp"]
    for f in stale:
        f.write_text("half a file")
    keep = out / "notes.tmp"  # not a name write_bytes_atomic makes
    keep.write_text("mine")
    assert run_cli("resume", str(out), "--generations", "2", cwd=tmp_path).returncode == 0
    assert not any(f.exists() for f in stale) and keep.read_text() == "mine"


@pytest.mark.parametrize("manifest", ["[]", "{\"resumes\": 3}"])
def test_resume_with_a_manifest_that_is_not_one_is_one_line(tmp_path: Path, manifest: str) -> None:
    out = tmp_path / "run"
    args = ["--population", "4", "--set", "task.offsets=2"]
    assert run_cli("evolve", str(WORLD), "--generations", "1", *args, "--out", str(out), cwd=tmp_path).returncode == 0
    (out / "manifest.json").write_text(manifest)
    history = (out / "history.csv").read_text()
    assert "run manifest is not an evorobot manifest" in one_line(
        run_cli("resume", str(out), "--generations", "2", cwd=tmp_path))
    assert (out / "history.csv").read_text() == history  # nothing half-written


def test_a_lock_that_is_a_directory_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["--population", "4", "--set", "task.offsets=2"]
    assert run_cli("evolve", str(WORLD), "--generations", "1", *args, "--out", str(out), cwd=tmp_path).returncode == 0
    (out / ".lock").unlink(missing_ok=True)
    (out / ".lock").mkdir()
    assert "cannot lock the run" in one_line(run_cli("resume", str(out), "--generations", "2", cwd=tmp_path))
