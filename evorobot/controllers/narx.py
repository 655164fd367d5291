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
evolved. Hidden units use the ``activation`` setting, outputs are logistic. The delay lines hold
zeros at the start of every trial (the inputs and outputs "before" the trial).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.controllers._dense import hidden_then_output
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

    def step(self, params: HiddenOutputParams, state: NARXState, inputs: FloatArray, dt: float,
             out: FloatArray) -> None:
        """Advance every network one tick in place (``dt`` unused); ``out`` gets the output layer."""
        _step(*params, state.x_delay, state.y_delay, state.h, inputs, self._act, out)
