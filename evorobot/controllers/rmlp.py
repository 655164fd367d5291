"""Recurrent multilayer perceptron, RMLP (Puskorius & Feldkamp 1994), batched.

Puskorius, G. V. & Feldkamp, L. A. (1994). Neurocontrol of nonlinear dynamical systems with
Kalman filter trained recurrent networks. IEEE Transactions on Neural Networks 5(2), 279-297.

Three layers in cascade: ``hidden1`` units, ``hidden2`` units and the ``n_outputs`` output units.
Each layer receives the current activations of the layer below (the inputs, for the first) and,
through a one-tick delay, the previous activations of every unit of its own layer, itself
included; no connection skips a layer or runs down. The output layer too feeds back on itself.
Per tick, with ``a_0(t) = x(t)``::

    a_l(t) = f_l(b_l + W_l a_{l-1}(t) + R_l a_l(t - 1)),   l = 1, 2, 3

``f_1``, ``f_2`` are the ``activation`` setting; ``f_3`` is the logistic sigmoid, and the output
layer's activations ``a_3`` are the motor commands, in [0, 1]. Parameters (:class:`RMLPParams`):
``W_l`` (n_l, n_{l-1}) and ``R_l`` (n_l, n_l), stored ``[target, source]``, and ``b_l`` (n_l,).

Adapted: Puskorius & Feldkamp trained RMLPs by decoupled extended Kalman filtering, and their
output layers are often linear; here every weight and bias is evolved, and the outputs are
logistic so that commands lie in [0, 1]. The depth is fixed at two hidden layers, whose sizes
are two integer settings (world files have no lists of integers). Every layer starts at 0 in
every trial.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.controllers._dense import SIGMOID, copy_into, layer
from evorobot.controllers.discrete import DiscreteNetwork, DiscreteSpec
from evorobot.genome import Block
from evorobot.spec import setting

__all__ = ["RMLP", "RMLPParams", "RMLPSpec", "RMLPState"]


@dataclass(frozen=True)
class RMLPSpec(DiscreteSpec):
    """Settings of an RMLP."""

    hidden1: int = setting(6, ge=1, doc="units of the first hidden layer")
    hidden2: int = setting(4, ge=1, doc="units of the second hidden layer")


class RMLPParams(NamedTuple):
    """Decoded parameters of B networks: for each layer ``l`` (3: the output layer), ``wl``
    (B, n_l, n_{l-1}) from the layer below, ``rl`` (B, n_l, n_l) within the layer, ``bl`` (B, n_l)."""

    w1: FloatArray
    r1: FloatArray
    b1: FloatArray
    w2: FloatArray
    r2: FloatArray
    b2: FloatArray
    w3: FloatArray
    r3: FloatArray
    b3: FloatArray


class RMLPState(NamedTuple):
    """State of B networks: the activations ``h1`` (B, n_1), ``h2`` (B, n_2) and ``o`` (B, n_out)."""

    h1: FloatArray
    h2: FloatArray
    o: FloatArray


@njit(cache=True)
def _step(w1, r1, b1, w2, r2, b2, w3, r3, b3, h1, h2, o, x, kind, out):
    """Advance B networks one tick in place, layer by layer; ``out`` (B, n_out) gets ``o``."""
    acc = np.empty(max(h1.shape[1], h2.shape[1], o.shape[1]))
    for b in range(x.shape[0]):
        layer(w1[b], x[b], r1[b], h1[b], b1[b], kind, h1[b], acc)
        layer(w2[b], h1[b], r2[b], h2[b], b2[b], kind, h2[b], acc)
        layer(w3[b], h2[b], r3[b], o[b], b3[b], SIGMOID, o[b], acc)
        copy_into(o[b], out[b])


class RMLP(DiscreteNetwork):
    """Batched recurrent multilayer perceptron (see the module docstring)."""

    name: ClassVar[str] = "rmlp"
    Spec: ClassVar[type] = RMLPSpec
    Params = RMLPParams
    State = RMLPState

    def _blocks(self, spec: RMLPSpec) -> list[Block]:
        blocks, below = [], self.n_inputs
        for k, n in enumerate(self._state_sizes(), start=1):
            blocks += [self._weights(f"w{k}", n, below), self._weights(f"r{k}", n, n), self._biases(f"b{k}", n)]
            below = n
        return blocks

    def _state_sizes(self) -> tuple[int, ...]:
        return (self.spec.hidden1, self.spec.hidden2, self.n_outputs)

    def gene_groups(self) -> tuple[IntArray, ...]:
        """ESP's units (Gomez & Miikkulainen 1999) are the hidden units, the first layer's then
        the second's. A unit holds its incoming weights (``w_l[i, :]``), its recurrent weights
        within its layer (``r_l[i, :]``) and its bias; a second-layer unit also its outgoing
        weights to the outputs ``w3[:, i]`` (a first-layer unit's outgoing weights are the
        incoming weights of the second layer's units). The output layer's own recurrent weights
        ``r3`` and biases ``b3`` are the rest group."""
        n1 = self.spec.hidden1
        return self.layout.groups({"w1": 0, "r1": 0, "b1": 0, "w2": (0, n1), "r2": (0, n1), "b2": (0, n1),
                                   "w3": (1, n1)})

    def step(self, params: RMLPParams, state: RMLPState, inputs: FloatArray, dt: float, out: FloatArray) -> None:
        """Advance every network one tick in place (``dt`` unused); ``out`` gets the output layer."""
        _step(*params, *state, inputs, self._act, out)
