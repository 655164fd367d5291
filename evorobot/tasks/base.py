"""The task contracts: what every task provides, then the two kinds of task.

Every task module's docstring has the sections Description, Sensors (or Inputs), Motors (or
Outputs), Fitness, Trials, Termination, References (with what was adapted and why) and Version.

**Every task** (:class:`Task`) provides:

1. ``name`` (registry key), ``Spec`` (settings dataclass of the ``[task]`` table), ``version``.
2. ``__init__(spec, agent, dt, where)``: validate against the agent (None for a task that brings
   its own dynamics) and the time step.
3. ``n_trials`` and ``conditions(rng) -> (n_trials, k)``: the per-trial set-up, deterministic given
   ``rng`` (a fixed grid ignores it); ``condition_names`` labels its columns.
4. ``max_steps``: a hard limit on a trial's length (a trial still running then has failed).
5. ``new_scores(W)``: fresh per-trial accumulators; ``fitness(scores, conditions) -> (W,)``
   finalizes each trial (``conditions`` holds each trial's row). A failed trial scores ``worst``.
   ``individual_fitness(trials) -> float``: an individual's fitness from its trials' fitness, in
   the order of ``conditions``; the mean unless the task documents otherwise (the product of two
   tasks' means, :mod:`evorobot.tasks.multiple_tasks`). Every consumer (evaluation, validation,
   champion files, replay) calls it.
6. Optionally ``diagnostics(scores, conditions) -> {name: (W,) array}``: per-trial measures that
   are not the fitness, printed by ``evorobot replay``; and ``trace(frame) -> {name: (W,) array}``:
   per-tick quantities written by ``replay --trace`` (``frame``: the body task's :class:`Frame`,
   or the dynamics task's state).
7. Optionally a held-out test: ``held_out_conditions()`` (None: the task has none) gives the
   trials of a test split the champion never trained on, and ``held_out_score(scores,
   conditions) -> float`` scores them (``held_out_metric`` names the score: NRMSE, accuracy, ...).
   Champion files store it and ``evorobot replay`` prints it (:mod:`evorobot.heldout`).

**A body task** (:class:`BodyTask`, ``embodied = True``) puts pymunk bodies in a Space; the
episode senses with the agent's sensors and moves the body with its motors. It also provides:

8. ``agent_start(cond) -> (x, y, heading)`` and ``build(world, space, cond) -> list[int]``: the
   agent's start pose and the object bodies of one trial world (their rows in the pose array).
   A cooperative task sets ``n_robots`` and overrides ``agent_starts(cond)`` (one pose per team
   member); scores and fitness are per trial world, for the whole team (one agent: the same).
9. ``score(frame, step, scores)``: per-tick accumulation in one numba call, setting
   ``scores.done``, from the episode's arrays in :class:`Frame` (poses after this tick's physics,
   the sensor values and wheel speeds of this tick, each agent's world origin and conditions row).
10. With noisy robot sensors, ``noise_seeds(conditions) -> (T,)``: an integer seed per trial for
   its sensor noise (drawn with the conditions, so a trial's noise is fixed by its row).
11. Optionally ``update_visibility(poses, agent_body, agent_world, objects, geometry)``: set the
   ``geometry.visible`` flags of the shapes (one numba call for the whole batch), as a function of
   the current poses alone. The episode calls it before sensing on every tick, and on reset, only
   when ``hides_objects`` is true; the default hides nothing and costs nothing.
12. Optionally ``steer_objects(frame, step, velocities)``: set the velocities (n_bodies, 3) of the
   task's kinematic objects each tick (a moving target), one numba call; called only when
   ``steers_objects`` is true; the default steers nothing.

**A dynamics task** (:class:`DynamicsTask`, ``embodied = False``) brings its own dynamics instead
of bodies: an ODE plant (pole balancing) or a sequence data set. Its world file has no
``[agent]`` table; the task says what the network sees and drives. It also provides:

13. ``interface``: a :class:`TaskIO` (the input and output names; the controller is sized from it).
14. ``new_state(conditions) -> state``: the state of every trial (a tuple of arrays), from the
   trials' conditions rows (W, k) alone.
15. ``observe(state, step, inputs)``: write this tick's network inputs (W, n_inputs), one numba
   call for the whole batch.
16. ``advance(state, outputs, step, scores)``: apply the network's outputs (W, n_outputs), advance
   every trial one tick (integrate the plant, or move to the next element of the sequence) and
   accumulate its score, setting ``scores.done``; one numba call for the whole batch.

The episode (:mod:`evorobot.episode`) is the one loop for both kinds: sense -> controller -> act ->
advance (pymunk, or the task's kernel) -> score.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np

from evorobot._types import BoolArray, FloatArray, IntArray
from evorobot.agent import AgentSpec
from evorobot.fitness import mean_fitness
from evorobot.sim.world import Geometry, World


class Frame(NamedTuple):
    """The episode's arrays a task scores from (views, updated in place every tick)."""

    poses: FloatArray  # (n_bodies, 3) x, y, angle after this tick's physics
    agent_body: IntArray  # (B,) each agent's body row (B = W x n_robots)
    agent_world: IntArray  # (B,) each agent's trial world
    objects: IntArray  # (W, K) body rows of each trial world's objects (-1: none)
    origins: FloatArray  # (W, 2) each world's origin (Space coordinates)
    conditions: FloatArray  # (W, k) each world's conditions row
    inputs: FloatArray  # (B, n_inputs) this tick's sensor values
    wheels: FloatArray  # (B, 2) wheel speeds in [-1, 1] of a differential robot (zeros otherwise)
    team: IntArray  # (W, n_robots) body rows of each world's agents (agent_body reshaped)


class Scores(NamedTuple):
    """Per-trial accumulators: ``done`` and ``failed`` flags, and task-specific ``values``."""

    done: BoolArray  # (B,)
    failed: BoolArray  # (B,)
    values: FloatArray  # (B, k)


@dataclass(frozen=True)
class TaskIO:
    """What a dynamics task's network sees and drives: one name per input and per output."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    def input_layout(self) -> list[tuple[str, float]]:
        """``(input name, 0.0)`` per input: a dynamics task's inputs have no direction on a body."""
        return [(name, 0.0) for name in self.inputs]


class Task(ABC):
    """Abstract base of every task (items 1-7 of the module docstring)."""

    name: ClassVar[str]
    Spec: ClassVar[type]
    version: ClassVar[int] = 1
    worst: ClassVar[float] = 0.0
    condition_names: ClassVar[tuple[str, ...]] = ()
    embodied: ClassVar[bool]
    """Whether the task puts bodies in a Space (:class:`BodyTask`) or brings its own dynamics."""
    n_robots: int = 1
    """Agents per trial world (a team runs copies of one network)."""
    held_out_metric: ClassVar[str] = ""
    """Name of :meth:`held_out_score` (empty: no held-out test)."""
    fitness_name: ClassVar[str] = "mean fitness"
    """What :meth:`individual_fitness` computes, as ``evorobot replay`` prints it."""
    fitness_accumulates: ClassVar[bool] = True
    """Whether :meth:`fitness` of a trial still running, read as if it ended now, is its fitness so
    far (time near the light, ticks balanced, errors so far); False where the fitness is decided
    at the end (a falling object's offset on arrival). The viewer's status line and the Gymnasium
    reward (:mod:`evorobot.gym`) read it."""

    def __init__(self, spec: Any, agent: AgentSpec | None, dt: float, where: str) -> None:
        self.spec, self.agent, self.dt = spec, agent, dt

    @property
    @abstractmethod
    def n_trials(self) -> int:
        """Number of evaluation trials per individual."""

    @abstractmethod
    def conditions(self, rng: np.random.Generator) -> FloatArray:
        """Per-trial set-up, one row per trial."""

    @property
    @abstractmethod
    def max_steps(self) -> int:
        """Upper bound on a trial's number of ticks."""

    @abstractmethod
    def new_scores(self, n: int) -> Scores:
        """Fresh accumulators for ``n`` trials."""

    @abstractmethod
    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        """Final fitness of every trial; failed trials score ``worst``."""

    def individual_fitness(self, trials: FloatArray) -> float:
        """An individual's fitness from its trials' fitness (n_trials,) (item 5): the mean."""
        return mean_fitness(trials)

    def diagnostics(self, scores: Scores, conditions: FloatArray) -> dict[str, FloatArray]:
        """Per-trial measures other than fitness, by name (none by default)."""
        return {}

    def trace(self, frame: Any) -> dict[str, FloatArray]:
        """Per-world quantities of this tick for ``replay --trace``, each (W,) (none by default)."""
        return {}

    def held_out_conditions(self) -> FloatArray | None:
        """The held-out test trials (item 7); None when the task has no test split."""
        return None

    def held_out_score(self, scores: Scores, conditions: FloatArray) -> float:
        """The held-out test score of one individual's test trials (item 7)."""
        raise NotImplementedError(f"task {self.name} has no held-out test")


class BodyTask(Task):
    """Abstract base of the tasks that put bodies in a pymunk Space (items 8-12)."""

    embodied: ClassVar[bool] = True
    x_limit: float = math.inf
    """Limit of the agent's |x| in its world (horizontal motors)."""
    view_follow: float = 0.0
    """Viewer hint: half-width of a window that follows the agents (0: show the whole world)."""
    hides_objects: bool = False
    """Whether :meth:`update_visibility` must run (the episode skips the call otherwise)."""
    steers_objects: bool = False
    """Whether :meth:`steer_objects` must run (the episode skips the call otherwise)."""
    agent: AgentSpec

    @abstractmethod
    def agent_start(self, cond: FloatArray) -> tuple[float, float, float]:
        """The agent's start pose (x, y, heading) in its world's frame."""

    def agent_starts(self, cond: FloatArray) -> list[tuple[float, float, float]]:
        """Start poses of the ``n_robots`` agents of a trial (default: the one agent's)."""
        return [self.agent_start(cond)]

    @abstractmethod
    def build(self, world: World, space: int, cond: FloatArray) -> list[int]:
        """Add the trial's objects to the current world of ``space``; return their body rows."""

    @abstractmethod
    def score(self, frame: Frame, step: int, scores: Scores) -> None:
        """Accumulate one tick for every trial (one numba call)."""

    def noise_seeds(self, conditions: FloatArray) -> FloatArray:
        """Per-trial seeds of the sensor noise (tasks with noisy sensors must override)."""
        raise NotImplementedError(f"task {self.name} does not provide sensor-noise seeds")

    def steer_objects(self, frame: Any, step: int, velocities: FloatArray) -> None:
        """Set the kinematic objects' velocities for this tick (item 12); the default steers nothing."""

    def update_visibility(self, poses: FloatArray, agent_body: IntArray, agent_world: IntArray,
                          objects: IntArray, geometry: Geometry) -> None:
        """Set ``geometry.visible`` from the current poses, before sensing (one numba call).

        Called only when ``hides_objects`` is true; the default hides nothing.
        """


class DynamicsTask(Task):
    """Abstract base of the tasks that bring their own dynamics (items 13-16): an ODE plant or a
    sequence data set, advanced by one numba kernel per tick for the whole batch."""

    embodied: ClassVar[bool] = False

    @property
    @abstractmethod
    def interface(self) -> TaskIO:
        """The network's inputs and outputs (item 13)."""

    @abstractmethod
    def new_state(self, conditions: FloatArray) -> Any:
        """Every trial's start state from its conditions row, (W, k) (item 14)."""

    @abstractmethod
    def observe(self, state: Any, step: int, inputs: FloatArray) -> None:
        """Write this tick's inputs (W, n_inputs) (item 15, one numba call)."""

    @abstractmethod
    def advance(self, state: Any, outputs: FloatArray, step: int, scores: Scores) -> None:
        """Act, advance one tick and score every trial (item 16, one numba call)."""
