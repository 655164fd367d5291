"""Elman network, the simple recurrent network (Elman 1990), batched.

Elman, J. L. (1990). Finding structure in time. Cognitive Science 14(2), 179-211.

A hidden layer of ``hidden`` units receives the inputs and as many context units, which hold a
copy (one to one, weight 1) of the hidden layer's activations of the previous tick; a layer of
``n_outputs`` logistic output units reads the hidden layer. Per tick::

    c(t) = h(t - 1)
    h(t) = f(b_h + W_in x(t) + W_rec c(t))
    y(t) = sigmoid(b_o + W_out h(t))            # the motor commands, in [0, 1]

Parameters (:class:`~evorobot.controllers.discrete.HiddenOutputParams`): ``w_in``, ``w_rec`` (from
the context units), ``b_h``, ``w_out``, ``b_o``; weights are stored ``[target, source]``.

Adapted: Elman trained the network by back-propagation (the context treated as an extra input);
here every weight and bias is evolved, or trained by gradient descent (contract item 14: BPTT,
truncated BPTT or RTRL through the context, :mod:`evorobot.training.gradient`; Elman's own
one-step truncation is BPTT(1; 1)). His units are logistic; here the hidden units' function is
a setting (``tanh`` by default, whose rest point 0 is also where the context starts), the outputs
stay logistic. The context is reset to 0 at the start of every trial.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.controllers._dense import (
    copy_into,
    dsquash,
    hidden_then_output,
    output_delta,
    recurrent_gradient,
    recurrent_scratch,
)
from evorobot.controllers.base import GradientModel
from evorobot.controllers.discrete import (
    DiscreteNetwork,
    DiscreteSpec,
    HiddenOutputParams,
)
from evorobot.genome import Block
from evorobot.spec import setting

__all__ = ["Elman", "ElmanSpec", "ElmanState"]


@dataclass(frozen=True)
class ElmanSpec(DiscreteSpec):
    """Settings of an Elman network."""

    hidden: int = setting(5, ge=1, doc="number of hidden units (and of context units)")


class ElmanState(NamedTuple):
    """State of B networks: ``context`` (B, H), the previous tick's hidden layer; ``h`` (B, H)."""

    context: FloatArray
    h: FloatArray


@njit(cache=True)
def _step(w_in, w_rec, b_h, w_out, b_o, context, h, x, kind, out):
    """Advance B networks one tick in place: context <- h, then h and ``out`` (B, n_out)."""
    n_b, n_h = h.shape
    acc = np.empty(max(n_h, out.shape[1]))
    for b in range(n_b):
        copy_into(h[b], context[b])
        hidden_then_output(w_in[b], x[b], w_rec[b], context[b], b_h[b], w_out[b], b_o[b], kind, h[b], out[b], acc)


@njit(cache=True)
def _run(w_in, w_rec, b_h, w_out, b_o, x, length, kind, h, out, context, acc):
    """One network from rest over one sequence ``x`` (T, m), the ticks of :func:`_step` recorded:
    ``h`` (T, H) hidden layers, ``out`` (T, n_out) outputs of ticks ``< length``."""
    for j in range(context.shape[0]):
        context[j] = 0.0
    for t in range(length):
        if t > 0:
            copy_into(h[t - 1], context)
        hidden_then_output(w_in, x[t], w_rec, context, b_h, w_out, b_o, kind, h[t], out[t], acc)


@njit(cache=True)
def _gradient(w_in, w_rec, b_h, w_out, b_o, inputs, targets, weights, lengths, kind, loss, method, window, stride,
              g_in, g_rec, g_b_h, g_out, g_b_o):
    """Summed loss of one network over R sequences (R, T, .) and its gradient, added to the ``g_*``
    (contract item 14): the output layer's directly, the hidden layer's by BPTT(window; stride)
    or RTRL (``method``) through the context (:func:`~evorobot.controllers._dense.recurrent_backward`)."""
    n_r, n_t, n_x = inputs.shape
    n_h, n_o = b_h.shape[0], b_o.shape[0]
    h, out = np.zeros((n_t, n_h)), np.zeros((n_t, n_o))
    inject, dz = np.zeros((n_t, n_h)), np.empty(n_o)
    context, acc = np.empty(n_h), np.empty(max(n_h, n_o))
    scratch = recurrent_scratch(n_h, n_x, method)
    total = 0.0
    for r in range(n_r):
        length = lengths[r]
        _run(w_in, w_rec, b_h, w_out, b_o, inputs[r], length, kind, h, out, context, acc)
        for t in range(length):
            total += output_delta(out[t], targets[r, t], weights[r, t], loss, dz)
            for k in range(n_o):
                g_b_o[k] += dz[k]
                for j in range(n_h):
                    g_out[k, j] += dz[k] * h[t, j]
            for j in range(n_h):
                e = 0.0
                for k in range(n_o):
                    e += w_out[k, j] * dz[k]
                inject[t, j] = e * dsquash(h[t, j], kind)
        recurrent_gradient(method, w_rec, inputs[r], h, inject, length, kind, n_h, window, stride, g_in, g_rec, g_b_h,
                           scratch)
    return total


class Elman(DiscreteNetwork):
    """Batched Elman network (see the module docstring)."""

    name: ClassVar[str] = "elman"
    Spec: ClassVar[type] = ElmanSpec
    Params = HiddenOutputParams
    State = ElmanState

    def _blocks(self, spec: ElmanSpec) -> list[Block]:
        return self._hidden_output_blocks(self.n_inputs, spec.hidden, spec.hidden)

    def _state_sizes(self) -> tuple[int, ...]:
        return (self.spec.hidden, self.spec.hidden)

    def gene_groups(self) -> tuple[IntArray, ...]:
        """ESP's units (Gomez & Miikkulainen 1999): one group per hidden unit ``i``, its input
        weights ``w_in[i, :]``, weights from the context ``w_rec[i, :]``, bias ``b_h[i]`` and
        outgoing weights ``w_out[:, i]``; then the output biases ``b_o`` (the rest)."""
        return self._hidden_output_groups()

    def gradient_model(self, where: str) -> GradientModel:
        """BPTT (full or truncated) and RTRL through the context units (contract item 14)."""
        return self._gradient_model(_gradient, self.spec.hidden, self._act)

    def step(self, params: HiddenOutputParams, state: ElmanState, inputs: FloatArray, dt: float,
             out: FloatArray) -> None:
        """Advance every network one tick in place (``dt`` unused); ``out`` gets the output layer."""
        _step(*params, state.context, state.h, inputs, self._act, out)
