"""NARX network: a feed-forward network over tapped delay lines (Siegelmann, Horne & Giles 1997).

Siegelmann, H. T., Horne, B. G. & Giles, C. L. (1997). Computational capabilities of recurrent
NARX neural networks. IEEE Transactions on Systems, Man, and Cybernetics, Part B 27(2), 208-215.

A NARX network (nonlinear autoregressive with exogenous inputs) computes its output from the
current input, the last ``input_delays`` inputs and the last ``output_delays`` outputs::

    y(t) = Psi(x(t), x(t - 1), ..., x(t - n_u), y(t - 1), ..., y(t - n_y))

with ``n_u = input_delays`` and ``n_y = output_delays``: its only memory is the two tapped delay
lines, its only recurrence the output fed back. ``Psi`` is a multilayer perceptron with one
hidden layer::

    h(t) = f(b_h + W_in u(t) + W_rec v(t)),   u(t) = [x(t), ..., x(t - n_u)],  v(t) = [y(t - 1), ..., y(t - n_y)]
    y(t) = sigmoid(b_o + W_out h(t))          # the motor commands, in [0, 1]

Parameters (:class:`~evorobot.controllers.discrete.HiddenOutputParams`): ``w_in`` (H, (n_u + 1) n_in),
``w_rec`` (H, n_y n_out), ``b_h``, ``w_out``, ``b_o``; weights are stored ``[target, source]``,
sources in the order of the delay lines, newest first (``w_in[:, k n_in + i]`` weighs input ``i``
of ``k`` ticks ago). The delay lines are shift registers laid out the same way (state ``x_delay``,
``y_delay``), so each hidden unit's sum runs over contiguous memory. ``output_delays = 0`` gives
a time-delay neural network with no recurrence at all.

Adapted: the paper studies the class's computational power (NARX networks with a hidden layer
simulate Turing machines) and does not fix a training method; here every weight and bias is
evolved, or trained by gradient descent (contract item 14: full or truncated BPTT through the
output delay line, the network unrolled as a recurrent one, :mod:`evorobot.training.gradient`;
no RTRL). Hidden units use the ``activation`` setting, outputs are logistic. The delay lines hold
zeros at the start of every trial (the inputs and outputs "before" the trial).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.controllers._dense import (
    BPTT,
    copy_into,
    hidden_then_output,
    hidden_then_output_backward,
    output_delta,
)
from evorobot.controllers.base import GradientModel
from evorobot.controllers.discrete import (
    DiscreteNetwork,
    DiscreteSpec,
    HiddenOutputParams,
)
from evorobot.genome import Block
from evorobot.spec import setting

__all__ = ["NARX", "NARXSpec", "NARXState"]


@dataclass(frozen=True)
class NARXSpec(DiscreteSpec):
    """Settings of a NARX network."""

    hidden: int = setting(5, ge=1, doc="number of hidden units")
    input_delays: int = setting(2, ge=0, doc="past inputs seen besides the current one (n_u)")
    output_delays: int = setting(2, ge=0, doc="past outputs fed back (n_y; 0: a time-delay network)")


class NARXState(NamedTuple):
    """State of B networks: ``x_delay`` (B, (n_u + 1) n_in) = [x(t), ..., x(t - n_u)], ``y_delay``
    (B, n_y n_out) = [y(t), ..., y(t - n_y + 1)] after a tick, and ``h`` (B, H)."""

    x_delay: FloatArray
    y_delay: FloatArray
    h: FloatArray


@njit(cache=True, inline="always")
def _shift_in(line, new):
    """Shift register ``line`` by ``len(new)`` places towards the end; ``new`` enters at the front."""
    n, k = line.shape[0], new.shape[0]
    if n == 0:
        return
    for i in range(n - 1, k - 1, -1):
        line[i] = line[i - k]
    for i in range(k):
        line[i] = new[i]


@njit(cache=True)
def _step(w_in, w_rec, b_h, w_out, b_o, x_delay, y_delay, h, x, kind, out):
    """Advance B networks one tick in place: x(t) enters the input line, then h and ``out``
    (B, n_out) from both lines, then y(t) enters the output line."""
    n_b, n_h = h.shape
    acc = np.empty(max(n_h, out.shape[1]))
    for b in range(n_b):
        _shift_in(x_delay[b], x[b])
        hidden_then_output(w_in[b], x_delay[b], w_rec[b], y_delay[b], b_h[b], w_out[b], b_o[b], kind, h[b], out[b],
                           acc)
        _shift_in(y_delay[b], out[b])


@njit(cache=True)
def _run(w_in, w_rec, b_h, w_out, b_o, x, length, kind, x_line, y_line, h, out):
    """One network from rest over one sequence ``x`` (T, n_in), the ticks of :func:`_step`
    recorded: the input line ``x_line`` (T, (n_u + 1) n_in) and output line ``y_line`` (T, n_y
    n_out) each tick's hidden layer reads, ``h`` (T, H), ``out`` (T, n_out)."""
    acc = np.empty(max(h.shape[1], out.shape[1]))
    x_line[0, :] = 0.0
    y_line[0, :] = 0.0
    for t in range(length):
        if t > 0:
            copy_into(x_line[t - 1], x_line[t])
            copy_into(y_line[t - 1], y_line[t])
            _shift_in(y_line[t], out[t - 1])
        _shift_in(x_line[t], x[t])
        hidden_then_output(w_in, x_line[t], w_rec, y_line[t], b_h, w_out, b_o, kind, h[t], out[t], acc)


@njit(cache=True)
def _gradient(w_in, w_rec, b_h, w_out, b_o, inputs, targets, weights, lengths, kind, loss, method, window, stride,
              g_in, g_rec, g_b_h, g_out, g_b_o):
    """Summed loss of one network over R sequences (R, T, .) and its BPTT(window; stride)
    gradient (``method`` must be BPTT), added to the ``g_*`` (contract item 14). The error runs
    back through the output delay line: ``dL/dy(t)`` gets ``W_rec[:, d]^T dL/da(t + k)`` for
    the taps ``d`` of y(t) in the line k = 1..n_y ticks later; the blocks and windows are those
    of :func:`~evorobot.controllers._dense.recurrent_backward` (the delay lines before a window
    held fixed)."""
    assert method == BPTT
    n_r, n_t, _ = inputs.shape
    n_h, n_o = b_h.shape[0], b_o.shape[0]
    n_u, n_y = w_in.shape[1], w_rec.shape[1] // n_o
    x_line, y_line = np.zeros((n_t, n_u)), np.zeros((n_t, n_y * n_o))
    h, out = np.zeros((n_t, n_h)), np.zeros((n_t, n_o))
    direct, da = np.zeros((n_t, n_o)), np.zeros((n_t, n_h))
    dz = np.empty(n_o)
    total = 0.0
    for r in range(n_r):
        length = lengths[r]
        _run(w_in, w_rec, b_h, w_out, b_o, inputs[r], length, kind, x_line, y_line, h, out)
        for t in range(length):
            total += output_delta(out[t], targets[r, t], weights[r, t], loss, direct[t])
        start = 0
        while start < length:
            end = min(start + stride, length) - 1
            for t in range(end, max(0, end - window + 1) - 1, -1):
                for k in range(n_o):
                    e = 0.0
                    for lag in range(1, min(n_y, end - t) + 1):
                        for j in range(n_h):
                            e += w_rec[j, (lag - 1) * n_o + k] * da[t + lag, j]
                    dz[k] = e * out[t, k] * (1.0 - out[t, k])
                    if t >= start:
                        dz[k] += direct[t, k]
                hidden_then_output_backward(w_out, x_line[t], y_line[t], h[t], dz, kind, da[t], g_in, g_rec, g_b_h,
                                            g_out, g_b_o)
            start = end + 1
    return total


class NARX(DiscreteNetwork):
    """Batched NARX network (see the module docstring)."""

    name: ClassVar[str] = "narx"
    Spec: ClassVar[type] = NARXSpec
    Params = HiddenOutputParams
    State = NARXState

    def _blocks(self, spec: NARXSpec) -> list[Block]:
        return self._hidden_output_blocks(*self._state_sizes()[:2], spec.hidden)

    def _state_sizes(self) -> tuple[int, ...]:
        s = self.spec
        return ((s.input_delays + 1) * self.n_inputs, s.output_delays * self.n_outputs, s.hidden)

    def gene_groups(self) -> tuple[IntArray, ...]:
        """ESP's units (Gomez & Miikkulainen 1999): one group per hidden unit ``i``, its weights
        from the input line ``w_in[i, :]`` and the output line ``w_rec[i, :]``, bias ``b_h[i]``
        and outgoing weights ``w_out[:, i]``; then the output biases ``b_o`` (the rest)."""
        return self._hidden_output_groups()

    def gradient_model(self, where: str) -> GradientModel:
        """BPTT, full or truncated, through the output delay line (contract item 14); no RTRL
        (``rtrl`` None)."""
        return self._gradient_model(_gradient, self.spec.hidden, self._act)._replace(rtrl=None)

    def step(self, params: HiddenOutputParams, state: NARXState, inputs: FloatArray, dt: float,
             out: FloatArray) -> None:
        """Advance every network one tick in place (``dt`` unused); ``out`` gets the output layer."""
        _step(*params, state.x_delay, state.y_delay, state.h, inputs, self._act, out)
