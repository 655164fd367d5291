"""Hand-wired Braitenberg vehicle: each sensor drives the wheel on its own side or the other.

Braitenberg, V. (1984). Vehicles: Experiments in Synthetic Psychology. MIT Press.

A classic baseline that needs no evolution (it has no genes). Each motor output is::

    o_m = clip(bias + sum_i w_kind(i) * f(i) * s(i, m) * x_i, 0, 1)

where ``x_i`` is input ``i`` and ``kind(i)`` its sensor (``eye``, ``ir``, ``light``, ``bumper``,
``camera``, from :meth:`evorobot.agent.AgentSpec.input_layout`); ``s(i, m)`` is 1 when input ``i`` is wired to
motor ``m``: with ``uncrossed`` wiring a sensor on the left (direction ``a`` with ``sin a > 0``)
drives the left motor, with ``crossed`` wiring the right one; a sensor on the axis (``sin a = 0``)
drives both by half. ``f(i) = (1 + cos a) / 2`` weights sensors by how far forward they look (1
straight ahead, 0 straight behind): an adaptation so that 8-sensor robots behave like the
two-sensor vehicles of the book. Positive weights excite (vehicles 2a/2b), negative weights
inhibit (vehicles 3a/3b).

The defaults make the light-seeking "aggressive" vehicle 2b (light crossed and excitatory) that
also steers clear of obstacles like the "explorer" 3b (IR crossed and inhibitory: the wheel away
from the obstacle slows, turning the vehicle away). With the differential motor an output of 0.5
stops a wheel, so ``bias = 0.75`` cruises forward at half speed. (Uncrossed excitatory IR, the
other textbook avoider, saturates at the wheels' maximum and gets stuck: on 100 obstacle-avoidance
trials it scored Φ = 0.12 against 0.53 for the crossed inhibitory wiring at ``bias = 1``.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numba import njit

from evorobot._types import FloatArray
from evorobot.agent import AgentSpec
from evorobot.controllers.base import Controller
from evorobot.errors import ConfigError
from evorobot.spec import setting

if TYPE_CHECKING:
    from evorobot.tasks.base import TaskIO

__all__ = ["Braitenberg", "BraitenbergSpec"]

_WIRING = ("crossed", "uncrossed")
KINDS = ("eye", "ir", "light", "bumper", "camera")


@dataclass(frozen=True)
class BraitenbergSpec:
    """Settings of a Braitenberg vehicle: a weight and a wiring per sensor kind, and a bias."""

    bias: float = setting(0.75, doc="motor output with no stimulus (differential: 0.5 stops, 1 full ahead)")
    eye_weight: float = setting(0.0, doc="weight of Beer's eye rays")
    eye_wiring: str = setting("crossed", choices=_WIRING, doc="eye rays to the other side's motor or their own")
    ir_weight: float = setting(-1.0, doc="weight of the IR proximity sensors")
    ir_wiring: str = setting("crossed", choices=_WIRING, doc="IR sensors to the other side's wheel or their own")
    light_weight: float = setting(1.0, doc="weight of the light sensors")
    light_wiring: str = setting("crossed", choices=_WIRING, doc="light sensors to the other side's wheel or their own")
    bumper_weight: float = setting(0.0, doc="weight of the bumper sectors")
    bumper_wiring: str = setting("uncrossed", choices=_WIRING, doc="bumpers to the other side's wheel or their own")
    camera_weight: float = setting(1.0, doc="weight of the camera's pixels (receptive fields: on its axis)")
    camera_wiring: str = setting("crossed", choices=_WIRING, doc="camera pixels to the other side's wheel or their own")


class BraitenbergParams(NamedTuple):
    w: FloatArray  # (n_outputs, n_inputs) the wiring matrix, shared by the batch
    bias: float
    batch: int


class BraitenbergState(NamedTuple):
    out: FloatArray  # (B, n_outputs) the last motor commands


def wiring_matrix(spec: BraitenbergSpec, layout: list[tuple[str, float]]) -> FloatArray:
    """The (2, n_inputs) weights from each input to the left and right motor."""
    w = np.zeros((2, len(layout)))
    for i, (kind, angle) in enumerate(layout):
        weight = getattr(spec, f"{kind}_weight") * (1.0 + math.cos(angle)) / 2
        side = math.sin(angle)
        own = (1.0, 0.0) if side > 1e-12 else (0.0, 1.0) if side < -1e-12 else (0.5, 0.5)
        left, right = own if getattr(spec, f"{kind}_wiring") == "uncrossed" else own[::-1]
        w[0, i], w[1, i] = weight * left, weight * right
    return w


@njit(cache=True)
def _step(w: FloatArray, bias: float, inputs: FloatArray, out: FloatArray, last: FloatArray) -> None:
    for b in range(inputs.shape[0]):
        for m in range(w.shape[0]):
            v = bias
            for i in range(w.shape[1]):
                v += w[m, i] * inputs[b, i]
            v = min(max(v, 0.0), 1.0) if math.isfinite(v) else v
            out[b, m] = v
            last[b, m] = v


class Braitenberg(Controller):
    """A hand-wired Braitenberg vehicle (see the module docstring); genome size 0."""

    name = "braitenberg"
    Spec = BraitenbergSpec

    def __init__(self, spec: BraitenbergSpec, n_inputs: int, n_outputs: int, dt: float, where: str,
                 layout: list[tuple[str, float]] | None = None) -> None:
        if n_outputs != 2:
            raise ConfigError(f"{where}: a Braitenberg vehicle drives two motors, the agent has {n_outputs}")
        layout = layout if layout is not None else [("ir", 0.0)] * n_inputs
        if len(layout) != n_inputs:
            raise ConfigError(f"{where}: the input layout names {len(layout)} inputs, expected {n_inputs}")
        self.spec, self.n_inputs, self.n_outputs, self.genome_size = spec, n_inputs, n_outputs, 0
        self.w = wiring_matrix(spec, layout)

    @classmethod
    def for_agent(cls, spec: Any, agent: "AgentSpec | TaskIO", dt: float, where: str) -> "Braitenberg":
        if not isinstance(agent, AgentSpec):
            raise ConfigError(f"{where}: a Braitenberg vehicle wires a body's sensors to its wheels; this task "
                              "brings its own dynamics and has no body (use an evolved controller)")
        return cls(spec, agent.n_inputs, agent.n_outputs, dt, where, layout=agent.input_layout())

    def decode(self, genomes: FloatArray) -> BraitenbergParams:
        genomes = np.asarray(genomes, dtype=np.float64)
        if genomes.ndim != 2 or genomes.shape[1] != 0:
            raise ValueError(f"a Braitenberg vehicle has no genes; got genomes of shape {genomes.shape}")
        return BraitenbergParams(self.w, self.spec.bias, genomes.shape[0])

    def init_state(self, params: BraitenbergParams) -> BraitenbergState:
        return BraitenbergState(np.zeros((params.batch, self.n_outputs)))

    def step(self, params: BraitenbergParams, state: BraitenbergState, inputs: FloatArray, dt: float,
             out: FloatArray) -> None:
        _step(params.w, params.bias, inputs, out, state.out)

    def describe(self, params: BraitenbergParams, i: int) -> dict[str, Any]:
        return {"w": params.w.tolist(), "bias": params.bias}

    def trace(self, state: BraitenbergState) -> dict[str, FloatArray]:
        return {"drive": state.out}
