"""Fully recurrent network (Williams & Zipser 1989), batched.

Williams, R. J. & Zipser, D. (1989). A learning algorithm for continually running fully
recurrent neural networks. Neural Computation 1(2), 270-280.

``n`` units, every one connected to every one (self-connections included), and every input
connected to every unit. In the paper's notation, with ``z(t)`` the inputs and unit outputs
side by side, ``s_k(t) = sum_l w_kl z_l(t)`` and ``y_k(t + 1) = f_k(s_k(t))``. Per tick::

    y(t + 1) = f(b + W_in x(t) + W y(t)),     W : (n, n) [target, source],  W_in : (n, n_in)

The units are ``hidden`` hidden units (activation ``activation``) followed by ``n_outputs`` output
units, a subset of the units like any other, whose logistic outputs are the motor commands of
the tick. No connection is masked: the genome holds all ``n * n`` recurrent weights, ``n * n_in``
input weights and ``n`` biases.

Adapted: the paper trains the weights by real-time recurrent learning; here they are evolved, or
trained by gradient descent (contract item 14: the paper's RTRL, or BPTT, full or truncated,
:mod:`evorobot.training.gradient`; the gradient of a whole sequence is summed before the weights
change, where the paper changes them at every tick).
Its units are all logistic; here the hidden units' function is a setting (outputs stay logistic,
so that commands lie in [0, 1]). The bias is a separate gene rather than a weight from an input
held at 1 (the same thing). The units start at 0 in every trial.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.controllers._dense import (
    SIGMOID,
    affine,
    matvec_add,
    output_delta,
    recurrent_gradient,
    recurrent_scratch,
    squash,
)
from evorobot.controllers.base import GradientModel
from evorobot.controllers.discrete import DiscreteNetwork, DiscreteSpec
from evorobot.genome import Block
from evorobot.spec import setting

__all__ = ["FullyRecurrent", "FullyRecurrentParams", "FullyRecurrentSpec", "FullyRecurrentState"]


@dataclass(frozen=True)
class FullyRecurrentSpec(DiscreteSpec):
    """Settings of a fully recurrent network."""

    hidden: int = setting(5, ge=0, doc="number of hidden units (the output units come on top)")


class FullyRecurrentParams(NamedTuple):
    """Decoded parameters of B networks of n units: ``w_in`` (B, n, n_in), ``w`` (B, n, n)
    ``[target, source]``, ``bias`` (B, n)."""

    w_in: FloatArray
    w: FloatArray
    bias: FloatArray


class FullyRecurrentState(NamedTuple):
    """State of B networks: ``y`` (B, n) unit outputs, hidden units first, output units last."""

    y: FloatArray


@njit(cache=True, inline="always")
def _update(w_in, w, bias, x, y_prev, kind, first_out, acc, y):
    """One network's tick: y = f(bias + w_in x + w y_prev) (``y`` may be ``y_prev``: it is written
    only after every sum is done); hidden units ``< first_out`` use ``kind``, the others the sigmoid."""
    affine(bias, w_in, x, acc)
    matvec_add(w, y_prev, acc)
    squash(acc[:first_out], kind, y[:first_out])
    squash(acc[first_out:], SIGMOID, y[first_out:])


@njit(cache=True)
def _step(w_in, w, bias, y, x, kind, first_out, out):
    """Advance B networks one tick in place.

    w_in : (B, n, n_in); w : (B, n, n); bias, y : (B, n); x : (B, n_in); kind : hidden activation;
    first_out : index of the first output unit; out : (B, n_out) receives y[:, first_out:].
    """
    n_b, n = y.shape
    acc = np.empty(n)
    for b in range(n_b):
        yb = y[b]
        _update(w_in[b], w[b], bias[b], x[b], yb, kind, first_out, acc, yb)
        for k in range(out.shape[1]):
            out[b, k] = yb[first_out + k]


@njit(cache=True)
def _gradient(w_in, w, bias, inputs, targets, weights, lengths, kind, first_out, loss, method, window, stride,
              g_in, g_w, g_bias):
    """Summed loss of one network over R sequences (R, T, .) and its gradient, added to the ``g_*``
    (contract item 14): the output units' errors injected on their net inputs and carried back by
    BPTT(window; stride) or forward by RTRL (``method``, :mod:`evorobot.controllers._dense`)."""
    n_r, n_t, n_x = inputs.shape
    n = bias.shape[0]
    n_o = n - first_out
    y, inject, dz = np.zeros((n_t, n)), np.zeros((n_t, n)), np.empty(n_o)
    acc, zero = np.empty(n), np.zeros(n)
    scratch = recurrent_scratch(n, n_x, method)
    total = 0.0
    for r in range(n_r):
        length = lengths[r]
        for t in range(length):
            _update(w_in, w, bias, inputs[r, t], y[t - 1] if t > 0 else zero, kind, first_out, acc, y[t])
            total += output_delta(y[t, first_out:], targets[r, t], weights[r, t], loss, dz)
            for k in range(n_o):
                inject[t, first_out + k] = dz[k]
        recurrent_gradient(method, w, inputs[r], y, inject, length, kind, first_out, window, stride, g_in, g_w, g_bias,
                           scratch)
    return total


class FullyRecurrent(DiscreteNetwork):
    """Batched fully recurrent network (see the module docstring)."""

    name: ClassVar[str] = "fully_recurrent"
    Spec: ClassVar[type] = FullyRecurrentSpec
    Params = FullyRecurrentParams
    State = FullyRecurrentState

    @property
    def n_units(self) -> int:
        """Number of units, hidden and output."""
        return self.spec.hidden + self.n_outputs

    def _blocks(self, spec: FullyRecurrentSpec) -> list[Block]:
        n = self.n_units
        return [self._weights("w_in", n, self.n_inputs), self._weights("w", n, n), self._biases("bias", n)]

    def _state_sizes(self) -> tuple[int, ...]:
        return (self.n_units,)

    def gene_groups(self) -> tuple[IntArray, ...]:
        """One group per unit, hidden and output alike (there is no separate output layer: the
        output units are part of the recurrence): its incoming weights ``w_in[i, :]`` and
        ``w[i, :]`` and its bias, as the CTRNN's neurons. Every gene is some unit's: no rest
        group. (Each unit's outgoing weights are the incoming weights of the units they feed.)"""
        return self.layout.groups({"w_in": 0, "w": 0, "bias": 0})

    def gradient_model(self, where: str) -> GradientModel:
        """BPTT (full or truncated) and RTRL over every unit (contract item 14)."""
        return self._gradient_model(_gradient, self.n_units, self._act, self.spec.hidden)

    def step(self, params: FullyRecurrentParams, state: FullyRecurrentState, inputs: FloatArray, dt: float,
             out: FloatArray) -> None:
        """Advance every network one tick in place (``dt`` unused); ``out`` gets the output units."""
        _step(params.w_in, params.w, params.bias, state.y, inputs, self._act, self.spec.hidden, out)
