"""Falling objects for Beer's visually guided agent: builders, a base task and two kernels.

Every task of the minimal-cognition suite (Beer 1996; Beer 2003; Slocum, Downey & Beer 2000)
drops one or more objects onto an agent that moves left and right along the bottom of the world.
This module holds what those tasks share, so that each task module only says how its trials
differ and how a trial is scored:

- :func:`add_falling_object`: a kinematic circle, diamond or horizontal line moving at a constant
  velocity (Beer's objects fall straight down; a horizontal drift is allowed);
- :class:`DropSpec`: the settings every falling-object task has (the objects' start height, the
  arrival height, the agent's x limit, the distance clip of the catch score), and
  :class:`FallingSpec`: those and one object size;
- :func:`grid` and :func:`skip_grid`: evenly spaced trial grids, the second with a band left out
  (Izquierdo's grids skip the offset 0 and the object size equal to the body's diameter), and
  with ``mirrored`` exactly antisymmetric (a task's ``mirrored_offsets``, issue 21: value ``i`` is
  ``-value(n-1-i)`` bit for bit, which ``np.linspace(-50, 50, n)`` is not);
- :class:`FallingTask`: the agent's start, the x limit, the step limit, the arrival score and the
  optional hiding of objects. Object slot ``k`` of a trial *arrives* when its centre first comes
  within ``ends[k]`` above the agent's centre; the signed horizontal offset
  ``object x - agent x`` is recorded at that tick, and the trial is done when every object has
  arrived. An object may be hidden from the sensors while its centre is at most
  ``hide_below[k]`` above the agent's centre (:meth:`FallingTask.update_visibility`).

Both kernels take plain arrays and loop over the whole batch (one call per tick).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.agent import AgentSpec
from evorobot.errors import ConfigError
from evorobot.sim.world import Geometry, World
from evorobot.spec import setting
from evorobot.tasks.base import BodyTask, Frame, Scores

SHAPES = ("circle", "diamond", "line")
"""Object shapes: circle (diameter ``size``), diamond (a square of side ``size`` turned 45
degrees) and horizontal line (length ``size``)."""


def add_falling_object(
    world: World, space: int, shape: str, size: float, x: float, y: float, vy: float, vx: float = 0.0
) -> int:
    """Add a kinematic circle, diamond or horizontal line moving at ``(vx, vy)``; return its row."""
    row = world.add_body(space, (x, y), velocity=(vx, vy))
    if shape == "circle":
        world.add_circle(row, size / 2)
    elif shape == "diamond":
        h = size / math.sqrt(2.0)  # a square of side ``size`` turned by 45 degrees
        world.add_polygon(row, [(h, 0.0), (0.0, h), (-h, 0.0), (0.0, -h)])
    elif shape == "line":
        world.add_segment(row, (-size / 2, 0.0), (size / 2, 0.0))
    else:
        raise ValueError(f"unknown object shape {shape!r}")
    return row


def half_width(shape: str, size: float) -> float:
    """Half of an object's horizontal extent."""
    return size / math.sqrt(2.0) if shape == "diamond" else size / 2


def grid(n: int, lo: float, hi: float) -> FloatArray:
    """``n`` values evenly spaced over ``[lo, hi]`` (the midpoint when ``n == 1``)."""
    return np.linspace(lo, hi, n) if n > 1 else np.array([(lo + hi) / 2])


def skip_grid(n: int, lo: float, hi: float, centre: float, skip: float, mirrored: bool = False) -> FloatArray:
    """:func:`grid` with the open band ``(centre - skip, centre + skip)`` left out: ``n / 2``
    values evenly spaced over ``[lo, centre - skip]`` and as many over ``[centre + skip, hi]``
    (``skip`` 0: the plain grid, bit for bit). Izquierdo's trial grids leave out the offset 0 and
    the object size equal to the body's diameter this way (VisuallyGuidedAgent, main.cpp).

    ``mirrored`` (a range symmetric about ``centre`` = 0): the upper half of the grid as above (bit
    for bit), the lower half its exact negation, so value ``i`` is ``-value(n-1-i)`` (a middle
    value, odd ``n`` without ``skip``, is 0)."""
    if mirrored:
        if centre != 0.0 or lo != -hi:
            raise ValueError(f"a mirrored grid needs a range symmetric about 0, got [{lo}, {hi}] around {centre}")
        half = n // 2
        upper = grid(half, skip, hi) if skip != 0.0 else grid(n, lo, hi)[n - half:]
        middle = [0.0] if skip == 0.0 and n % 2 else []
        return np.concatenate([-upper[::-1], middle, upper])
    if skip == 0.0:
        return grid(n, lo, hi)
    return np.concatenate([grid(n // 2, lo, centre - skip), grid(n // 2, centre + skip, hi)])


def check_mirrored(span: tuple[float, float], mirrored: bool, names: str, where: str) -> None:
    """Refuse ``mirrored`` offsets (:func:`skip_grid`) over a range not symmetric about 0; ``names``
    is "mirrored_key range_key"."""
    if mirrored and span[0] != -span[1]:
        flag, span_key = names.split()
        raise ConfigError(f"{where}: `{flag}` needs `{span_key}` symmetric about 0 ([-a, a]), got {list(span)}")


def check_skip(n: int, span: tuple[float, float], centre: float, skip: float, names: str, where: str) -> None:
    """Refuse a ``skip`` band that :func:`skip_grid` cannot cut out of ``span``: it needs an even
    ``n`` and the band inside the range. ``names`` is "count_key range_key skip_key"."""
    if skip == 0.0:
        return
    count, span_key, skip_key = names.split()
    if n % 2:
        raise ConfigError(f"{where}: `{count}` must be even when `{skip_key}` > 0, got {n}")
    if not span[0] <= centre - skip < centre + skip <= span[1]:
        raise ConfigError(f"{where}: `{skip_key}` = {skip} leaves no room in `{span_key}` "
                          f"{list(span)} around {centre}")


def catch_score(d: FloatArray, clip: float) -> FloatArray:
    """Beer's catch score ``1 - min(d, clip) / clip`` of a horizontal distance ``d``."""
    return 1.0 - np.minimum(np.abs(d), clip) / clip


@dataclass(frozen=True)
class DropSpec:
    """Settings shared by every falling-object task, whatever its objects' sizes (defaults: Beer
    1996, 2003)."""

    object_y: float = setting(275.0, gt=0, doc="objects' start height above the agent's centre")
    end_distance: float = setting(
        30.0, ge=0, doc="an object arrives when its centre is this far above the agent's"
    )
    x_limit: float = setting(200.0, gt=0, doc="the agent's |x| limit (half the world's width)")
    distance_clip: float = setting(45.0, gt=0, doc="catch score: distances beyond this score 0")

    def validate(self, where: str) -> None:
        if self.object_y <= self.end_distance:
            raise ConfigError(
                f"{where}: `object_y` must exceed `end_distance` ({self.end_distance}), got {self.object_y}"
            )


@dataclass(frozen=True)
class FallingSpec(DropSpec):
    """Settings shared by the falling-object tasks whose objects all have one size."""

    object_size: float = setting(30.0, gt=0, doc="circle diameter, diamond side, line length")


@njit(cache=True)
def _arrivals(poses: FloatArray, agent_body: IntArray, objects: IntArray, ends: FloatArray,
              done: np.ndarray, failed: np.ndarray, values: FloatArray) -> None:
    """Record each object's offset when it arrives; a trial is done when all have arrived.

    ``objects`` (B, K), -1 for an empty slot; ``ends`` (K,); ``values`` (B, 2K): offsets
    ``object x - agent x`` in columns ``0..K-1``, arrival flags (1.0) in ``K..2K-1``.
    """
    n_slots = objects.shape[1]
    for b in range(agent_body.shape[0]):
        if done[b] or failed[b]:
            continue
        a = agent_body[b]
        waiting = False
        for k in range(n_slots):
            o = objects[b, k]
            if o < 0 or values[b, n_slots + k] > 0.0:
                continue
            if poses[o, 1] - poses[a, 1] <= ends[k]:
                values[b, k] = poses[o, 0] - poses[a, 0]
                values[b, n_slots + k] = 1.0
            else:
                waiting = True
        if not waiting:
            done[b] = True


@njit(cache=True)
def _hide(poses: FloatArray, agent_body: IntArray, agent_world: IntArray, objects: IntArray,
          hide_below: FloatArray, shape_body: IntArray, world_start: IntArray, visible: np.ndarray) -> None:
    """``visible[s]`` of every shape of object slot ``k``: its centre is more than
    ``hide_below[k]`` above the agent's centre. A function of the poses alone."""
    for b in range(agent_body.shape[0]):
        ay = poses[agent_body[b], 1]
        w = agent_world[b]
        for s in range(world_start[w], world_start[w + 1]):
            row = shape_body[s]
            for k in range(objects.shape[1]):
                if objects[b, k] == row:
                    visible[s] = poses[row, 1] - ay > hide_below[k]
                    break


class FallingTask(BodyTask):
    """Base of the falling-object tasks (see the module docstring).

    A subclass calls :meth:`set_slots` in its ``__init__`` and provides ``n_trials``,
    ``conditions``, ``build`` and ``fitness``.
    """

    fitness_accumulates: ClassVar[bool] = False  # the offset on arrival

    def __init__(self, spec: Any, agent: AgentSpec, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        if agent.motor.type != "horizontal":
            raise ConfigError(f"{where}: needs an agent with a horizontal motor, got `{agent.motor.type}`")

    def set_slots(self, speeds: tuple[float, ...], ends: tuple[float, ...],
                  hide_below: tuple[float, ...] | None = None) -> None:
        """Declare the object slots: falling speeds, arrival heights and (optionally) the height
        at and below which each is hidden from the sensors (``-inf``: never)."""
        self.speeds, self.n_slots = speeds, len(speeds)
        self.ends = np.array(ends, dtype=np.float64)
        self.hide_below = None if hide_below is None else np.array(hide_below, dtype=np.float64)
        self.hides_objects = self.hide_below is not None and bool(np.isfinite(self.hide_below).any())

    @property
    def x_limit(self) -> float:  # type: ignore[override]
        return self.spec.x_limit

    def agent_start(self, cond: FloatArray) -> tuple[float, float, float]:
        return (0.0, 0.0, 0.0)

    @property
    def max_steps(self) -> int:
        y = self.spec.object_y
        return max(math.ceil((y - e) / (v * self.dt)) for v, e in zip(self.speeds, self.ends)) + 10

    def new_scores(self, n: int) -> Scores:
        return Scores(np.zeros(n, np.bool_), np.zeros(n, np.bool_), np.zeros((n, 2 * self.n_slots)))

    def score(self, frame: Frame, step: int, scores: Scores) -> None:
        _arrivals(frame.poses, frame.agent_body, frame.objects, self.ends, scores.done, scores.failed, scores.values)

    def update_visibility(self, poses: FloatArray, agent_body: IntArray, agent_world: IntArray,
                          objects: IntArray, geometry: Geometry) -> None:
        if self.hide_below is not None:
            _hide(poses, agent_body, agent_world, objects, self.hide_below, geometry.body,
                  geometry.world_start, geometry.visible)

    def arrival_offsets(self, scores: Scores) -> FloatArray:
        """(B, K) recorded ``object x - agent x`` of every slot."""
        return scores.values[:, : self.n_slots]

    def finish(self, scores: Scores, fit: FloatArray) -> FloatArray:
        """``fit`` with failed and unfinished trials set to ``worst``."""
        return np.where(scores.failed | ~scores.done, self.worst, fit)
