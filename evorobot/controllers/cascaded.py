"""Sequential cascaded network (Pollack 1991), batched, discrete-time.

Pollack, J. B. (1991). The induction of dynamical recognizers. Machine Learning 7: 227-252.

A context network maps the previous state ``z(t-1)`` (and a bias) to the weights of a function
network, which maps the current input ``y(t)`` (and a bias) to the new state::

    W_ij(t) = sum_k w_ijk z_k(t-1) + w_ij0          (context network: state -> weights)
    z_i(t)  = g( sum_j W_ij(t) y_j(t) + W_i0(t) )    (function network: input -> new state)

``g`` the logistic function, i over the N state units, j over the ``n_inputs`` inputs (``y_0 =
1`` the function network's bias), k over the state units (``z_0 = 1`` the context network's
bias). Writing ``zb = (z(t-1), 1)`` and ``yb = (y(t), 1)`` the update is one bilinear form::

    z_i(t) = g( sum_{j, k} w_ijk yb_j zb_k )
           = g( sum_jk w_ijk y_j z_k  +  sum_k w_i0k z_k  +  sum_j w_ij0 y_j  +  w_i00 ),

Relation to :mod:`~evorobot.controllers.second_order` (Giles et al. 1992): that network computes
``S_i(t+1) = g(sum_jk W_ijk S_j I_k + b_i)`` with, by default, a constant input ``I_K = 1``, i.e.
the products ``z_k y_j`` (second order), the first-order recurrent terms ``z_k`` and a bias, the
same multiplicative form. Pollack's arrangement adds a constant STATE unit ``z_0 = 1`` too, which
gives the first-order input terms ``w_ij0 y_j`` that Giles's network lacks; and his roles are
stated the other way round (the state makes the weights that act on the input, where Giles's
input selects the weights that act on the state) - the algebra is the same sum over ``(j, k)``.
So this network equals a ``second_order`` net with a constant input plus one constant state
unit; both are kept as types because they are the two published forms (and their genes differ).

Units and outputs: as Pollack's accept unit is one of the state units, units ``0 .. n_outputs - 1``
are read out as the motor commands (in [0, 1]), followed by ``hidden`` further state units. The
initial state ``z(0)`` is the same fixed value for every unit in every trial, the
``initial_state`` setting (0.5 by default, the midpoint of the logistic's range [check against
Pollack 1991, who sets a fixed initial state]).

Adapted from the paper, and why: Pollack trains by back-propagation with a "backspace" trick and
reads the accept unit only at the end of a string; here the weights are genes in
``weight_range`` and the task decides when the output is scored. His inputs are symbol codes; an
agent's sensors are continuous, so ``y`` is the sensor vector itself.

Weights are stored ``w[target i, input j, state k]`` with the bias input ``j = n_inputs`` and the
bias state ``k = N`` last: the context network's sum for each ``W_ij`` runs over a contiguous row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.controllers._blockshell import BlockController
from evorobot.genome import Block
from evorobot.spec import Range, setting

__all__ = ["Cascaded", "CascadedParams", "CascadedSpec", "CascadedState"]


@dataclass(frozen=True)
class CascadedSpec:
    """Settings of a sequential cascaded network (``[controller]``, less ``type``)."""

    hidden: int = setting(3, ge=0, doc="state units besides the motor (accept) units")
    weight_range: Range = setting((-5.0, 5.0), doc="range of the context network's weights w_ijk (biases included)")
    initial_state: float = setting(0.5, ge=0.0, le=1.0, doc="z(0) of every state unit")


class CascadedParams(NamedTuple):
    """Decoded parameters of B networks: ``w`` (B, N, n_inputs + 1, N + 1) ``[target, input, state]``,
    the bias input and the bias state last."""

    w: FloatArray


class CascadedState(NamedTuple):
    """State of B networks: ``z`` (B, N), the state units' values in (0, 1)."""

    z: FloatArray


@njit(cache=True)
def _step(w, z, x, out):
    """One update of B networks in place; ``out[b] = z[b, :n_out]``.

    w : (B, N, J, N + 1) float64 with J = n_in + 1; z : (B, N); x : (B, n_in); out : (B, n_out).
    """
    n_b, n, n_j, n_k = w.shape
    n_in = n_j - 1
    zb = np.empty(n_k)  # the previous state and its bias 1
    for b in range(n_b):
        for k in range(n):
            zb[k] = z[b, k]
        zb[n] = 1.0
        wb, xb = w[b], x[b]
        for i in range(n):
            acc = 0.0
            for j in range(n_j):
                wij = 0.0  # the function network's weight W_ij(t), made by the context network
                row = wb[i, j]
                for k in range(n_k):
                    wij += row[k] * zb[k]
                acc += wij * (xb[j] if j < n_in else 1.0)
            z[b, i] = 1.0 / (1.0 + np.exp(-acc))
        for k in range(out.shape[1]):
            out[b, k] = z[b, k]


class Cascaded(BlockController):
    """Batched sequential cascaded network of Pollack (1991); see the module docstring."""

    name: ClassVar[str] = "cascaded"
    Spec: ClassVar[type] = CascadedSpec
    Params: ClassVar[type] = CascadedParams

    def _blocks(self, spec: CascadedSpec) -> list[Block]:
        self.n_units = n = self.n_outputs + spec.hidden
        return [Block("w", (n, self.n_inputs + 1, n + 1), *spec.weight_range)]

    def gene_groups(self) -> tuple[IntArray, ...]:
        """One group per state unit ``i``: the context weights ``w[i, :, :]`` that make its row of
        the function network. Every gene is some unit's: no rest group."""
        return self.layout.groups({"w": 0})

    def labels(self) -> dict[str, list[str]]:
        return {"units": [f"m{i}" for i in range(self.n_outputs)] + [f"h{i}" for i in range(self.spec.hidden)],
                "inputs": [f"x{j}" for j in range(self.n_inputs)] + ["1"]}

    def init_state(self, params: CascadedParams) -> CascadedState:
        """Fresh state ``z(0)`` = ``initial_state`` in every unit."""
        return CascadedState(np.full((params.w.shape[0], self.n_units), self.spec.initial_state))

    def step(self, params: CascadedParams, state: CascadedState, inputs: FloatArray, dt: float,
             out: FloatArray) -> None:
        """One update of every network in place (``dt`` ignored); motor units' values to ``out``."""
        _step(params.w, state.z, inputs, out)

    def trace(self, state: CascadedState) -> dict[str, FloatArray]:
        """State units ``z`` (B, N)."""
        return {"z": state.z}
