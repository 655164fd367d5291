"""Robot bodies as data: the tables of an ``agents/*.toml`` file.

An agent file has three tables: ``[body]`` (shape and size), ``[eye]`` (a fan of distance rays)
and ``[motor]`` (how motor-neuron outputs become velocities). A world file names the agent file
and may override any key in sub-tables ``[agent.body]``, ``[agent.eye]``, ``[agent.motor]``.

The defaults are Beer's visually guided agent (Beer 1996; Beer 2003): a circle of diameter 30
with seven rays over π/6 around the vertical, range 220, moving horizontally only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from evorobot._types import FloatArray
from evorobot.spec import setting


@dataclass(frozen=True)
class BodySpec:
    """``[body]``: the agent's physical shape."""

    shape: str = setting("circle", choices=("circle",), doc="body shape")
    radius: float = setting(15.0, gt=0, doc="body radius (Beer: diameter 30)")


@dataclass(frozen=True)
class EyeSpec:
    """``[eye]``: a fan of distance rays starting on the body's perimeter (Beer 1996)."""

    rays: int = setting(7, ge=1, doc="number of rays, spread evenly over the field of view")
    fov_deg: float = setting(30.0, ge=0, le=360, doc="angle between the outermost rays (degrees)")
    axis_deg: float = setting(90.0, doc="direction of the eye's axis from the body's heading (degrees)")
    range: float = setting(220.0, gt=0, doc="maximum ray length, measured from the perimeter")
    gain: float = setting(10.0, gt=0, doc="input = gain * (range - d) / range")

    def angles(self) -> FloatArray:
        """Ray directions relative to the heading, ordered from the agent's left to its right."""
        axis, fov = math.radians(self.axis_deg), math.radians(self.fov_deg)
        if self.rays == 1:
            return np.array([axis])
        # counter-clockwise is positive, so the leftmost ray has the largest angle
        return axis + fov / 2 - np.arange(self.rays) * fov / (self.rays - 1)


@dataclass(frozen=True)
class MotorSpec:
    """``[motor]``: Beer's horizontal motor, ``vx = gain * (o_left - o_right)``."""

    type: str = setting("horizontal", choices=("horizontal",), doc="motor model")
    gain: float = setting(5.0, gt=0, doc="velocity gain of the motor-neuron difference")

    @property
    def n_outputs(self) -> int:
        return 2


@dataclass(frozen=True)
class AgentSpec:
    """A resolved agent: body, eye and motor."""

    body: BodySpec
    eye: EyeSpec
    motor: MotorSpec

    @property
    def n_inputs(self) -> int:
        return self.eye.rays

    @property
    def n_outputs(self) -> int:
        return self.motor.n_outputs


AGENT_TABLES: dict[str, type] = {"body": BodySpec, "eye": EyeSpec, "motor": MotorSpec}
