"""Disk faults (issue 22): a write the system refuses is one line and exit 2, the last complete
checkpoint stays resumable to the uninterrupted result; a read-only output directory or install;
a SIGKILL inside a checkpoint write; forged optimizer state of every optimizer.

The faults are real: ``RLIMIT_FSIZE`` in the child makes the kernel refuse, with ``EFBIG``, every
write past the limit (Python ignores ``SIGXFSZ``), exactly where a full disk refuses with
``ENOSPC``; a read-only directory binds only a user who is not root, so as root the child drops to
``nobody``. Every command runs in a subprocess with a deadline (:data:`test_faults.DEADLINE`).
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, history
from test_faults import DEADLINE, WORLD, one_line

from evorobot.cli import main
from evorobot.config import load_world
from evorobot.errors import ChampionFileError, WriteFailed
from evorobot.evolution import OPTIMIZERS
from evorobot.evolution.checkpoint import Checkpoint, interrupted_start
from evorobot.evolution.runner import make_optimizer, restore_optimizer
from evorobot.setup import build

GENS = 12
ARGS = ["--set", "task.offsets=2", "--population", "6", "--set", "evolution.chunk_size=2",
        "--set", "evolution.checkpoint_every=2", "--generations", str(GENS)]
NOBODY = 65534


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, preexec: Callable[[], None] | None = None,
        user: list[str] | None = None, deadline: float = DEADLINE) -> subprocess.CompletedProcess[str]:
    """:func:`test_faults.run_cli` with a chosen environment, a ``preexec_fn`` (a limit) and a
    ``user`` prefix (:func:`unprivileged`)."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", **(env or {})}
    return subprocess.run([*(user or []), sys.executable, "-m", "evorobot.cli", *args], capture_output=True,
                          text=True, check=False, timeout=deadline, cwd=cwd, env=env, preexec_fn=preexec)


def error_line(out: subprocess.CompletedProcess[str]) -> str:
    """:func:`test_faults.one_line` for a run that failed after printing its progress lines."""
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    line = out.stderr.strip().splitlines()[-1]
    assert line.startswith("evorobot: error: ")
    assert all(x.startswith("gen ") for x in out.stderr.strip().splitlines()[:-1])
    return line


def file_size_limit(size: int) -> Callable[[], None]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return limit


def unprivileged() -> list[str]:
    """A command prefix that runs as a user file permissions bind: none for a user who is not
    root; as root, ``setpriv`` to ``nobody`` (the test is skipped without it)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root (chmod does not bind) and no setpriv to run as another user")
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary directory another user can reach (pytest's sit under a directory of mode 0700)."""
    path = Path(tempfile.mkdtemp(prefix="evorobot-disk-"))
    path.chmod(0o755)
    yield path
    for p in [path, *path.rglob("*")]:
        if not p.is_symlink():
            p.chmod(0o755 if p.is_dir() else 0o644)
    shutil.rmtree(path)


def leftovers(out: Path) -> list[Path]:
    """Temporary files and directories of interrupted writes anywhere in a run directory."""
    return [p for p in out.rglob("*") if p.name.startswith(".") and (p.name.endswith(".tmp")
                                                                     or p.name.startswith(".tmp-"))]


def checkpoints(out: Path) -> list[int]:
    return sorted(int(p.name[4:]) for p in (out / "checkpoint").glob("gen-*"))


def assert_same_run(a: Path, b: Path) -> None:
    """Bit for bit: the history (wall time aside), champion.json, the final optimizer state."""
    assert history(a) == history(b)
    assert (a / "champion.json").read_bytes() == (b / "champion.json").read_bytes()
    final = f"checkpoint/gen-{GENS:06d}/optimizer.npz"
    assert (a / final).read_bytes() == (b / final).read_bytes()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The uninterrupted run (it also warms numba's cache, so the limited runs write no cache)."""
    out = tmp_path_factory.mktemp("ref") / "run"
    assert main(["evolve", str(WORLD), *ARGS, "--out", str(out)]) == 0
    return out


# -- a full disk ---------------------------------------------------------------------------------
def test_a_write_refused_before_the_first_checkpoint_leaves_no_run_directory(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    line = one_line(run(["evolve", str(WORLD), *ARGS, "--out", str(out)], cwd=tmp_path, preexec=file_size_limit(300)))
    assert f"{out / 'manifest.json'}: cannot write (the file would exceed the file size limit, ulimit -f)" in line
    assert "the run did not start" in line and not out.exists()


@pytest.mark.parametrize("cut", ["champion", "middle", "last"])
def test_a_full_disk_is_one_line_and_resume_equals_the_uninterrupted_run(reference: Path, tmp_path: Path,
                                                                         cut: str) -> None:
    """The limit falls between the sizes the run's files reach, so the run fails at three points:
    champion.json of generation 0, a checkpoint in the middle, the last checkpoint."""
    champion = (reference / "champion.json").stat().st_size
    final = (reference / "checkpoint" / f"gen-{GENS:06d}" / "state.json").stat().st_size
    limit = {"champion": champion - 600, "middle": final - 400, "last": final - 1}[cut]
    out = tmp_path / "run"
    line = error_line(run(["evolve", str(WORLD), *ARGS, "--out", str(out)], cwd=tmp_path,
                          preexec=file_size_limit(limit)))
    kept = checkpoints(out)
    assert kept and kept[-1] < GENS
    assert f"{out}" in line and "cannot write (the file would exceed the file size limit, ulimit -f)" in line
    assert ".tmp" not in line  # the file is named where it belongs, not by its temporary name
    assert (f"the last complete checkpoint, gen-{kept[-1]:06d} ({kept[-1]} generations done), stays resumable: "
            f"`evorobot resume {out}`") in line
    assert {"champion": 0, "last": GENS - 2}.get(cut, kept[-1]) == kept[-1]
    assert 0 < kept[-1] < GENS - 2 or cut != "middle"
    assert leftovers(out) == []  # the temporary file of the refused write is gone
    assert main(["resume", str(out)]) == 0  # in this process: a plain resume cannot hang
    assert_same_run(reference, out)


@pytest.mark.parametrize("command", ["replay --trace", "plot --out"])
def test_a_trace_or_figure_refused_by_the_disk_is_one_line(reference: Path, tmp_path: Path, command: str) -> None:
    name, flag = command.split()
    target = tmp_path / ("trace.csv" if name == "replay" else "figure.png")
    line = one_line(run([name, str(reference), flag, str(target)], cwd=tmp_path, preexec=file_size_limit(1024)))
    assert line == f"evorobot: error: {target}: cannot write (the file would exceed the file size limit, ulimit -f)"
    assert list(tmp_path.iterdir()) == []  # neither the file nor its temporary file


def test_every_refused_errno_is_one_line_and_removes_the_temporary_file(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC, EDQUOT, EROFS, EACCES (no small filesystem without root): the fsync fails as a full
    disk's delayed allocation does; anything else keeps its traceback."""
    from evorobot import store

    target = tmp_path / "champion.json"
    target.write_text("old")
    for code, words in [(errno.ENOSPC, "the disk is full"), (errno.EDQUOT, "quota"),
                        (errno.EROFS, "read-only"), (errno.EACCES, "permission denied")]:
        def fail(fd: int, code: int = code) -> None:
            raise OSError(code, os.strerror(code))
        monkeypatch.setattr(store.os, "fsync", fail)
        with pytest.raises(WriteFailed, match=words) as info:
            store.write_json(target, {"a": 1})
        assert str(info.value).startswith(f"{target}: cannot write (") and "\n" not in str(info.value)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["champion.json"] and target.read_text() == "old"
    monkeypatch.setattr(store.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.EIO, "I/O error")))
    with pytest.raises(OSError) as io_error:
        store.write_json(target, {"a": 1})
    assert not isinstance(io_error.value, WriteFailed)


# -- read-only places ----------------------------------------------------------------------------
def test_a_read_only_output_directory_is_one_line_before_anything_runs(open_tmp: Path) -> None:
    tmp_path = open_tmp
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    user = unprivileged()
    cache = tmp_path / "cache"  # a numba cache that user can write
    cache.mkdir()
    cache.chmod(0o777)
    line = one_line(run(["evolve", str(WORLD), *ARGS, "--out", str(ro / "run")], cwd=tmp_path,
                        env={"NUMBA_CACHE_DIR": str(cache)}, user=user))
    assert line == f"evorobot: error: {ro / 'run'}: cannot create the run directory (permission denied)"
    assert list(ro.iterdir()) == []
    (ro / "empty").mkdir()  # an existing, empty directory that is not writable
    line = one_line(run(["evolve", str(WORLD), *ARGS, "--out", str(ro / "empty")], cwd=tmp_path,
                        env={"NUMBA_CACHE_DIR": str(cache)}, user=user))
    assert line == f"evorobot: error: {ro / 'empty'}: cannot write into the run directory (permission denied)"
    assert list((ro / "empty").iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX users")
def test_a_read_only_install_without_numba_cache_dir_still_evolves(open_tmp: Path) -> None:
    """The package copied to a read-only directory, ``HOME`` unwritable, ``NUMBA_CACHE_DIR`` and
    ``XDG_CACHE_HOME`` unset: numba finds no cache locator unless evorobot gives it a directory."""
    tmp_path = open_tmp
    site = tmp_path / "site"
    for part in ("evorobot", "agents", "worlds"):
        shutil.copytree(ROOT / part, site / part, ignore=shutil.ignore_patterns("__pycache__"))
    temp = tmp_path / "tmp"
    temp.mkdir()
    for p in [site, *site.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    for p in (tmp_path, temp):
        p.chmod(0o777)
    user = unprivileged()
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    env.update(HOME="/nonexistent", TMPDIR=str(temp), PYTHONPATH=str(site), SDL_VIDEODRIVER="dummy")
    out = tmp_path / "run"
    done = subprocess.run([*user, sys.executable, "-m", "evorobot.cli", "evolve",
                           str(site / "worlds" / "cartpole.toml"), "--population", "2", "--generations", "1",
                           "--out", str(out)],
                          capture_output=True, text=True, check=False, timeout=DEADLINE * 2, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert (out / "champion.json").is_file()
    cache = temp / f"evorobot-numba-{NOBODY if user else os.getuid()}"
    assert cache.is_dir() and (cache.stat().st_mode & 0o777) == 0o700 and any(cache.rglob("*.nbi"))


# -- a SIGKILL inside a write (store.kill_point) --------------------------------------------------
@pytest.mark.parametrize("point", ["state.json:written@3", "checkpoint:renamed@3", "history.csv:written@5",
                                   "checkpoint:renamed@1"])
def test_a_sigkill_inside_a_checkpoint_write_resumes_to_the_uninterrupted_run(reference: Path, tmp_path: Path,
                                                                            point: str) -> None:
    """Killed with a checkpoint's temporary file written but not renamed, after the checkpoint's
    rename but before the old ones are pruned, and with history.csv's temporary file not renamed;
    the third checkpoint is gen-000004. Killed in the start (the first checkpoint renamed,
    config.json not yet written), there is nothing to resume: resume says so in one line and the
    same evolve command starts afresh. (tests/test_resume.py kills between generations, at a moment chosen by time.)"""
    out = tmp_path / "run"
    killed = run(["evolve", str(WORLD), *ARGS, "--out", str(out)], cwd=tmp_path, env={"EVOROBOT_TEST_KILL": point})
    assert killed.returncode == -9, killed.stderr
    if point.endswith("@1"):
        assert checkpoints(out) == [0] and not (out / "config.json").exists()
        line = one_line(run(["resume", str(out)], cwd=tmp_path))
        assert "interrupted while starting" in line and "run the same `evorobot evolve` command again" in line
        assert main(["evolve", str(WORLD), *ARGS, "--out", str(out)]) == 0
        assert_same_run(reference, out)
        assert leftovers(out) == [] and checkpoints(out) == [GENS - 2, GENS]
        return
    if point.startswith("checkpoint:renamed"):
        assert checkpoints(out) == [0, 2, 4] and leftovers(out) == []  # renamed, the oldest not yet pruned
    else:
        assert leftovers(out)  # the interrupted write's temporary file or directory
        assert checkpoints(out)[-1] == (2 if "checkpoint" in point or "state" in point else 4)
    assert main(["resume", str(out)]) == 0  # in this process: a plain resume cannot hang
    assert_same_run(reference, out)
    assert leftovers(out) == [] and checkpoints(out) == [GENS - 2, GENS]


def test_only_what_an_interrupted_start_leaves_is_started_afresh(tmp_path: Path) -> None:
    """evolve reuses a directory only if it holds nothing but its own start files (it deletes them)."""
    d = tmp_path / "run"
    d.mkdir()
    (d / "checkpoint").mkdir()
    assert not interrupted_start(d)  # a folder of the user's
    (d / ".lock").touch()
    assert not interrupted_start(d)  # checkpoint/ without manifest.json: not evolve's order
    (d / "manifest.json").touch()
    (d / "checkpoint" / "gen-000000").mkdir()
    (d / ".config.json.x1y2.tmp").touch()
    assert interrupted_start(d)
    (d / "checkpoint" / "notes.txt").touch()
    assert not interrupted_start(d)
    (d / "checkpoint" / "notes.txt").unlink()
    (d / "config.json").touch()
    assert not interrupted_start(d)  # a run: resume it


# -- forged optimizer state -----------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_forged_optimizer_state_of_every_optimizer_is_refused_or_harmless(name: str) -> None:
    """Every float array of every optimizer's state, forged to NaN, infinity, 1.5 or +-1e300 (as a
    forger who recomputes the checksums can): restoring it is one line of ChampionFileError, or the
    restored optimizer asks, is told and asks again genes in [-1, 1], never a crash. Found by it:
    cmaes `x0` out of bounds (pycma ValueError), openai_es `adam_v` < 0 and xnes `draws` of 1e300
    (NaN genes a generation later). (tests/test_faults.py does this end to end for ga and cmaes.)"""
    exp = load_world(WORLD, ["task.offsets=2", "optimizer.population=12"], None, name)
    setup = build(exp)
    opt = make_optimizer(setup)
    rng = np.random.default_rng(0)
    for _ in range(2):
        opt.tell(rng.random(opt.ask().shape[0]))
    opt.ask()
    state = opt.state_dict()
    cls = OPTIMIZERS[name]
    keys = [k for k, v in state.items() if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    assert keys and cls.from_state_dict(exp.optimizer, setup.genome_layout(), state).generation == 2
    for key in keys:
        for bad in (np.nan, np.inf, -np.inf, 1.5, 1e300, -1e300):
            forged = {**state, key: state[key].copy()}
            forged[key].reshape(-1)[0] = bad
            try:
                restored = restore_optimizer(setup, Checkpoint(2, forged, 0.0, 0, [], None, "", Path("ck")))
            except ChampionFileError as exc:
                assert str(exc).startswith("ck optimizer: ") and "\n" not in str(exc)
                continue
            with np.errstate(all="ignore"):  # the property is valid genes, not quiet arithmetic
                for _ in range(2):
                    genomes = restored.ask()
                    assert np.all(np.isfinite(genomes)) and np.all(np.abs(genomes) <= 1.0), (key, bad)
                    restored.tell(rng.random(genomes.shape[0]))
