"""Resume: a run killed (SIGKILL), interrupted (SIGINT/SIGTERM) or extended ends exactly as an
uninterrupted run; what may change on resume is explicit and recorded."""

import csv
import json
import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from conftest import CP_WORLD, ROOT
from evorobot.cli import main
from test_backends import LINUX, assert_all_gone, history, run_cli, same_run

GENS = 12
SETTINGS = ["--set", "task.offsets=2", "--population", "6", "--set", "evolution.chunk_size=2",
            "--set", "evolution.checkpoint_every=2"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run."""
    out = tmp_path_factory.mktemp("ref") / "run"
    assert main(["evolve", str(CP_WORLD), *SETTINGS, "--generations", str(GENS), "--out", str(out)]) == 0
    return out


def _rows(run: Path) -> int:
    try:
        with open(run / "history.csv") as fh:
            return len(list(csv.reader(fh))) - 1
    except (FileNotFoundError, StopIteration):
        return 0


def _signal_after(run: Path, rows: int, *signals: int):
    """A ``stop`` for :func:`run_cli`: send ``signals`` once history.csv has ``rows`` rows."""
    def stop(proc) -> bool:
        if _rows(run) < rows:
            return False
        for sig in signals:
            proc.send_signal(sig)
            time.sleep(0.01)
        return True
    return stop


def _start(out: Path, *signals: int, rows: int = 3, workers: str = "1") -> tuple[int, str]:
    rc, text, seen = run_cli(["evolve", str(CP_WORLD), *SETTINGS, "--generations", str(GENS), "--out", str(out),
                              "--workers", workers], ROOT, _signal_after(out, rows, *signals))
    if LINUX:
        assert_all_gone(seen)
    return rc, text


def test_sigkill_mid_generation_then_resume_twice_equals_uninterrupted(reference, tmp_path):
    killed = tmp_path / "killed"
    rc, _ = _start(killed, signal.SIGKILL, rows=3, workers="2")  # 3 rows, checkpoint after 2: gen 3 in flight
    assert rc == -signal.SIGKILL
    done = _rows(killed)
    assert 3 <= done < GENS
    assert not (killed / "checkpoint" / f"gen-{GENS:06d}").exists()
    copy = tmp_path / "copy"
    shutil.copytree(killed, copy)
    for run in (killed, copy):
        assert main(["resume", str(run)]) == 0
        same_run(reference, run)
    resumes = json.loads((killed / "manifest.json").read_text())["resumes"]
    assert len(resumes) == 1 and resumes[0]["changes"] == {} and resumes[0]["from_generation"] % 2 == 0
    assert resumes[0]["backend"]["workers"] == 1  # was 2: the backend may change


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_finishes_the_generation_checkpoints_and_exits(reference, tmp_path, sig, code):
    out = tmp_path / "run"
    rc, text = _start(out, sig, rows=3)
    assert rc == code, text
    assert "finishing the generation in flight" in text and f"evorobot resume {out}" in text
    done = _rows(out)
    assert done < GENS
    assert (out / "checkpoint" / f"gen-{done:06d}").is_dir()  # stopped after a checkpoint, off the 2-grid too
    assert history(out) == history(reference)[:done]
    assert main(["resume", str(out)]) == 0
    same_run(reference, out)


def test_second_ctrl_c_aborts_at_once():
    """The handler itself, deterministically: the first SIGINT is noted, the second raises Aborted."""
    from evorobot.evolution.runner import Aborted, _Signals

    with _Signals(True, None) as sig:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs at the next bytecode boundary
        assert sig.signum == signal.SIGINT
        with pytest.raises(Aborted):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_two_ctrl_c_in_a_row_exit_130_and_the_run_still_resumes(reference, tmp_path):
    """Two SIGINTs 10 ms apart: aborted at once, or (when the kernel or CPython merges them, or the
    short generation ends first) stopped after the generation; either way the run resumes exactly."""
    out = tmp_path / "run"
    rc, text = _start(out, signal.SIGINT, signal.SIGINT, rows=3)
    assert rc == 130, text
    assert "aborted" in text or "interrupted" in text or "checkpoint written" in text
    assert "Traceback" not in text
    assert main(["resume", str(out)]) == 0
    same_run(reference, out)


def test_corrupt_newest_checkpoint_falls_back_with_a_warning(reference, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["evolve", str(CP_WORLD), *SETTINGS, "--generations", "6", "--out", str(out)]) == 0
    npz = out / "checkpoint" / "gen-000006" / "optimizer.npz"
    npz.write_bytes(npz.read_bytes()[:100])
    capsys.readouterr()
    assert main(["resume", str(out), "--generations", str(GENS)]) == 0
    assert "skipping checkpoint gen-000006" in capsys.readouterr().err
    assert history(out) == history(reference)
    resumes = json.loads((out / "manifest.json").read_text())["resumes"]
    assert resumes[0]["from_generation"] == 4 and resumes[0]["changes"] == {"evolution.generations": [6, GENS]}


def test_extending_a_finished_run_equals_a_longer_run(reference, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["evolve", str(CP_WORLD), *SETTINGS, "--generations", "5", "--out", str(out)]) == 0
    assert main(["resume", str(out)]) == 0
    assert "already has its 5 generations" in capsys.readouterr().out
    assert main(["resume", str(out), "--generations", str(GENS), "--set", "evolution.chunk_size=4",
                 "--workers", "2"]) == 0
    assert history(out) == history(reference)
    a, b = (json.loads((r / "champion.json").read_text()) for r in (out, reference))
    if a["generation"] >= 5:  # found after the resume: recorded with the new settings
        assert a["experiment"]["evolution"]["chunk_size"] == 4
    for c in (a, b):
        c["experiment"]["evolution"].update(generations=0, chunk_size=0)
    assert a == b
    resumes = json.loads((out / "manifest.json").read_text())["resumes"]
    assert resumes[0]["changes"] == {"evolution.chunk_size": [2, 4], "evolution.generations": [5, GENS]}
    assert json.loads((out / "config.json").read_text())["evolution"]["generations"] == GENS


@pytest.mark.parametrize("args, fragment", [
    (["--set", "task.offsets=3"], "`task.offsets` cannot change on resume"),
    (["--set", "experiment.seed=2", "--set", "optimizer.mutation_variance=0.1"],
     "`experiment.seed`, `optimizer.mutation_variance` cannot change on resume"),
    (["--generations", "2"], "--generations 2 is fewer than the 3 already done"),
    (["--set", "evolution.chunk_size=0"], "`chunk_size` must be >= 1"),
])
def test_refused_changes_touch_nothing(tmp_path, capsys, args, fragment):
    out = tmp_path / "run"
    assert main(["evolve", str(CP_WORLD), *SETTINGS, "--generations", "3", "--out", str(out)]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(["resume", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evorobot: error: ") and err.count("\n") == 1 and fragment in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_resume_of_something_that_is_not_a_run(tmp_path, capsys):
    assert main(["resume", str(tmp_path / "nope")]) == 2
    assert "no such run directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["resume", str(tmp_path / "empty")]) == 2
    assert "run configuration not found" in capsys.readouterr().err


def test_a_run_in_use_is_not_resumed_twice(tmp_path, capsys):
    from evorobot.store import DirectoryLock

    out = tmp_path / "run"
    assert main(["evolve", str(CP_WORLD), *SETTINGS, "--generations", "2", "--out", str(out)]) == 0
    with DirectoryLock(out):
        assert main(["resume", str(out), "--generations", "3"]) == 2
    assert "in use by another evorobot process" in capsys.readouterr().err
    assert main(["resume", str(out), "--generations", "3"]) == 0
