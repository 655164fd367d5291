"""The measurements of ``evorobot bench``, each against a baseline timed in the same run.

Every timing is the best of a few repeats (the machine is shared and noisy), after a warm-up
that compiles or loads the numba kernels. A row is ``{"name", "value", "unit", "baseline",
"ratio"}``; ``ratio`` is always a speed-up (> 1: faster than the baseline), so for a cost unit
(ns, µs) it is ``baseline / value`` and for a rate it is ``value / baseline``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from evorobot._types import FloatArray

if TYPE_CHECKING:
    from evorobot.bench.naive import NaiveResult

Row = dict[str, Any]
NaiveRun = Callable[..., "NaiveResult"]
"""A naive baseline: ``(setup, genomes, conditions, max_steps=None) -> NaiveResult``."""

BATCH = 256
"""Networks per CTRNN kernel call."""
CTRNN_SIZES = ((5, "n7"), (8, "n10"), (48, "n50"), (198, "n200"))
"""(hidden neurons, tag): N = hidden + 2 motor neurons, 7 inputs (Beer's agent)."""
INTEGRATORS = ("euler", "rk4", "exp_euler")
EPISODE_INDIVIDUALS = 16
"""Individuals in the batched categorical-perception episode (x 24 trials = 384 agents)."""
NAIVE_INDIVIDUALS = 2
"""Individuals run by the naive baseline (its cost per agent-step does not depend on the batch)."""
ROBOT_INDIVIDUALS = 32
"""Individuals in the batched phototaxis episode (x 16 trials = 512 robots)."""


def row(name: str, value: float, unit: str, baseline: float | None = None, speedup: float | None = None) -> Row:
    return {"name": name, "value": float(value), "unit": unit,
            "baseline": None if baseline is None else float(baseline),
            "ratio": None if speedup is None else float(speedup)}


def best_time(fn: Callable[[], Any], number: int, repeats: int, setup: Callable[[], Any] | None = None) -> float:
    """Least wall time of ``number`` calls of ``fn`` over ``repeats`` (``setup`` untimed first)."""
    best = float("inf")
    for _ in range(repeats):
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, time.perf_counter() - t0)
    return best


def calls_for(fn: Callable[[], Any], target_s: float) -> int:
    """How many calls of ``fn`` take about ``target_s`` (``fn`` already warm)."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= target_s / 10 or n >= 1 << 20:
            return max(1, int(n * target_s / max(elapsed, 1e-9)))
        n *= 4


# -- CTRNN -----------------------------------------------------------------------------------------
def numpy_euler_step(tau: FloatArray, bias: FloatArray, gain: FloatArray, w: FloatArray, w_in: FloatArray,
                     y: FloatArray, o: FloatArray, x: FloatArray, dt: float) -> None:
    """Plain-numpy vectorised Euler step of a batch of CTRNNs (the same maths as the kernel)."""
    acc = np.matmul(w_in, x[:, :, None])[:, :, 0]
    acc += np.matmul(w, o[:, :, None])[:, :, 0]
    y += dt / tau * (acc - y)
    o[...] = 1.0 / (1.0 + np.exp(-gain * (y + bias)))


def bench_ctrnn(quick: bool) -> list[Row]:
    """Batched CTRNN kernels vs plain numpy (and the C loop), B = 256 networks, N = 7, 10, 50, 200.

    numpy's baseline is the faster of its runs on the decoded arrays (batch-minor below
    ``SOURCE_MAJOR_N`` neurons, source-major weights from there) and on C-contiguous copies; the C
    loop and the per-network numpy baseline read the C-contiguous copies.
    """
    from evorobot.bench.cref import compile_reference
    from evorobot.controllers.ctrnn import CTRNN, CTRNNSpec

    target, repeats = (0.004, 2) if quick else (0.08, 5)
    dt, n_in, n_out = 0.1, 7, 2
    rng = np.random.default_rng(12345)
    x = rng.uniform(0.0, 10.0, (BATCH, n_in))
    out = np.empty((BATCH, n_out))
    rows: list[Row] = []
    cref = compile_reference()
    for hidden, tag in CTRNN_SIZES:
        nets = {k: CTRNN(CTRNNSpec(hidden=hidden, integrator=k, topology="full"), n_in, n_out, dt)
                for k in INTEGRATORS}
        genomes = rng.uniform(-1.0, 1.0, (BATCH, nets["euler"].genome_size))
        p = nets["euler"].decode(genomes)  # the gene layout does not depend on the integrator
        per_call = BATCH * nets["euler"].n_neurons  # neuron-steps per batched step
        cost: dict[str, float] = {}  # seconds per neuron-step
        for k, net in nets.items():
            state = net.init_state(p)
            fn = lambda net=net, state=state: net.step(p, state, x, dt, out)  # noqa: E731
            fn()  # compile / load from cache
            n = calls_for(fn, target)
            cost[k] = best_time(fn, n, repeats) / (n * per_call)
        c = type(p)(*(np.array(a, order="C") for a in p))  # C-contiguous copies (the decoded layout varies with N)
        y, o = np.zeros(p.tau.shape), np.array(nets["euler"].init_state(p).o, order="C")
        np_cost = float("inf")
        for q in (p, c):
            fn = lambda q=q: numpy_euler_step(q.tau, q.bias, q.gain, q.w, q.w_in, y, o, x, dt)  # noqa: E731
            n = calls_for(fn, target)
            np_cost = min(np_cost, best_time(fn, n, repeats) / (n * per_call))
        # numpy one network at a time: the non-batched code this kernel replaces
        views = [tuple(a[b : b + 1] for a in (c.tau, c.bias, c.gain, c.w, c.w_in, y, o, x)) for b in range(BATCH)]

        def per_network() -> None:
            for v in views:
                numpy_euler_step(*v, dt)

        n = calls_for(per_network, target)
        single_cost = best_time(per_network, n, repeats) / (n * per_call)
        e = cost["euler"]
        if cref is not None:
            yc, oc = np.zeros(p.tau.shape), np.array(nets["euler"].init_state(p).o, order="C")
            fn = cref(c.tau, c.bias, c.gain, c.w, c.w_in, yc, oc, x, dt)
            n = calls_for(fn, target)
            c_cost = best_time(fn, n, repeats) / (n * per_call)
            rows.append(row(f"ctrnn.euler.{tag}.vs_c", e * 1e9, "ns/neuron-step", c_cost * 1e9, c_cost / e))
        rows.append(row(f"ctrnn.euler.{tag}", 1 / e, "neuron-steps/s", 1 / np_cost, np_cost / e))
        rows.append(row(f"ctrnn.euler.{tag}.ns", e * 1e9, "ns/neuron-step", np_cost * 1e9, np_cost / e))
        rows.append(row(f"ctrnn.euler.{tag}.per_network", 1 / e, "neuron-steps/s", 1 / single_cost, single_cost / e))
        for k in ("rk4", "exp_euler"):
            rows.append(row(f"ctrnn.{k}.{tag}", 1 / cost[k], "neuron-steps/s", 1 / np_cost, np_cost / cost[k]))
            rows.append(row(f"ctrnn.{k}.{tag}.cost", cost[k] / e, "x euler"))
    return rows


# -- categorical-perception episode -------------------------------------------------------------------
def repo_file(*parts: str) -> Path | None:
    """A file of the repository the package was installed from (editable installs), if present."""
    p = Path(__file__).resolve().parents[2].joinpath(*parts)
    return p if p.is_file() else None


def bench_episode(world: Path, quick: bool) -> list[Row]:
    """Agent-steps per second of :class:`Episode` (384 agents) vs the naive per-agent loop."""
    from evorobot.bench.naive import run_naive

    return episode_vs_naive("episode.cp", world, EPISODE_INDIVIDUALS, run_naive, NAIVE_INDIVIDUALS, 6, quick)


def bench_robot_episode(world: Path, quick: bool) -> list[Row]:
    """Agent-steps per second of the phototaxis :class:`Episode` (256 robots) vs the naive per-robot loop."""
    from evorobot.bench.naive_robot import run_naive_robot

    return episode_vs_naive("episode.phototaxis", world, ROBOT_INDIVIDUALS, run_naive_robot, 1, 4, quick)


def episode_vs_naive(name: str, world: Path, n_individuals: int, run_naive: NaiveRun, n_naive: int,
                     quick_every: int, quick: bool) -> list[Row]:
    """Rows ``name`` (agent-steps/s), ``name.us`` and ``name.build`` of the batched :class:`Episode`
    of ``n_individuals`` x every trial of ``world``, against ``run_naive`` on a subset: ``n_naive``
    individuals x every trial (``--quick``: 1 individual x every ``quick_every``-th trial, 20 ticks).
    Whole trials also check that the baseline computed the batched fitness."""
    from evorobot.config import load_world
    from evorobot.episode import Episode
    from evorobot.seeding import conditions_rng
    from evorobot.setup import build

    setup = build(load_world(world))
    cond = setup.task.conditions(conditions_rng(1, 0))
    genomes = np.random.default_rng(2024).uniform(-1.0, 1.0, (n_individuals, setup.genome_size))
    repeats = 2 if quick else 3
    steps = 20 if quick else None  # None: whole trials
    warm = Episode(setup, genomes[:1], cond[:1])
    for _ in range(3):
        warm.tick()  # compile / load every kernel of the loop
    run_naive(setup, genomes[:1], cond[:1], max_steps=3)

    ep = Episode(setup, genomes, cond)
    build_s = best_time(lambda: Episode(setup, genomes, cond), 1, repeats)

    def batched() -> None:
        if steps is None:
            ep.run()
        else:
            for _ in range(steps):
                ep.tick()

    t_batch = best_time(batched, 1, repeats, setup=ep.reset)
    batch_rate = ep.n_agents * ep.step_count / t_batch
    n_naive = 1 if quick else n_naive
    naive_cond = cond[::quick_every] if quick else cond
    best = float("inf")
    naive = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        naive = run_naive(setup, genomes[:n_naive], naive_cond, max_steps=steps)
        best = min(best, time.perf_counter() - t0)
    assert naive is not None
    naive_rate = naive.agent_steps / best
    if steps is None:  # whole trials: the baseline must compute the same fitness
        diff = float(np.max(np.abs(naive.fitness - ep.result().fitness[:n_naive])))
        if not diff <= 1e-6:
            print(f"evorobot bench: warning: {name}: naive and batched fitness differ by {diff:.3g}", file=sys.stderr)
    return [
        row(name, batch_rate, "agent-steps/s", naive_rate, batch_rate / naive_rate),
        row(f"{name}.us", 1e6 / batch_rate, "us/agent-step", 1e6 / naive_rate, batch_rate / naive_rate),
        row(f"{name}.build", build_s * 1e3, f"ms/{ep.n_agents} agents"),
    ]


# -- memory ---------------------------------------------------------------------------------------------
_LAUNCHER = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[1:])\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "print(usage.ru_maxrss, file=sys.stderr)\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)
"""Runs the measured command and prints its ``ru_maxrss``. Linux keeps a process's peak RSS across
``execve``, so a child forked from this (large, by then) bench process would report the bench's own
peak; forked from this small launcher it reports its own."""


def bench_rss(world: Path, quick: bool) -> list[Row]:
    """Peak RSS of ``evorobot evolve`` on the categorical-perception world, in a grandchild.

    The evolve process is reaped with ``os.wait4`` by a small launcher (:data:`_LAUNCHER`), whose
    rusage is that child's own (with its reaped descendants), unlike ``RUSAGE_CHILDREN``, the
    maximum over every child ever waited for. ``ru_maxrss`` is in KiB on Linux.
    """
    args = ["--generations", "1", "--population", "4", "--set", "task.offsets=2"] if quick else ["--generations", "2"]
    with tempfile.TemporaryDirectory(prefix="evorobot-bench-") as tmp:
        cmd = [sys.executable, "-m", "evorobot.cli", "evolve", str(world), *args, "--out", str(Path(tmp) / "run")]
        out = subprocess.run([sys.executable, "-c", _LAUNCHER, *cmd], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, cwd=world.parent.parent, check=False)
        lines = out.stderr.decode(errors="replace").strip().splitlines()
        if out.returncode != 0 or not lines or not lines[-1].isdigit():
            raise RuntimeError(f"`{' '.join(cmd[1:4])} ...` exited with {out.returncode}: {(lines or [''])[-1]}")
    peak_kib = int(lines[-1]) if sys.platform != "darwin" else int(lines[-1]) / 1024
    # --quick runs a population of 4: not the default run the target is about, so another name
    return [row("evolve.peak_rss.quick" if quick else "evolve.peak_rss", peak_kib / 1024, "MB")]
