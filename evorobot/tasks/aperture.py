"""Aperture perception: pass through a gap only if the body fits (Slocum, Downey & Beer 2000).

Description
    Two objects fall side by side with a gap between them. When the gap is wider than the
    agent's body the agent must pass through it (end centred in the gap); when it is narrower
    the agent must avoid the pair (end clear of both objects). The agent has to perceive an
    affordance, "can I fit through?", relative to its own size.
Sensors
    Beer's eye (``[agent.eye]``): seven distance rays over π/6 around the vertical, range 220.
Motors
    Two motor neurons, ``vx = gain * (o_left - o_right)`` (``[agent.motor]``); ``|x| <= x_limit``.
Fitness
    ``d`` = horizontal distance between the agent's centre and the centre of the gap when the
    objects arrive (their centres ``end_distance`` above the agent's, 0: level with it). Pass
    trials (gap > body diameter): ``1 - min(d, clip) / clip`` (clip 45, Beer's catch score).
    Avoid trials: ``min(d, c) / c`` with ``c = gap / 2 + 2 w + r`` (``w`` the objects'
    half-width, ``r`` the body radius), the distance at which the body just clears the outer
    object: 1 when clear; ``avoid_clip`` > 0 sets ``c`` instead (Izquierdo: 75 for both kinds). The individual's fitness is the mean over trials (a policy that
    ignores the gap's width, always passing or always avoiding, scores about 0.5); a failed
    trial scores 0.
Trials
    A fixed grid: ``gaps`` gap widths (between the objects' facing edges) over ``gap_range``
    ([10, 50]: 10, 18, 26 avoid; 34, 42, 50 pass, for a body of diameter 30) times ``offsets``
    positions of the gap's centre over ``offset_range`` ([-30, 30]): 24 trials. ``gap_skip`` > 0
    leaves the widths within ``gap_skip`` of the body's diameter out of the gap grid and
    ``offset_skip`` > 0 the positions within ``offset_skip`` of 0 out of the offset grid (half of
    each grid on either side; :func:`~evorobot.tasks.falling.skip_grid`), as Izquierdo's grids do. The objects
    (circles of diameter 30) start at y = 275 and fall together at 3.
Termination
    When the objects' centres are ``end_distance`` (0) above the agent's centre.
References
    Slocum, A.C., Downey, D.C. & Beer, R.D. (2000) Further experiments in the evolution of
    minimally cognitive behavior: from perceiving affordances to selective attention. SAB 6,
    430-439.
    Adapted: the agent, object size, start height and fall speed are Beer's (2003) so that the
    suite shares one agent; the object shape, gap widths and gap positions are ours [check
    against the paper], chosen so that every gap is at least 4 from the body's width and both
    objects start in view. The trial ends level with the agent (not one body diameter above it,
    as for catching) because passing through happens there; the avoid score's clip is the
    clearance distance so that a full score means the body would not touch either object.
    Izquierdo's version (VisuallyGuidedAgent, ``PerceiveAffordance``; worlds/aperture_izquierdo.toml):
    horizontal lines of length 30 as walls, gaps 20, 22, ..., 40 without 30, gap centres 2, 4, ...,
    24 (one side: his agent is bilaterally symmetric), start height 240, the trial ending when the
    lines are 30 above the agent's centre, and clip 75 for both kinds of trial.
Version
    1
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evorobot._types import FloatArray
from evorobot.agent import AgentSpec
from evorobot.errors import ConfigError
from evorobot.sim.world import World
from evorobot.spec import Range, setting
from evorobot.tasks.base import Scores
from evorobot.tasks.falling import (
    SHAPES,
    FallingSpec,
    FallingTask,
    add_falling_object,
    catch_score,
    check_skip,
    half_width,
    skip_grid,
)


@dataclass(frozen=True)
class ApertureSpec(FallingSpec):
    """``[task]`` settings of aperture perception."""

    gaps: int = setting(6, ge=1, doc="gap widths between the objects' facing edges")
    gap_range: Range = setting((10.0, 50.0), doc="range of the gap widths [check]")
    offsets: int = setting(4, ge=1, doc="horizontal positions of the gap's centre")
    offset_range: Range = setting((-30.0, 30.0), doc="range of the gap centre's start offset [check]")
    offset_skip: float = setting(
        0.0, ge=0, doc="gap centres within this distance of 0 are left out of the grid (0: none)"
    )
    gap_skip: float = setting(
        0.0, ge=0, doc="gap widths within this distance of the body's diameter are left out (0: none)"
    )
    avoid_clip: float = setting(
        0.0, ge=0, doc="avoid score's clip (0: the clearance gap / 2 + 2 w + r)"
    )
    object_shape: str = setting("circle", choices=SHAPES, doc="shape of both objects [check]")
    fall_speed: float = setting(3.0, gt=0, doc="the objects' falling speed")
    end_distance: float = setting(
        0.0, ge=0, doc="trial ends when the objects' centres are this far above the agent's"
    )

    def validate(self, where: str) -> None:
        super().validate(where)
        if self.gap_range[0] < 0:
            raise ConfigError(f"{where}: `gap_range` must be >= 0, got {list(self.gap_range)}")
        check_skip(self.offsets, self.offset_range, 0.0, self.offset_skip, "offsets offset_range offset_skip", where)


class Aperture(FallingTask):
    """Pass through wide gaps, avoid narrow ones (see the module docstring)."""

    name = "aperture"
    Spec = ApertureSpec
    version = 1
    condition_names = ("offset", "gap", "pass")

    def __init__(self, spec: ApertureSpec, agent: AgentSpec, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        self.set_slots((spec.fall_speed,) * 2, (spec.end_distance,) * 2)
        self.body_width = 2.0 * agent.body.radius
        self.half_width = half_width(spec.object_shape, spec.object_size)
        check_skip(spec.gaps, spec.gap_range, self.body_width, spec.gap_skip, "gaps gap_range gap_skip", where)

    @property
    def n_trials(self) -> int:
        return self.spec.gaps * self.spec.offsets

    def conditions(self, rng: np.random.Generator) -> FloatArray:
        s = self.spec
        gaps = skip_grid(s.gaps, *s.gap_range, self.body_width, s.gap_skip)
        offsets = skip_grid(s.offsets, *s.offset_range, 0.0, s.offset_skip)
        return np.array([(c, g, float(g > self.body_width)) for g in gaps for c in offsets], dtype=np.float64)

    def build(self, world: World, space: int, cond: FloatArray) -> list[int]:
        s = self.spec
        c, half = float(cond[0]), float(cond[1]) / 2 + self.half_width
        return [add_falling_object(world, space, s.object_shape, s.object_size, x, s.object_y, -s.fall_speed)
                for x in (c - half, c + half)]

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        d = np.abs(self.arrival_offsets(scores).mean(axis=1))  # agent to the gap's centre
        clip = self.spec.avoid_clip
        clear = conditions[:, 1] / 2 + 2 * self.half_width + self.body_width / 2 if clip == 0 else clip
        avoid = np.minimum(d, clear) / clear
        return self.finish(scores, np.where(conditions[:, 2] > 0, catch_score(d, self.spec.distance_clip), avoid))
