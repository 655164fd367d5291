"""Interventions on a running network: lesions of neurons and sensors, and perturbations.

The analyses of evolved continuous-time networks (Beer 2003, "The dynamics of active
categorical perception in an evolved model agent", Adaptive Behavior 11(4); Izquierdo & Beer
2013's lesion and perturbation studies) remove a neuron or a sensor and watch the behaviour, or
push a neuron during a window of time and watch the network return. Every intervention here acts
on a batch row by row, so a lesioned copy, a perturbed copy and an intact copy of one champion
run in one :class:`~evorobot.episode.Episode` (alone == batch: each copy's trials are what they
would be alone).

- :func:`lesion_neurons` removes neurons of a continuous-time network (CTRNN, MTRNN, hierarchical)
  by editing its decoded parameters: the neuron's gain is set to 0, so its output is
  ``sigma(0) = 1/2`` whatever its state, and its outgoing weights are multiplied by ``2 v``, so
  every other neuron receives exactly ``w v`` from it (the product by a power of two and by 1/2
  is exact in floating point): the neuron is clamped to the constant output ``v`` for every
  integrator, also inside the stages of RK4. A motor neuron cannot be removed this way (its output
  is the motor command) and is refused.
- :class:`Intervened` wraps the controller of an episode at the *think* stage: it overwrites
  chosen inputs of chosen rows before the network steps (a removed sensor reads a constant, 0 by
  default: nothing seen), and after the step perturbs one neuron of chosen rows during a time
  window: a **kick** adds ``A dt / tau`` to its state each tick of the window (a current ``A``
  injected over the window, integrated by forward Euler on top of the network's own step); a
  **clamp** holds its output at ``A`` (its state set to ``logit(A)/g - theta``; under RK4 the
  clamp holds between ticks, not inside the stages of one). The perturbed neuron's output is
  recomputed by the kernel's own sigmoid, so a perturbation of amplitude 0 leaves every bit of
  the run unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from evorobot._types import BoolArray, FloatArray
from evorobot.controllers.ctrnn import ContinuousNetwork, CTRNNParams
from evorobot.errors import EvorobotError

KINDS = ("kick", "clamp")


def is_network(controller: Any) -> bool:
    """Whether neuron lesions and perturbations apply (a continuous-time network)."""
    return isinstance(controller, ContinuousNetwork)


def motor_neurons(controller: ContinuousNetwork) -> range:
    """Indices of the neurons whose outputs are the motor commands."""
    first = int(controller._first_out)
    return range(first, first + controller.n_outputs)


def neuron_index(controller: Any, label: str, where: str = "--neuron") -> int:
    """The index of the neuron labelled ``label`` (``h0``, ``s2`` ...); a one-line error otherwise."""
    names = list(getattr(controller, "neurons", []) or [])
    if label not in names:
        raise EvorobotError(f"{where} {label!r}: the network's neurons are {', '.join(names) or 'unlabelled'}")
    return names.index(label)


def lesion_neurons(controller: ContinuousNetwork, params: CTRNNParams, rows: slice | np.ndarray,
                   neurons: list[int], value: float | FloatArray) -> CTRNNParams:
    """``params`` with ``neurons`` of the networks ``rows`` clamped to output ``value`` (see the
    module docstring); new arrays, ``params`` untouched. ``value`` is one number or one per neuron."""
    motors = motor_neurons(controller)
    bad = [controller.neurons[j] for j in neurons if j in motors]
    if bad:
        raise EvorobotError(f"cannot remove motor neuron(s) {', '.join(bad)}: their outputs are the motor commands")
    values = np.broadcast_to(np.asarray(value, dtype=np.float64), (len(neurons),))
    gain, w = params.gain.copy(), params.w.copy()
    for j, v in zip(neurons, values):
        if not 0.0 <= v <= 1.0:
            raise EvorobotError(f"--lesion-value {v:g}: a neuron's output lies in [0, 1]")
        gain[rows, j] = 0.0
        w[rows, :, j] *= 2.0 * v
    return params._replace(gain=gain, w=w)


@dataclass(frozen=True)
class Perturbation:
    """Push neuron ``neuron`` of the rows ``rows`` after every tick whose end time lies in [t0, t1)."""

    neuron: int
    kind: str
    amplitude: float
    t0: float
    t1: float
    rows: BoolArray

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise EvorobotError(f"--perturb {self.kind!r}: choose kick or clamp")
        if self.kind == "clamp" and not 0.0 < self.amplitude < 1.0:
            raise EvorobotError(f"--amplitude {self.amplitude:g}: a clamped output lies strictly between 0 and 1")
        if not (math.isfinite(self.t0) and math.isfinite(self.t1) and self.t0 < self.t1):
            raise EvorobotError(f"--window {self.t0:g},{self.t1:g}: need two finite times T0 < T1")


class Intervened:
    """A controller whose inputs are overwritten and whose neuron is perturbed, row by row.

    Delegates everything else to the wrapped controller; set ``episode.controller`` to it before
    :meth:`Episode.reset` (which calls :meth:`init_state`, restarting the clock).
    """

    def __init__(self, inner: Any, input_mask: BoolArray | None = None, input_value: float = 0.0,
                 perturbation: Perturbation | None = None) -> None:
        if perturbation is not None and not is_network(inner):
            raise EvorobotError(f"perturbations need a continuous-time network (ctrnn, mtrnn, hierarchical), "
                                f"not `{inner.name}`")
        self.inner = inner
        self.input_mask = input_mask
        self.input_value = float(input_value)
        self.perturbation = perturbation
        self._ticks = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def init_state(self, params: Any) -> Any:
        self._ticks = 0
        return self.inner.init_state(params)

    def step(self, params: Any, state: Any, inputs: FloatArray, dt: float, out: FloatArray) -> None:
        if self.input_mask is not None:
            np.copyto(inputs, self.input_value, where=self.input_mask)
        self.inner.step(params, state, inputs, dt, out)
        self._ticks += 1
        p = self.perturbation
        if p is not None and p.t0 <= self._ticks * dt < p.t1:
            self._perturb(p, params, state, dt, out)

    def _perturb(self, p: Perturbation, params: CTRNNParams, state: Any, dt: float, out: FloatArray) -> None:
        from evorobot.controllers._ctrnn_kernels import outputs

        rows, j = p.rows, p.neuron
        if p.kind == "kick":
            state.y[rows, j] += p.amplitude * dt / params.tau[rows, j]
        else:
            g = params.gain[rows, j]
            state.y[rows, j] = math.log(p.amplitude / (1.0 - p.amplitude)) / g - params.bias[rows, j]
        o = np.empty_like(state.o[rows])
        outputs(params.gain[rows], params.bias[rows], np.ascontiguousarray(state.y[rows]), o)
        state.o[rows, j] = o[:, j]
        if p.kind == "clamp":
            state.o[rows, j] = p.amplitude
        first = int(self.inner._first_out)
        out[rows] = state.o[rows, first:first + out.shape[1]]
