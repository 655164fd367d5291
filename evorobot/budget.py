"""The resource budget: limits on every setting whose cost grows with its value, and an estimate
of memory and work, checked before anything runs or is written.

Three checks, in the order an experiment is built:

1. **Settings** (:func:`check_settings`, on each parsed table, before any object is built): every
   integer setting is at most its limit (seeds and ``[evolution] generations`` /
   ``checkpoint_every``, which cost time only, excepted): ``substeps`` anywhere -> ``substeps``;
   ``population`` -> ``population``; ``trials`` and ``validation_trials`` -> ``trials``; any
   other integer of ``[controller]`` (neurons, units, cells, delays, rows, passes) ->
   ``neurons``; of the agent's tables (rays, sectors, pixels, fields) -> ``sensors``; of any
   other table (offsets, lengths, sequences, strings, chunk size) -> ``count``. Every float is 0
   or has a magnitude in [:data:`TINY`, :data:`HUGE`]: a speed of 5e-324 or a dt of 1e-300 make
   the ticks per trial overflow, a size of 1e300 the viewer's pixels.
2. **Derived figures** (:func:`check_setup`, once the task and controller exist, before a
   trial runs): the task's trial count and its held-out test's (``trials``), ticks per trial
   (``steps``; it must also be computable and finite), the genome size (``genes``), the network's inputs (``sensors``) and
   the agent-ticks of one generation, population x trials x team x ticks x substeps (``work``).
3. **Memory** (:func:`estimate_memory`): one evaluation chunk's :class:`~evorobot.episode.Episode`
   (min(chunk_size, population) individuals x trials x team agents: genomes, decoded parameters
   and state measured on one decoded genome, sensor and motor arrays, the sensor-noise table,
   the pymunk bodies, a dynamics task's state) plus the population arrays (genomes, fitness; a
   full covariance matrix for CMA-ES and xNES), against ``memory_mb`` or, when that is 0, the
   memory this machine has available (``MemAvailable`` of ``/proc/meminfo``, capped by an
   address-space rlimit; not checked where neither is known). ``replay --trace`` adds the trace
   it keeps in memory (:func:`check_trace`).

The defaults accept every shipped world with a wide margin. An experiment overrides them in an
optional ``[limits]`` table (``--set limits.trials=200000``); the table is part of the resolved
experiment (run configuration, checkpoints' fingerprint, champion files) only when it differs
from the defaults, so files written before it existed keep loading and replaying.
Every refusal is one :class:`~evorobot.errors.ConfigError` line: the value or estimate, the limit,
and how to raise it.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from evorobot.errors import ConfigError
from evorobot.spec import setting

if TYPE_CHECKING:
    from evorobot.setup import Setup

TINY = 1e-12
"""Smallest magnitude of a non-zero float setting."""
HUGE = 1e12
"""Largest magnitude of a float setting."""
WORLD_BYTES = 12 * 1024
"""Memory of one trial world of falling objects beyond its arrays: pymunk bodies and shapes, Python
bookkeeping (measured with ru_maxrss on categorical perception: ~11 KB)."""
ROBOT_BYTES = 20 * 1024
"""More per robot: its body and shapes, the arena's walls, the sensor tables (phototaxis: ~32 KB a world)."""
DECODE_PEAK = 3
"""Decoding holds the parameters and temporaries of about their size twice more (measured: ~3x)."""
FULL_COVARIANCE = ("cmaes", "xnes")
"""Optimizers that hold (G, G) matrices (CMA-ES unless ``diagonal``; xNES)."""
TIME_ONLY = ("generations", "checkpoint_every")
"""``[evolution]`` integers that cost time, not memory per generation: not limited."""


@dataclass(frozen=True)
class Limits:
    """``[limits]``: the resource budget (see the module docstring for what each bounds)."""

    trials: int = setting(100_000, ge=1, doc="trials per individual in one evaluation (task trials, "
                          "validation_trials, replay --trials)")
    population: int = setting(100_000, ge=1, doc="[optimizer] population")
    substeps: int = setting(4096, ge=1, doc="any `substeps` setting (physics or plant steps per tick)")
    neurons: int = setting(1024, ge=1, doc="each size setting of [controller] (hidden, units, cells, ...)")
    sensors: int = setting(4096, ge=1, doc="each size setting of the agent (rays, sectors, pixels, fields) "
                           "and the network's inputs")
    steps: int = setting(1_000_000, ge=1, doc="ticks per trial (the task's step limit, from its durations and dt)")
    genes: int = setting(10_000_000, ge=1, doc="genome size")
    count: int = setting(1_000_000, ge=1, doc="any other integer setting (offsets, lengths, sequences, chunk_size)")
    work: float = setting(1e10, gt=0, doc="agent-ticks per generation: population x trials x team x ticks x substeps")
    memory_mb: int = setting(0, ge=0, doc="memory budget in MiB (0: the memory this machine has available)")


DEFAULT_LIMITS = Limits()


def _how(name: str, value: Any) -> str:
    return f"raise it with [limits] {name} = {value} (or --set limits.{name}={value}) if this machine can take it"


def _limit_for(table: str, key: str) -> str | None:
    """Name of the :class:`Limits` field bounding integer ``key`` of ``table``; None: unbounded."""
    if key.endswith("seed") or (table == "evolution" and key in TIME_ONLY):
        return None
    if key == "substeps":
        return "substeps"
    if key == "population":
        return "population"
    if key in ("trials", "validation_trials"):
        return "trials"
    if table == "controller":
        return "neurons"
    if table == "agent":
        return "sensors"
    return "count"


def check_settings(spec: Any, where: str, table: str, limits: Limits) -> None:
    """Refuse an integer of the settings dataclass ``spec`` over its limit, or an absurd float
    (table ``table``: experiment, simulation, agent, task, controller, optimizer, evolution)."""
    for f in dataclasses.fields(spec):
        _check_value(getattr(spec, f.name), f.name, where, table, limits)


def _check_value(value: Any, key: str, where: str, table: str, limits: Limits) -> None:
    if isinstance(value, (bool, str)):
        return
    if dataclasses.is_dataclass(value):
        check_settings(value, where, table, limits)
    elif isinstance(value, tuple):
        for v in value:
            _check_value(v, key, where, table, limits)
    elif isinstance(value, int):
        name = _limit_for(table, key)
        if name is not None and value > getattr(limits, name):
            raise ConfigError(f"{where}: `{key}` = {value} exceeds the limit of {getattr(limits, name)} "
                              f"({name}); {_how(name, value)}")
    elif isinstance(value, float) and value != 0.0 and not TINY <= abs(value) <= HUGE:
        raise ConfigError(f"{where}: `{key}` = {value!r} is out of the range a simulation can use "
                          f"(0, or a magnitude from {TINY:g} to {HUGE:g})")


def population_of(setup: Setup) -> int:
    """Genomes evaluated per generation (1 for a trainer, which has no population)."""
    return int(getattr(setup.experiment.optimizer, "population", 1))


def ticks_per_trial(setup: Setup) -> int:
    """The task's step limit, or a one-line ConfigError when it is not a finite number."""
    exp = setup.experiment
    where = f"{exp.source} [task]"
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            steps = setup.task.max_steps
        if isinstance(steps, float) and not math.isfinite(steps):
            raise OverflowError(f"{steps}")
    except (OverflowError, ZeroDivisionError, ValueError, FloatingPointError) as exc:
        raise ConfigError(f"{where}: the ticks per trial are not a finite number with [simulation] dt = "
                          f"{exp.simulation.dt!r} and these [task] settings ({exc}); check its speeds and "
                          "durations") from None
    return int(steps)


def check_setup(setup: Setup, machine: bool = True) -> None:
    """The derived figures of a built experiment against its limits; with ``machine``, also the
    memory estimate against what this machine has available."""
    exp = setup.experiment
    limits, src = exp.limits, exp.source
    steps = ticks_per_trial(setup)
    trials = setup.task.n_trials
    checks = [
        (trials, "trials", f"{src} [task]: `{exp.task_type}` evaluates {trials} trials per individual"),
        (steps, "steps", f"{src} [task]: a trial lasts up to {steps} ticks ([simulation] dt = {exp.simulation.dt!r})"),
        (setup.genome_size, "genes", f"{src} [controller]: the genome has {setup.genome_size} genes"),
        (n_inputs(setup), "sensors", f"{src}: the network has {n_inputs(setup)} inputs"),
    ]
    held_out = setup.task.held_out_conditions()  # replay runs them in one episode
    if held_out is not None:
        checks.append((len(held_out), "trials", f"{src} [task]: the held-out test has {len(held_out)} trials"))
    for value, name, what in checks:
        if value > getattr(limits, name):
            raise ConfigError(f"{what}, over the limit of {getattr(limits, name)} ({name}); {_how(name, value)}")
    work = agent_ticks(setup)
    if work > limits.work:
        raise ConfigError(f"{src}: one generation is {work:.3g} agent-ticks ({population_of(setup)} individuals x "
                          f"{trials} trials x {setup.task.n_robots} agents x {steps} ticks x "
                          f"{exp.simulation.substeps} substeps), over the limit of {limits.work:.3g} (work); "
                          f"{_how('work', f'{work:.3g}')}")
    if machine or limits.memory_mb:
        check_memory(setup, estimate_memory(setup), "the experiment", machine)


def n_inputs(setup: Setup) -> int:
    """The network's inputs (the agent's sensors, or a dynamics task's observation)."""
    from evorobot.tasks.base import DynamicsTask

    agent, task = setup.experiment.agent, setup.task
    return int(task.interface.n_inputs if isinstance(task, DynamicsTask) or agent is None else agent.n_inputs)


def agent_ticks(setup: Setup) -> float:
    """Agent-ticks (physics substeps counted) of one generation."""
    exp = setup.experiment
    return float(population_of(setup)) * setup.task.n_trials * setup.task.n_robots * ticks_per_trial(setup) \
        * exp.simulation.substeps


def nbytes(obj: Any) -> int:
    """Bytes of the numpy arrays in ``obj`` (an array, a tuple or NamedTuple of them, nested)."""
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, (tuple, list)):
        return sum(nbytes(x) for x in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return sum(nbytes(getattr(obj, f.name)) for f in dataclasses.fields(obj))
    return 0


def episode_bytes(setup: Setup, n_individuals: int, n_trials: int) -> int:
    """Estimated bytes of an :class:`~evorobot.episode.Episode` of ``n_individuals`` x ``n_trials``
    (see the module docstring; tests/test_budget.py checks it against an Episode's growth)."""
    from evorobot.seeding import conditions_rng
    from evorobot.tasks.base import DynamicsTask

    ctrl = setup.controller
    robots = setup.task.n_robots
    worlds = n_individuals * n_trials
    agents = worlds * robots
    params = ctrl.decode(np.zeros((1, ctrl.genome_size)))
    per_agent = setup.genome_size * 8 + DECODE_PEAK * nbytes(params) + nbytes(ctrl.init_state(params))
    n_in, n_out = n_inputs(setup), ctrl.n_outputs
    per_agent += (2 * n_in + n_out + 8) * 8  # inputs, distances, outputs, wheels, bookkeeping
    total = agents * per_agent + worlds * 64 * 8  # conditions and score rows
    agent = setup.experiment.agent
    if agent is not None:
        total += worlds * (WORLD_BYTES + (ROBOT_BYTES * robots if agent.is_robot else 0))
        if agent.is_robot:  # sensor noise drawn for every tick (an upper bound: noiseless robots draw none)
            total += n_trials * robots * ticks_per_trial(setup) * n_in * 8
    elif isinstance(setup.task, DynamicsTask):
        rows = setup.task.conditions(conditions_rng(0, 0))[:1]
        total += worlds * nbytes(setup.task.new_state(rows))
    return int(total)


def population_bytes(setup: Setup) -> int:
    """Estimated bytes of the optimizer's arrays: a few copies of the population's genomes, the
    per-trial fitness, and a full covariance's (G, G) matrices."""
    exp = setup.experiment
    pop, genes = population_of(setup), setup.genome_size
    total = 4 * pop * genes * 8 + 2 * pop * setup.task.n_trials * 8
    if exp.optimizer_type in FULL_COVARIANCE and not getattr(exp.optimizer, "diagonal", False):
        total += 4 * genes * genes * 8
    return int(total)


def estimate_memory(setup: Setup) -> dict[str, int]:
    """Estimated bytes by part: one evaluation chunk's episode and the population's arrays."""
    exp = setup.experiment
    chunk = min(exp.evolution.chunk_size, population_of(setup))
    return {f"an evaluation chunk of {chunk} individuals x {setup.task.n_trials} trials":
            episode_bytes(setup, chunk, setup.task.n_trials),
            "the population": population_bytes(setup)}


def available_bytes() -> int | None:
    """Memory this process can still allocate: MemAvailable (Linux) or free physical pages,
    capped by an address-space rlimit; None where unknown."""
    avail: int | None = None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = None
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            room = soft - _address_space()
            avail = room if avail is None else min(avail, room)
    except (ImportError, OSError, ValueError):
        pass
    return avail


def _address_space() -> int:
    """This process's virtual memory size (0 where unknown)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _size(n: float) -> str:
    return f"{n / 2**30:.3g} GiB" if n >= 2**30 else f"{n / 2**20:.3g} MiB"


def check_memory(setup: Setup, parts: dict[str, int], what: str, machine: bool = True) -> None:
    """Refuse ``parts`` (bytes by part) over ``[limits] memory_mb`` or, with ``machine`` and no
    explicit budget, over the memory this machine has available."""
    exp = setup.experiment
    total = sum(parts.values())
    mb = exp.limits.memory_mb
    if mb:
        limit, name = mb * 2**20, f"the limit of {mb} MiB (memory_mb)"
    else:
        avail = available_bytes() if machine else None
        if avail is None:
            return
        limit, name = max(avail, 0), f"the {_size(max(avail, 0))} this machine has available"
    if total > limit:
        detail = ", ".join(f"{k}: {_size(v)}" for k, v in parts.items())
        need = math.ceil(total / 2**20)
        raise ConfigError(f"{exp.source}: {what} needs about {_size(total)} ({detail}), more than {name}; "
                          f"lower the population, chunk_size, trials or sizes, or set [limits] memory_mb = {need} "
                          "if it fits after all")


def check_trace(setup: Setup, values_per_row: int, rows: int) -> None:
    """``replay --trace`` keeps every row in memory before writing: ~40 bytes per value."""
    check_memory(setup, {f"a trace of {rows} rows x {values_per_row} values": rows * values_per_row * 40},
                 "the trace")
