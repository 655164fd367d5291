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
network was trained by back-propagation, here every weight and bias is evolved and ``decay`` is a
setting. His units are logistic; here the hidden units' function is a setting, the outputs stay
logistic. Context and outputs are reset to 0 at the start of every trial.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.controllers._dense import copy_into, hidden_then_output
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

    def step(self, params: HiddenOutputParams, state: JordanState, inputs: FloatArray, dt: float,
             out: FloatArray) -> None:
        """Advance every network one tick in place (``dt`` unused); ``out`` gets the output layer."""
        _step(*params, state.context, state.h, state.o, inputs, self._act, self.spec.decay, out)
