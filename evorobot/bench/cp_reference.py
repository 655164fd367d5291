"""A C reference of the whole categorical-perception agent, and the bench row that compares with it.

``cp_ref.c`` is Beer's (1996, 2003) visually guided agent written the way one writes it in C or
C++: a scalar loop over agents, trials and ticks (rays against the falling object, a forward-Euler
CTRNN step, the horizontal motor, the kinematic fall, the arrival score), one call for a whole
batch. It is compiled at bench time (``cc -O3 -march=native -ffp-contract=off``, no fast-math, as
numba compiles evorobot's kernels) and called through ctypes. Given the networks decoded by
evorobot's controller and the trials placed in evorobot's tiled Space coordinates, it computes the
same bits as :class:`evorobot.episode.Episode` (tests/test_cp_reference.py), so
``episode.cp.vs_c`` compares two programs doing the same work.

Without a C compiler :func:`compile_cp_reference` returns None and the rows are skipped.
"""

from __future__ import annotations

import ctypes
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from evorobot._types import BoolArray, FloatArray, IntArray
from evorobot.bench.cref import compile_library
from evorobot.bench.measure import EPISODE_INDIVIDUALS, Row, best_time, repo_file, row
from evorobot.errors import EvorobotError
from evorobot.sim.world import TILE

if TYPE_CHECKING:
    from evorobot.setup import Setup

SOURCE = Path(__file__).with_name("cp_ref.c")
FLAGS = ("-ffp-contract=off",)
"""numba fuses no multiply-adds without fastmath; the C loop must not either to give the same bits."""
MAX_VERTS = 8
"""Vertices per shape in the C shape table (``MAX_VERTS`` in cp_ref.c)."""
KIND = {"circle": 0, "diamond": 1, "line": 2}
"""C shape kinds (CIRCLE, POLYGON, SEGMENT in cp_ref.c) of the task's object shapes."""
DONE, FAILED = 1, 2
"""Trial status codes of cp_ref.c (0: unfinished)."""
TOLERANCE = 1e-9
"""Largest fitness difference from the Episode that the bench accepts without a warning."""

_D = ctypes.POINTER(ctypes.c_double)
_I = ctypes.POINTER(ctypes.c_int)
_ARGTYPES = (
    [ctypes.c_int] * 5 + [_D] * 7 + [ctypes.c_double] * 6 + [ctypes.c_int, ctypes.c_double, ctypes.c_int]
    + [ctypes.c_double] * 2 + [_D] * 4 + [_I] * 3 + [_D, _I, _D] + [_D, _D, _I, _I, _D]
)


class CPResult(NamedTuple):
    """Per-trial outcome of the C reference, each (n_individuals, n_trials) but ``trace``."""

    fitness: FloatArray
    failed: BoolArray  # failed or unfinished, as EpisodeResult.failed
    offset: FloatArray  # object x - agent x on arrival
    steps: IntArray  # ticks run
    agent_steps: int
    trace: FloatArray | None  # (n, T, max_steps, 2 + R): agent x, object y after each tick; inputs


class CPReference:
    """The compiled ``cp_run`` of cp_ref.c, fed from an evorobot :class:`Setup`."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.lib = lib
        self.fn = lib.cp_run
        self.fn.argtypes = _ARGTYPES
        self.fn.restype = ctypes.c_long

    def bind(self, setup: Setup, genomes: FloatArray, conditions: FloatArray,
             trace: bool = False) -> Callable[[], CPResult]:
        """A zero-argument call running every trial of ``genomes`` (n, G) under ``conditions`` (T, 2),
        returning a :class:`CPResult`; arrays and ctypes pointers are made once, here."""
        task, ctrl, exp = setup.task, setup.controller, setup.experiment
        if task.name != "categorical_perception" or ctrl.name != "ctrnn" or ctrl.spec.integrator != "euler":
            raise EvorobotError("the C reference implements categorical perception with an Euler CTRNN only, "
                                f"got task `{task.name}`, controller `{ctrl.name}`")
        genomes = np.ascontiguousarray(genomes, dtype=np.float64)
        p = ctrl.decode(genomes[:, : ctrl.genome_size])
        nets = [np.ascontiguousarray(a, dtype=np.float64) for a in (p.tau, p.bias, p.gain, p.w, p.w_in, p.y0)]
        n_ind, n_neurons = nets[0].shape
        agent, spec = exp.agent, task.spec
        angles = np.ascontiguousarray(agent.eye.angles(), dtype=np.float64)
        n_rays, n_trials = angles.shape[0], conditions.shape[0]
        t_in = trial_arrays(setup, conditions)
        out = (np.empty((n_ind, n_trials)), np.empty((n_ind, n_trials)),
               np.empty((n_ind, n_trials), np.int32), np.empty((n_ind, n_trials), np.int32))
        max_steps = task.max_steps
        tr = np.zeros((n_ind, n_trials, max_steps, 2 + n_rays)) if trace else None

        def ptr(a: np.ndarray | None) -> Any:
            if a is None:
                return None
            return a.ctypes.data_as(_I if a.dtype == np.int32 else _D)

        args = (
            n_ind, n_trials, n_neurons, n_rays, ctrl.hidden, *map(ptr, nets), ptr(angles),
            float(agent.body.radius), float(agent.eye.range), float(agent.eye.gain), float(agent.motor.gain),
            float(spec.x_limit), float(exp.simulation.dt), int(exp.simulation.substeps), float(spec.end_distance),
            max_steps, float(spec.distance_clip), float(task.worst), *map(ptr, t_in), *map(ptr, out), ptr(tr),
        )

        def run() -> CPResult:
            total = self.fn(*args)
            fitness, offset, status, steps = out
            return CPResult(fitness.copy(), status != DONE, offset.copy(), steps.astype(np.int64), int(total),
                            None if tr is None else tr.copy())

        run.keep = (nets, angles, t_in, out, tr)  # type: ignore[attr-defined]  # the memory behind args
        return run


def trial_arrays(setup: Setup, conditions: FloatArray) -> tuple[np.ndarray, ...]:
    """The C trial and shape tables of ``conditions`` (T, 2): trial ``t`` sits in tile ``t`` of the
    Space (origin ``TILE * t``, as :class:`evorobot.sim.world.World` places it) with the agent at the
    task's start and the object at (offset, object_y), falling at ``fall_speed``."""
    task, spec = setup.task, setup.task.spec
    n = conditions.shape[0]
    origin_x = TILE * np.arange(n, dtype=np.float64)
    agent0, obj0, obj_v = np.empty((n, 2)), np.empty((n, 2)), np.empty((n, 2))
    for t, cond in enumerate(conditions):
        x, y, heading = task.agent_start(cond)
        if heading != 0.0:
            raise EvorobotError(f"the C reference's agent does not turn, got start heading {heading}")
        agent0[t] = (origin_x[t] + x, 0.0 + y)
        obj0[t] = (origin_x[t] + float(cond[0]), 0.0 + spec.object_y)
        obj_v[t] = (0.0, -spec.fall_speed)
    avoid = (conditions[:, 1] > 0).astype(np.int32)
    shape = avoid.copy()  # shape 0: the circle, 1: the avoided shape
    size = spec.object_size
    kind = np.array([KIND["circle"], KIND[spec.avoid_shape]], dtype=np.int32)
    radius = np.array([size / 2, 0.0])
    verts = np.zeros((2, MAX_VERTS, 2))
    if spec.avoid_shape == "diamond":
        h = size / math.sqrt(2.0)  # a square of side ``size`` turned by 45 degrees, counter-clockwise
        local = [(h, 0.0), (0.0, h), (-h, 0.0), (0.0, -h)]
    else:  # a horizontal line of length ``size``
        local = [(-size / 2, 0.0), (size / 2, 0.0)]
    verts[1, : len(local)] = local
    n_verts = np.array([0, len(local)], dtype=np.int32)
    return origin_x, agent0, obj0, obj_v, shape, avoid, kind, radius, n_verts, verts


def compile_cp_reference() -> CPReference | None:
    """The compiled C reference, or None without a C compiler."""
    lib = compile_library(SOURCE, FLAGS)
    return None if lib is None else CPReference(lib)


LARGE_INDIVIDUALS = 43
"""Individuals of the second, informational comparison: 43 x 24 trials = 1032 agents, where the
batched episode's throughput levels off (README, Scaling)."""


def bench_cp_vs_c(quick: bool) -> list[Row]:
    """Agent-steps/s of the batched categorical-perception Episode against the C reference on the
    same genomes and trials of worlds/categorical_perception.toml, whole trials, both timed here
    (best of repeats): ``episode.cp.vs_c`` with 16 individuals x 24 trials = 384 agents (an
    evolution chunk's batch; the target's row), ``episode.cp.vs_c.1032`` with 43 individuals (the
    batch at which the episode levels off; no target), and ``episode.cp.c_us``."""
    from evorobot.config import load_world
    from evorobot.episode import Episode
    from evorobot.seeding import conditions_rng
    from evorobot.setup import build

    world = repo_file("worlds", "categorical_perception.toml")
    ref = compile_cp_reference()
    if world is None or ref is None:
        why = "no worlds/categorical_perception.toml" if world is None else "no C compiler"
        print(f"evorobot bench: {why}: skipping the C reference of the episode", file=sys.stderr)
        return []
    setup = build(load_world(world))
    cond = setup.task.conditions(conditions_rng(1, 0))
    repeats = 5 if quick else 15  # one whole episode is about 10 ms: many short repeats, the least
    warm = Episode(setup, np.zeros((1, setup.genome_size)), cond[:1])
    for _ in range(3):
        warm.tick()  # compile / load every kernel of the loop
    rows, c_rate = [], 0.0
    sizes = (EPISODE_INDIVIDUALS,) if quick else (EPISODE_INDIVIDUALS, LARGE_INDIVIDUALS)
    for n in sizes:
        genomes = np.random.default_rng(2024).uniform(-1.0, 1.0, (n, setup.genome_size))
        ep = Episode(setup, genomes, cond)
        t_ep = best_time(ep.run, 1, repeats, setup=ep.reset)  # as episode_vs_naive times it
        ep_rate = ep.n_agents * ep.step_count / t_ep
        c_run = ref.bind(setup, genomes, cond)
        c = c_run()
        c_rate = c.agent_steps / best_time(c_run, 1, repeats)
        diff = float(np.max(np.abs(c.fitness - ep.result().fitness)))
        name = "episode.cp.vs_c" if n == EPISODE_INDIVIDUALS else f"episode.cp.vs_c.{ep.n_agents}"
        if not diff <= TOLERANCE:
            print(f"evorobot bench: warning: {name}: C and batched fitness differ by {diff:.3g}", file=sys.stderr)
        rows.append(row(name, ep_rate, "agent-steps/s", c_rate, ep_rate / c_rate))
    return [*rows, row("episode.cp.c_us", 1e6 / c_rate, "us/agent-step")]
