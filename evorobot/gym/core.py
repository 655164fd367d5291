"""The bridge from evorobot's batched :class:`~evorobot.episode.Episode` to step-by-step environments.

A Gymnasium or PettingZoo environment here is evorobot's own episode with the controller taken
out: the caller's action is the motor command of the tick. Each ``step`` is the second half of
:meth:`Episode.tick` (:meth:`Episode.act`: motors, physics or the task's dynamics, score) followed
by the first half of the next tick (:meth:`Episode.sense`), so the observation the caller acts on is
exactly what an evolved network would have read, and a network driven through an environment
scores exactly its evolution fitness (tests/test_gym.py checks a champion to the bit).

- **Observation**: the agent's sensor inputs (float64): a robot's sensors in [0, 1], Beer's eye
  rays in [0, gain], a dynamics task's inputs unbounded.
- **Action**: the motor commands, in [0, 1] as every controller emits them (clipped to it).
- **Reward**: the increase of the trial's fitness over the step, so that the return of a trial is
  its evolution fitness (to rounding; ``info["fitness"]`` at the end is the exact value). Where a
  task's fitness accumulates (:attr:`~evorobot.tasks.base.Task.fitness_accumulates`: time near the
  light, ticks balanced) the reward is dense; where it is decided at the end (a falling object's
  offset on arrival) the whole fitness comes on the last step.
- **Episode end**: ``terminated`` when the task ends the trial (or a numerical failure, scored
  worst as in evolution); ``truncated`` when the step limit ``max_steps`` is reached first.
- **Trials**: ``reset`` draws the task's trial conditions from the environment's ``np_random`` and
  picks one row; ``options={"trial": k}`` takes trial ``k`` of the world file's own trial set (those
  of its first generation) and ``options={"conditions": row}`` a given conditions row (a champion's).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from evorobot._types import BoolArray, FloatArray
from evorobot.agent import AgentSpec
from evorobot.controllers.base import Controller
from evorobot.episode import Episode
from evorobot.errors import ConfigError
from evorobot.seeding import conditions_rng
from evorobot.setup import Setup, load_setup
from evorobot.tasks.base import TaskIO


class _NoParams(NamedTuple):
    genes: FloatArray  # (B, 0)


class ExternalActions(Controller):
    """The caller's actions in place of a network: no genes, no state; :meth:`step` leaves the motor
    commands the caller wrote into ``Episode.outputs`` as they are."""

    name = "external"
    Spec = type(None)

    def __init__(self, n_inputs: int, n_outputs: int) -> None:
        self.n_inputs, self.n_outputs = n_inputs, n_outputs

    @property
    def genome_size(self) -> int:
        return 0

    def decode(self, genomes: FloatArray) -> _NoParams:
        return _NoParams(np.zeros((genomes.shape[0], 0)))

    def init_state(self, params: Any) -> None:
        return None

    def step(self, params: Any, state: Any, inputs: FloatArray, dt: float, out: FloatArray) -> None:
        """The commands are already in ``out``."""

    def describe(self, params: Any, i: int) -> dict[str, Any]:
        return {}

    def trace(self, state: Any) -> dict[str, FloatArray]:
        return {}


def env_setup(world: str | Path, overrides: list[str] | None = None) -> Setup:
    """The world file's task and body (``overrides`` as ``--set``), driven by external actions."""
    setup = load_setup(world, overrides)
    task = setup.task
    io: AgentSpec | TaskIO = task.agent if task.embodied else task.interface  # type: ignore[attr-defined]
    return replace(setup, controller=ExternalActions(io.n_inputs, io.n_outputs))


def observation_bounds(setup: Setup) -> tuple[float, float]:
    """The range of every input: [0, 1] for a robot's sensors, [0, gain] for Beer's eye; a dynamics
    task's inputs (a cart's velocity, a data set's values) have no bound and get the largest finite
    float, as Gymnasium's own CartPole does for its velocities."""
    agent = setup.experiment.agent
    if agent is None:
        big = float(np.finfo(np.float64).max)
        return -big, big
    if agent.is_robot:
        return 0.0, 1.0
    assert agent.eye is not None
    return 0.0, float(agent.eye.gain)


def io_sizes(setup: Setup) -> tuple[int, int]:
    """Inputs and outputs of one agent."""
    ctrl = setup.controller
    assert isinstance(ctrl, ExternalActions)
    return ctrl.n_inputs, ctrl.n_outputs


def trial_conditions(setup: Setup, rng: np.random.Generator, options: dict[str, Any] | None, where: str) -> FloatArray:
    """One trial's conditions row (k,): drawn from ``rng``, or chosen by ``options`` (module docstring)."""
    task = setup.task
    options = options or {}
    if "conditions" in options:
        row = np.asarray(options["conditions"], dtype=np.float64).reshape(-1)
        width = task.conditions(conditions_rng(setup.experiment.experiment.seed, 0)).shape[1]
        if row.shape != (width,) or not np.isfinite(row).all():
            raise ConfigError(f"{where}: options['conditions'] must be {width} finite numbers "
                              f"({', '.join(task.condition_names) or 'the task has no names'}), got {row.tolist()}")
        return row
    if "trial" in options:
        rows = task.conditions(conditions_rng(setup.experiment.experiment.seed, 0))
        k = options["trial"]
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 0 <= k < rows.shape[0]:
            raise ConfigError(f"{where}: options['trial'] must be an integer in [0, {rows.shape[0]}), got {k!r}")
        return rows[int(k)]
    rows = task.conditions(rng)
    return rows[int(rng.integers(rows.shape[0]))]


def new_episode(setup: Setup, conditions: FloatArray) -> Episode:
    """An episode of one trial per row of ``conditions`` (n, k), each in its own Space (so every
    trial computes what it computes alone), sensed and ready for the first action. An agent whose
    sensor morphology evolves (a camera's receptive fields) has it at its genes' zero values."""
    rows = np.asarray(conditions, dtype=np.float64)
    ep = Episode(setup, np.zeros((rows.shape[0], setup.genome_size)), rows[:, None, :])
    ep.sense()
    return ep


def progress(ep: Episode) -> FloatArray:
    """Each trial's fitness so far (W,): its fitness once it has ended; while it runs, the fitness as
    if it ended now where the task's fitness accumulates, else 0."""
    task, scores = ep.task, ep.scores
    ended = scores.done | scores.failed
    final = task.fitness(scores, ep.conditions)
    if not task.fitness_accumulates:
        return np.where(ended, final, 0.0)
    running = task.fitness(scores._replace(done=np.ones_like(scores.done)), ep.conditions)
    return np.where(ended, final, running)


class StepResult(NamedTuple):
    """What one step did to each trial (W,)."""

    reward: FloatArray
    terminated: BoolArray
    truncated: BoolArray
    progress: FloatArray
    fitness: FloatArray
    """The evolution fitness of each trial as it stands (final once the trial has ended; a trial cut
    by the step limit scores as in evolution: failed)."""


def step_episode(ep: Episode, actions: FloatArray, before: FloatArray) -> StepResult:
    """Apply ``actions`` (n_agents, n_outputs) as the motor commands, finish the tick, sense the next
    one (unless the step limit is reached: the last observation then stays), and say what changed
    against ``before`` (each trial's :func:`progress` before the step)."""
    np.clip(actions, 0.0, 1.0, out=ep.outputs)  # NaN stays NaN: it fails its trial, as in evolution
    ep.act()
    now = progress(ep)
    terminated = ep.scores.done | ep.scores.failed
    truncated = ~terminated & (ep.step_count >= ep.task.max_steps)
    if ep.step_count < ep.task.max_steps:
        ep.sense()
    return StepResult(now - before, terminated, truncated, now, ep.task.fitness(ep.scores, ep.conditions))


def as_actions(action: Any, shape: tuple[int, ...], where: str) -> FloatArray:
    """``action`` as a float64 array of ``shape``, or a one-line error naming the environment."""
    arr = np.asarray(action, dtype=np.float64)
    if arr.size != int(np.prod(shape)):
        raise ValueError(f"{where}: an action has {int(np.prod(shape[1:]) if len(shape) > 1 else shape[0])} "
                         f"motor commands in [0, 1] per agent, got shape {arr.shape}")
    return arr.reshape(shape)
