"""Jordan network (Jordan 1986), batched.

Jordan, M. I. (1986). Serial order: a parallel distributed processing approach. ICS Report 8604,
Institute for Cognitive Science, University of California, San Diego.

A hidden layer of ``hidden`` units receives the inputs and ``n_outputs`` context ("state")
units; a layer of logistic output units reads the hidden layer. Each context unit is fed by its
output unit's activation of the previous tick (weight 1) and by itself, with the self-connection
``decay`` (Jordan's mu), so that it holds an exponentially fading trace of the past outputs. Per
tick, with ``c(0) = 0`` and ``y(0) = 0``::

    c(t) = decay c(t - 1) + y(t - 1)
    h(t) = f(b_h + W_in x(t) + W_rec c(t))
    y(t) = sigmoid(b_o + W_out h(t))            # the motor commands, in [0, 1]

Parameters (:class:`~evorobot.controllers.discrete.HiddenOutputParams`): ``w_in``, ``w_rec`` (from
the context units), ``b_h``, ``w_out``, ``b_o``; weights are stored ``[target, source]``.
``decay < 1`` keeps the context bounded by ``1 / (1 - decay)``.

Adapted: Jordan's "plan" units, which select the sequence to produce, are the sensors here; his
network was trained by back-propagation, here every weight and bias is evolved, or trained by
gradient descent (contract item 14: full or truncated BPTT through the outputs and the context,
:mod:`evorobot.training.gradient`; no RTRL), and ``decay`` is a setting. His units are logistic; here the hidden units' function is a setting, the outputs stay
logistic. Context and outputs are reset to 0 at the start of every trial.
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
from evorobot.errors import ConfigError
from evorobot.genome import Block
from evorobot.spec import setting

__all__ = ["Jordan", "JordanSpec", "JordanState"]


@dataclass(frozen=True)
class JordanSpec(DiscreteSpec):
    """Settings of a Jordan network."""

    hidden: int = setting(5, ge=1, doc="number of hidden units")
    decay: float = setting(0.5, ge=0.0, doc="self-connection mu of the context units, c(t) = mu c(t-1) + y(t-1); < 1")

    def validate(self, where: str) -> None:
        """Cross-key checks (called by :func:`evorobot.spec.parse`)."""
        if not self.decay < 1.0:
            raise ConfigError(f"{where}: `decay` must be < 1 (the context would grow without bound), got {self.decay}")


class JordanState(NamedTuple):
    """State of B networks: ``context`` (B, n_out), ``h`` (B, H), ``o`` (B, n_out) the last outputs."""

    context: FloatArray
    h: FloatArray
    o: FloatArray


@njit(cache=True)
def _step(w_in, w_rec, b_h, w_out, b_o, context, h, o, x, kind, decay, out):
    """Advance B networks one tick in place: context from the last outputs ``o``, then h, o, ``out``."""
    n_b, n_h = h.shape
    acc = np.empty(max(n_h, out.shape[1]))
    for b in range(n_b):
        c, ob = context[b], o[b]
        for k in range(c.shape[0]):
            c[k] = decay * c[k] + ob[k]
        hidden_then_output(w_in[b], x[b], w_rec[b], c, b_h[b], w_out[b], b_o[b], kind, h[b], ob, acc)
        copy_into(ob, out[b])


@njit(cache=True)
def _run(w_in, w_rec, b_h, w_out, b_o, x, length, kind, decay, context, h, out):
    """One network from rest over one sequence ``x`` (T, m), the ticks of :func:`_step` recorded:
    ``context`` (T, n_out) the context each tick reads, ``h`` (T, H), ``out`` (T, n_out)."""
    acc = np.empty(max(h.shape[1], out.shape[1]))
    for t in range(length):
        for k in range(context.shape[1]):
            context[t, k] = decay * context[t - 1, k] + out[t - 1, k] if t > 0 else 0.0
        hidden_then_output(w_in, x[t], w_rec, context[t], b_h, w_out, b_o, kind, h[t], out[t], acc)


@njit(cache=True)
def _gradient(w_in, w_rec, b_h, w_out, b_o, inputs, targets, weights, lengths, kind, decay, loss, method, window,
              stride, g_in, g_rec, g_b_h, g_out, g_b_o):
    """Summed loss of one network over R sequences (R, T, .) and its BPTT(window; stride)
    gradient (``method`` must be BPTT), added to the ``g_*`` (contract item 14). The error runs
    back through the outputs, which feed the context: ``dL/dy(t)`` gets ``dL/dc(t + 1)``, and
    ``dL/dc(t) = W_rec^T dL/da(t) + decay dL/dc(t + 1)``; the blocks and windows are those of
    :func:`~evorobot.controllers._dense.recurrent_backward` (the context and outputs before a
    window held fixed)."""
    assert method == BPTT
    n_r, n_t, _ = inputs.shape
    n_h, n_o = b_h.shape[0], b_o.shape[0]
    ctx, h, out = np.zeros((n_t, n_o)), np.zeros((n_t, n_h)), np.zeros((n_t, n_o))
    direct = np.zeros((n_t, n_o))
    dz, da, dc, dc_next = np.empty(n_o), np.empty(n_h), np.empty(n_o), np.empty(n_o)
    total = 0.0
    for r in range(n_r):
        length = lengths[r]
        _run(w_in, w_rec, b_h, w_out, b_o, inputs[r], length, kind, decay, ctx, h, out)
        for t in range(length):
            total += output_delta(out[t], targets[r, t], weights[r, t], loss, direct[t])
        start = 0
        while start < length:
            end = min(start + stride, length) - 1
            for k in range(n_o):
                dc_next[k] = 0.0
            for t in range(end, max(0, end - window + 1) - 1, -1):
                for k in range(n_o):
                    dz[k] = dc_next[k] * out[t, k] * (1.0 - out[t, k])
                    if t >= start:
                        dz[k] += direct[t, k]
                hidden_then_output_backward(w_out, inputs[r, t], ctx[t], h[t], dz, kind, da, g_in, g_rec, g_b_h,
                                            g_out, g_b_o)
                for k in range(n_o):
                    e = decay * dc_next[k]
                    for j in range(n_h):
                        e += w_rec[j, k] * da[j]
                    dc[k] = e
                copy_into(dc, dc_next)
            start = end + 1
    return total


class Jordan(DiscreteNetwork):
    """Batched Jordan network (see the module docstring)."""

    name: ClassVar[str] = "jordan"
    Spec: ClassVar[type] = JordanSpec
    Params = HiddenOutputParams
    State = JordanState

    def _blocks(self, spec: JordanSpec) -> list[Block]:
        return self._hidden_output_blocks(self.n_inputs, self.n_outputs, spec.hidden)

    def _state_sizes(self) -> tuple[int, ...]:
        return (self.n_outputs, self.spec.hidden, self.n_outputs)

    def gene_groups(self) -> tuple[IntArray, ...]:
        """ESP's units (Gomez & Miikkulainen 1999): one group per hidden unit ``i``, its input
        weights ``w_in[i, :]``, weights from the context units ``w_rec[i, :]``, bias ``b_h[i]``
        and outgoing weights ``w_out[:, i]``; then the output biases ``b_o`` (the rest)."""
        return self._hidden_output_groups()

    def gradient_model(self, where: str) -> GradientModel:
        """BPTT, full or truncated, through the outputs and the context (contract item 14); no
        RTRL (``rtrl`` None)."""
        return self._gradient_model(_gradient, self.spec.hidden, self._act, self.spec.decay)._replace(rtrl=None)

    def step(self, params: HiddenOutputParams, state: JordanState, inputs: FloatArray, dt: float,
             out: FloatArray) -> None:
        """Advance every network one tick in place (``dt`` unused); ``out`` gets the output layer."""
        _step(*params, state.context, state.h, state.o, inputs, self._act, self.spec.decay, out)
