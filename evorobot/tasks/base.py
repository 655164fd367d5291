"""The task contract.

A task declares what its worlds contain, how trials differ and what fitness is. Every task module's
docstring has the sections Description, Sensors, Motors, Fitness, Trials, Termination, References
(with what was adapted and why) and Version.

A task type provides:

1. ``name`` (registry key), ``Spec`` (settings dataclass of the ``[task]`` table), ``version``.
2. ``__init__(spec, agent, dt, where)``: validate against the agent and the time step.
3. ``n_trials`` and ``conditions(rng) -> (n_trials, k)``: the per-trial set-up, deterministic given
   ``rng`` (a fixed grid ignores it); ``condition_names`` labels its columns.
4. ``agent_start(cond) -> (x, y, heading)`` and ``build(world, space, cond) -> list[int]``: the
   agent's start pose and the object bodies of one trial world (their rows in the pose array).
   A cooperative task sets ``n_robots`` and overrides ``agent_starts(cond)`` (one pose per team
   member); scores and fitness are per trial world, for the whole team (one agent: the same).
5. ``max_steps``: a hard limit on a trial's length (a trial still running then has failed).
6. ``new_scores(B)`` and ``score(frame, step, scores)``: per-tick accumulation in one numba call,
   setting ``scores.done``, from the episode's arrays in :class:`Frame` (poses after this tick's
   physics, the sensor values and wheel speeds of this tick, each agent's world origin and
   conditions row). ``fitness(scores, conditions) -> (B,)`` finalizes each trial (``conditions``
   holds each trial's row). A failed trial scores ``worst``.
7. With noisy robot sensors, ``noise_seeds(conditions) -> (T,)``: an integer seed per trial for
   its sensor noise (drawn with the conditions, so a trial's noise is fixed by its row).
8. Optionally ``diagnostics(scores, conditions) -> {name: (B,) array}``: per-trial measures that
   are not the fitness (reached the light, collisions, ...), printed by ``evorobot replay``; and
   ``trace(frame) -> {name: (W,) array}``: per-tick quantities written by ``replay --trace``.
9. Optionally ``update_visibility(poses, agent_body, agent_world, objects, geometry)``: set the
   ``geometry.visible`` flags of the shapes (one numba call for the whole batch), as a function of
   the current poses alone. The episode calls it before sensing on every tick, and on reset, only
   when ``hides_objects`` is true; the default hides nothing and costs nothing.
10. Optionally ``steer_objects(frame, step, velocities)``: set the velocities (n_bodies, 3) of the
   task's kinematic objects each tick (a moving target), one numba call; called only when
   ``steers_objects`` is true; the default steers nothing.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar, NamedTuple

import numpy as np

from evorobot._types import BoolArray, FloatArray, IntArray
from evorobot.agent import AgentSpec
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


class Task(ABC):
    """Abstract base of every task (see the module docstring for the contract)."""

    name: ClassVar[str]
    Spec: ClassVar[type]
    version: ClassVar[int] = 1
    worst: ClassVar[float] = 0.0
    condition_names: ClassVar[tuple[str, ...]] = ()
    x_limit: float = math.inf
    """Limit of the agent's |x| in its world (horizontal motors)."""
    n_robots: int = 1
    """Agents per trial world (a team runs copies of one network)."""
    view_follow: float = 0.0
    """Viewer hint: half-width of a window that follows the agents (0: show the whole world)."""
    hides_objects: bool = False
    """Whether :meth:`update_visibility` must run (the episode skips the call otherwise)."""
    steers_objects: bool = False
    """Whether :meth:`steer_objects` must run (the episode skips the call otherwise)."""

    def __init__(self, spec: Any, agent: AgentSpec, dt: float, where: str) -> None:
        self.spec, self.agent, self.dt = spec, agent, dt

    @property
    @abstractmethod
    def n_trials(self) -> int:
        """Number of evaluation trials per individual."""

    @abstractmethod
    def conditions(self, rng: np.random.Generator) -> FloatArray:
        """Per-trial set-up, one row per trial."""

    @abstractmethod
    def agent_start(self, cond: FloatArray) -> tuple[float, float, float]:
        """The agent's start pose (x, y, heading) in its world's frame."""

    def agent_starts(self, cond: FloatArray) -> list[tuple[float, float, float]]:
        """Start poses of the ``n_robots`` agents of a trial (default: the one agent's)."""
        return [self.agent_start(cond)]

    @abstractmethod
    def build(self, world: World, space: int, cond: FloatArray) -> list[int]:
        """Add the trial's objects to the current world of ``space``; return their body rows."""

    @property
    @abstractmethod
    def max_steps(self) -> int:
        """Upper bound on a trial's number of ticks."""

    @abstractmethod
    def new_scores(self, n: int) -> Scores:
        """Fresh accumulators for ``n`` trials."""

    @abstractmethod
    def score(self, frame: Frame, step: int, scores: Scores) -> None:
        """Accumulate one tick for every trial (one numba call)."""

    @abstractmethod
    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        """Final fitness of every trial; failed trials score ``worst``."""

    def noise_seeds(self, conditions: FloatArray) -> FloatArray:
        """Per-trial seeds of the sensor noise (tasks with noisy sensors must override)."""
        raise NotImplementedError(f"task {self.name} does not provide sensor-noise seeds")

    def diagnostics(self, scores: Scores, conditions: FloatArray) -> dict[str, FloatArray]:
        """Per-trial measures other than fitness, by name (none by default)."""
        return {}

    def trace(self, frame: Frame) -> dict[str, FloatArray]:
        """Per-world quantities of this tick for ``replay --trace``, each (W,) (none by default)."""
        return {}

    def steer_objects(self, frame: Any, step: int, velocities: FloatArray) -> None:
        """Set the kinematic objects' velocities for this tick (item 10); the default steers nothing."""

    def update_visibility(self, poses: FloatArray, agent_body: IntArray, agent_world: IntArray,
                          objects: IntArray, geometry: Geometry) -> None:
        """Set ``geometry.visible`` from the current poses, before sensing (one numba call).

        Called only when ``hides_objects`` is true; the default hides nothing.
        """
