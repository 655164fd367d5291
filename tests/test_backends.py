"""Evaluation backends: identical runs on every backend, faults survived, no process left behind.

Functions sent to worker processes live at module level here, so that workers can import them.
"""

import functools
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import CP_WORLD, ROOT, history

from evorobot.cli import main
from evorobot.config import load_world
from evorobot.errors import ConfigError, DependencyNotInstalled
from evorobot.evolution.backends import (
    ChunkFailed,
    DaskBackend,
    ProcessBackend,
    SerialBackend,
    WorkerError,
    make_backend,
)
from evorobot.evolution.evaluate import (
    evaluate,
    evaluate_chunk,
    experiment_json,
    initializer,
    warm_up_json,
)
from evorobot.evolution.runner import evolve
from evorobot.seeding import conditions_rng
from evorobot.setup import build

SMALL = ["--set", "task.offsets=2", "--population", "6", "--generations", "3", "--set", "evolution.chunk_size=2"]
SMALL_SET = ["task.offsets=2", "optimizer.population=6", "evolution.generations=3", "evolution.chunk_size=2"]
LINUX = sys.platform.startswith("linux") and Path("/proc/self/stat").exists()


def same_run(a: Path, b: Path) -> None:
    assert history(a) == history(b)
    assert (a / "champion.json").read_bytes() == (b / "champion.json").read_bytes()


# -- processes -------------------------------------------------------------------------------------
def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, start time) of a live process, None if gone or a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return None if fields[0] == "Z" else (int(fields[1]), fields[19])


def descendants(root: int) -> set[tuple[int, str]]:
    """(pid, start time) of every live descendant of ``root``."""
    parent = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit() and (st := _stat(int(p.name))) is not None:
            parent[int(p.name)] = st
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, (ppid, _) in parent.items() if ppid in frontier}
        found |= {(pid, parent[pid][1]) for pid in frontier}
    return found


def assert_all_gone(procs: set[tuple[int, str]], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while True:
        alive = {(pid, start) for pid, start in procs if (st := _stat(pid)) is not None and st[1] == start}
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not alive, f"processes left behind: {[(pid, _cmdline(pid)) for pid, _ in sorted(alive)]}"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
    except OSError:
        return "?"


def spawned_here(procs: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """``procs`` less multiprocessing's per-interpreter helpers (resource tracker, fork server),
    which live as long as this test process by design (the CLI tests check that they end)."""
    def helper(pid: int) -> bool:
        st = _stat(pid)
        cmd = _cmdline(pid)
        return st is not None and st[0] == os.getpid() and ("resource_tracker" in cmd or "forkserver" in cmd)
    return {(pid, start) for pid, start in procs if not helper(pid)}


def run_cli(args: list[str], cwd: Path, stop=None) -> tuple[int, str, set[tuple[int, str]]]:
    """Run ``evorobot ARGS`` in a subprocess, recording its descendants while it runs.

    ``stop(proc)`` is polled while it runs and may signal it (then returns True to stop polling).
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "evorobot.cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: set[tuple[int, str]] = set()
    armed = stop is not None
    while proc.poll() is None:
        if LINUX:
            seen |= descendants(proc.pid)
        if armed and stop(proc):
            armed = False
        time.sleep(0.005)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out + err, seen


# -- identical results on every backend ---------------------------------------------------------------
@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "run"
    assert main(["evolve", str(CP_WORLD), *SMALL, "--out", str(out)]) == 0
    return out


def test_process_pool_run_is_identical_and_leaves_no_process(serial_run, tmp_path):
    out = tmp_path / "run"
    rc, text, seen = run_cli(["evolve", str(CP_WORLD), *SMALL, "--out", str(out), "--workers", "2"], ROOT)
    assert rc == 0, text
    same_run(serial_run, out)
    assert json.loads((out / "manifest.json").read_text())["backend"]["workers"] == 2
    if LINUX:
        assert len(seen) >= 2
        assert_all_gone(seen)


def test_dask_local_cluster_run_is_identical_and_leaves_no_process(serial_run, tmp_path):
    pytest.importorskip("distributed", reason="dask.distributed not installed (pip install 'evorobot[dask]')")
    out = tmp_path / "run"
    rc, text, seen = run_cli(["evolve", str(CP_WORLD), *SMALL, "--out", str(out), "--dask", "local",
                              "--workers", "2"], ROOT)
    assert rc == 0, text
    same_run(serial_run, out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["backend"] == {"backend": "dask", "address": "local", "workers": 2, "chunk_timeout": None,
                                   "startup_timeout": 300.0}
    if LINUX:
        assert len(seen) >= 2
        assert_all_gone(seen)


# -- faults -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def work():
    exp = load_world(CP_WORLD, SMALL_SET)
    setup = build(exp)
    genomes = np.random.default_rng(3).uniform(-1, 1, (6, setup.genome_size))
    conditions = setup.task.conditions(conditions_rng(1, 0))
    text = experiment_json(exp)
    tasks = [(text, genomes[i : i + 2], conditions) for i in range(0, 6, 2)]
    return exp, setup, tasks, [evaluate_chunk(t) for t in tasks]


def same_results(a, b) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert not isinstance(x, ChunkFailed) and np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1])


def die_on(target, how, task):
    """Worker-side: die (``how``) whenever the chunk's first gene equals ``target``'s."""
    if task[1][0, 0] == target:
        if how == "exit":
            os._exit(3)
        os.kill(os.getpid(), getattr(signal, how))
        time.sleep(30)
    return evaluate_chunk(task)


def hang_on(target, task):
    if task[1][0, 0] == target:
        time.sleep(60)
    return evaluate_chunk(task)


def raise_on(target, task):
    if task[1][0, 0] == target:
        raise ValueError("boom in a chunk")
    return evaluate_chunk(task)


@pytest.mark.parametrize("how", ["SIGSEGV", "exit"])
def test_chunk_that_always_kills_its_worker_is_lost_others_are_not(work, how):
    exp, _, tasks, expected = work
    logs: list[str] = []
    backend = ProcessBackend(2, log=logs.append)
    try:
        backend.prepare(initializer(exp))
        got = backend.map(functools.partial(die_on, tasks[1][1][0, 0], how), tasks)
        assert isinstance(got[1], ChunkFailed)
        assert ("SIGSEGV" if how == "SIGSEGV" else "exited with code 3") in got[1].reason
        same_results([got[0], got[2]], [expected[0], expected[2]])
        assert backend.restarts == 2 and backend.dispatched == 4  # the lost chunk ran twice, others once
        assert any("retried" in m for m in logs) and any("lost" in m for m in logs)
        same_results(backend.map(evaluate_chunk, tasks), expected)  # the pool keeps working
    finally:
        backend.close()


def test_hung_worker_is_killed_after_the_timeout(work):
    exp, _, tasks, expected = work
    backend = ProcessBackend(2, timeout=1.5, log=lambda m: None)
    try:
        backend.prepare(initializer(exp))
        t0 = time.monotonic()
        got = backend.map(functools.partial(hang_on, tasks[0][1][0, 0]), tasks)
        assert time.monotonic() - t0 < 20
        assert isinstance(got[0], ChunkFailed) and "no result within 1.5 s" in got[0].reason
        same_results(got[1:], expected[1:])
    finally:
        pids = backend.pids()
        backend.close()
    assert_all_gone({(p, st[1]) for p in pids if (st := _stat(p)) is not None} if LINUX else set())


def test_an_exception_in_a_chunk_is_a_bug_and_propagates(work):
    exp, _, tasks, _ = work
    backend = ProcessBackend(2, log=lambda m: None)
    try:
        backend.prepare(initializer(exp))
        with pytest.raises(WorkerError, match="boom in a chunk"):
            backend.map(functools.partial(raise_on, tasks[2][1][0, 0]), tasks)
    finally:
        backend.close()
    with pytest.raises(ValueError, match="boom"):
        SerialBackend().map(functools.partial(raise_on, tasks[2][1][0, 0]), tasks)


def fault_on(target, how, marks, task):
    """Worker-side, for dask: on the chunk whose first gene is ``target``'s, leave a file named by
    this process's pid in ``marks``, then die (``how`` = "SIGKILL") or hang until killed ("hang")."""
    if task[1][0, 0] == target:
        (Path(marks) / f"{how}-{os.getpid()}").touch()
        if how == "hang":
            while True:
                time.sleep(3600)
        os.kill(os.getpid(), signal.SIGKILL)
    return evaluate_chunk(task)


def warm_and_evaluate(task):
    """Worker-side: whether this process had built the chunk's Setup before the chunk came, and the result."""
    from evorobot.evolution import evaluate as ev

    warm = hashlib.sha256(task[0].encode()).hexdigest() in ev._SETUPS
    return warm, evaluate_chunk(task)


DASK_DEADLINE = 5.0
"""Chunk timeout of the dask fault test: a hung chunk costs twice this, and a good chunk (a few
milliseconds on a worker the warm-up plugin has prepared) never comes near it, even under load."""


def test_dask_survives_a_dead_and_a_hung_worker_and_cleans_up(work, tmp_path):
    """No outcome rides on a race: the faulty chunk marks each worker it ran on, so the test knows
    it was lost because it killed (or hung) two workers; restarted workers are warmed up before
    they take a chunk, so good chunks never run over the deadline."""
    pytest.importorskip("distributed", reason="dask.distributed not installed (pip install 'evorobot[dask]')")
    exp, _, tasks, expected = work
    before = descendants(os.getpid()) if LINUX else set()
    logs: list[str] = []
    backend = DaskBackend("local", 2, timeout=DASK_DEADLINE, log=logs.append)
    during: set[tuple[int, str]] = set()  # every worker process seen, snapshots after each step
    try:
        backend.prepare(initializer(exp))
        during |= descendants(os.getpid()) if LINUX else set()
        got = backend.map(functools.partial(fault_on, tasks[1][1][0, 0], "SIGKILL", str(tmp_path)), tasks)
        assert isinstance(got[1], ChunkFailed) and f"worker died or ran over {DASK_DEADLINE:g} s" in got[1].reason
        same_results([got[0], got[2]], [expected[0], expected[2]])
        assert len(list(tmp_path.glob("SIGKILL-*"))) == 2  # tried on two worker processes, both killed
        got = backend.map(functools.partial(fault_on, tasks[0][1][0, 0], "hang", str(tmp_path)), tasks)
        assert isinstance(got[0], ChunkFailed) and "on every try" in got[0].reason
        same_results(got[1:], expected[1:])
        assert len(list(tmp_path.glob("hang-*"))) == 2
        got = backend.map(warm_and_evaluate, tasks)  # on workers restarted after the hang
        same_results([g[1] for g in got], expected)
        assert all(g[0] for g in got)  # each had run the warm-up before its first chunk
        during |= descendants(os.getpid()) if LINUX else set()
    finally:
        backend.close()
    assert sum("lost" in m for m in logs) == 2
    if LINUX:
        assert len(spawned_here(during - before)) >= 2
        assert_all_gone(spawned_here(during - before))


def numba_cache_dir(_):
    import numba

    return os.environ.get("NUMBA_CACHE_DIR"), numba.config.CACHE_DIR


def test_workers_use_the_parents_numba_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    backend = ProcessBackend(1, log=lambda m: None)
    try:
        assert backend.map(numba_cache_dir, [None]) == [(str(tmp_path), str(tmp_path))]
    finally:
        backend.close()


def test_a_failed_warm_up_is_not_fatal(work):
    _, _, tasks, expected = work
    logs: list[str] = []
    backend = ProcessBackend(2, log=logs.append)
    try:
        backend.prepare(functools.partial(warm_up_json, "{not an experiment"))
        assert any("initializer failed" in m for m in logs)
        same_results(backend.map(evaluate_chunk, tasks), expected)
    finally:
        backend.close()


class KillOnce(ProcessBackend):
    """SIGKILLs (as the OOM killer would) the worker given the ``at``-th chunk, right after sending it."""

    def __init__(self, at: int) -> None:
        super().__init__(2, log=lambda m: None)
        self.at = at

    def _dispatched(self, worker, index) -> None:
        if self.dispatched == self.at:
            os.kill(worker.proc.pid, signal.SIGKILL)


def test_worker_killed_mid_generation_does_not_stop_the_run_or_lose_work(serial_run, tmp_path):
    exp = load_world(CP_WORLD, SMALL_SET)
    backend = KillOnce(at=5)  # generation 1, its second chunk
    try:
        evolve(exp, tmp_path / "run", stream=None, backend=backend)
    finally:
        backend.close()
    assert backend.restarts == 1
    assert backend.dispatched == 3 * 3 + 1  # only the killed chunk was evaluated again
    same_run(serial_run, tmp_path / "run")
    assert {r["failed"] for r in history(tmp_path / "run")} == {"0"}


class LoseChunk(SerialBackend):
    """Reports chunk 1 of generation 1 as lost."""

    calls = 0

    def map(self, fn, chunks):
        out = super().map(fn, chunks)
        self.calls += 1
        if self.calls == 2:
            out[1] = ChunkFailed("worker killed by SIGKILL (out of memory?)")
        return out


def test_a_lost_chunk_scores_worst_and_is_counted(work, tmp_path, capsys):
    exp, setup, tasks, expected = work
    genomes = np.concatenate([t[1] for t in tasks])
    backend = LoseChunk()
    backend.calls = 1  # lose a chunk of the next call
    ev = evaluate(setup, genomes, tasks[0][2], 2, backend)
    n_trials = tasks[0][2].shape[0]
    assert np.all(ev.trials[2:4] == setup.task.worst) and list(ev.failed[2:4]) == [n_trials] * 2
    assert np.array_equal(ev.trials[:2], expected[0][0]) and np.array_equal(ev.trials[4:], expected[2][0])
    assert len(ev.lost) == 1 and "individuals 2-3" in ev.lost[0] and "SIGKILL" in ev.lost[0]
    evolve(exp, tmp_path / "run", stream=sys.stderr, backend=LoseChunk())
    failed = [int(r["failed"]) for r in history(tmp_path / "run")]
    assert failed[1] >= 2 * n_trials and failed[0] < 2 * n_trials
    assert "generation 1: individuals 2-3 scored worst" in capsys.readouterr().err


# -- options ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, fragment", [
    ({"workers": 0}, "--workers must be >= 1, got 0"),
    ({"workers": 2, "timeout": -1.0}, "--chunk-timeout must be > 0"),
    ({"workers": 1, "timeout": 5.0}, "--chunk-timeout needs --workers >= 2"),
    ({"workers": 2, "dask": "tcp://127.0.0.1:1"}, "--workers applies to --dask local only"),
])
def test_bad_backend_options(kwargs, fragment):
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        make_backend(**kwargs)


def test_dask_missing_is_a_clear_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(DependencyNotInstalled, match=r"evorobot\[dask\]"):
        make_backend(dask="local")
    assert main(["evolve", str(CP_WORLD), *SMALL, "--out", str(tmp_path / "r"), "--dask", "local"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evorobot: error: --dask needs dask.distributed") and err.count("\n") == 1


def test_serial_backend_equals_in_process_evaluation(work):
    _, setup, tasks, _ = work
    genomes = np.concatenate([t[1] for t in tasks])
    a = evaluate(setup, genomes, tasks[0][2], 2)
    b = evaluate(setup, genomes, tasks[0][2], 4, SerialBackend())
    assert np.array_equal(a.trials, b.trials) and np.array_equal(a.fitness, b.fitness)
