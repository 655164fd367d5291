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
``weight_range``, evolved or trained by BPTT, full or truncated (contract item 14,
:mod:`evorobot.training.bptt`; without the backspace trick, and the initial state, a setting,
gets no gradient), and the task decides when the output is scored. His inputs are symbol codes; an
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
from evorobot.controllers._dense import output_delta
from evorobot.controllers.base import GradientModel
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


@njit(cache=True, inline="always")
def _update(w, zb, x, z):
    """One network's update: ``z[i] = g(sum_j W_ij(t) yb_j)`` with ``W_ij(t) = sum_k w[i, j, k] zb[k]``.

    w : (N, J, N + 1); zb : (N + 1,) the previous state and its bias 1; x : (J - 1,) the inputs;
    z : (N,) receives the new state (it may hold the previous one: ``zb`` is a copy).
    """
    n, n_j, n_k = w.shape
    n_in = n_j - 1
    for i in range(n):
        acc = 0.0
        for j in range(n_j):
            wij = 0.0  # the function network's weight W_ij(t), made by the context network
            row = w[i, j]
            for k in range(n_k):
                wij += row[k] * zb[k]
            acc += wij * (x[j] if j < n_in else 1.0)
        z[i] = 1.0 / (1.0 + np.exp(-acc))


@njit(cache=True)
def _step(w, z, x, out):
    """One update of B networks in place; ``out[b] = z[b, :n_out]``.

    w : (B, N, J, N + 1) float64 with J = n_in + 1; z : (B, N); x : (B, n_in); out : (B, n_out).
    """
    n_b, n = z.shape
    zb = np.empty(n + 1)  # the previous state and its bias 1
    for b in range(n_b):
        for k in range(n):
            zb[k] = z[b, k]
        zb[n] = 1.0
        _update(w[b], zb, x[b], z[b])
        for k in range(out.shape[1]):
            out[b, k] = z[b, k]


@njit(cache=True)
def _backward(w, x, zs, inject, length, window, stride, g, da, da_next):
    """BPTT(window; stride) of one sequence through the update of :func:`_update`; adds to ``g``.

    ``zs`` (T + 1, N): ``zs[0]`` the fixed initial state, ``zs[t + 1]`` the state after tick t;
    ``inject`` (T, N) the errors ``dL/da(t)`` on the net inputs from tick t's own outputs.
    Blocks of ``stride`` ticks, each block's errors carried back ``window`` ticks from its last
    tick, as :func:`evorobot.controllers._dense.recurrent_backward` (``window = stride = length``:
    full BPTT). Through a tick: ``da_k(t) = z_k(t)(1 - z_k(t)) sum_i da_i(t + 1) sum_j w[i, j, k]
    yb_j(t + 1)``; ``dL/dw[i, j, k] += da_i(t) yb_j(t) zb_k(t - 1)``. da, da_next : (N,) scratch.
    """
    n, n_j = w.shape[0], w.shape[1]
    n_in = n_j - 1
    start = 0
    while start < length:
        end = min(start + stride, length) - 1
        for i in range(n):
            da_next[i] = 0.0
        for t in range(end, max(0, end - window + 1) - 1, -1):
            for k in range(n):
                acc = 0.0
                if t < end:
                    for i in range(n):
                        e = da_next[i]
                        if e != 0.0:
                            for j in range(n_j):
                                acc += e * w[i, j, k] * (x[t + 1, j] if j < n_in else 1.0)
                z = zs[t + 1, k]
                da[k] = acc * z * (1.0 - z)
                if t >= start:
                    da[k] += inject[t, k]
            for i in range(n):
                for j in range(n_j):
                    c = da[i] * (x[t, j] if j < n_in else 1.0)
                    for k in range(n):
                        g[i, j, k] += c * zs[t, k]
                    g[i, j, n] += c
            for i in range(n):
                da_next[i] = da[i]
        start = end + 1


@njit(cache=True)
def _gradient(w, inputs, targets, weights, lengths, z0, loss, window, stride, g):
    """Summed loss of one network (w (N, J, N + 1)) over R sequences (R, T, .) from the initial
    state ``z0`` and its gradient, added to ``g`` (contract item 14): the sequence run by
    :func:`_update` (the episode's tick), the motor units' errors injected on their net inputs,
    carried back by :func:`_backward`."""
    n_r, n_t, _ = inputs.shape
    n = w.shape[0]
    n_o = targets.shape[2]
    zs, inject, dz = np.zeros((n_t + 1, n)), np.zeros((n_t, n)), np.empty(n_o)
    zb, da, da_next = np.empty(n + 1), np.empty(n), np.empty(n)
    total = 0.0
    for r in range(n_r):
        length = lengths[r]
        for k in range(n):
            zs[0, k] = z0
        zb[n] = 1.0
        for t in range(length):
            for k in range(n):
                zb[k] = zs[t, k]
            _update(w, zb, inputs[r, t], zs[t + 1])
            total += output_delta(zs[t + 1, :n_o], targets[r, t], weights[r, t], loss, dz)
            for k in range(n):
                inject[t, k] = dz[k] if k < n_o else 0.0
        _backward(w, inputs[r], zs, inject, length, window, stride, g, da, da_next)
    return total


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

    def gradient_model(self, where: str) -> GradientModel:
        """BPTT, full or truncated, through the state units (contract item 14); no RTRL. The
        initial state is a setting, not a parameter: it gets no gradient."""

        def bptt(params: CascadedParams, inputs: FloatArray, targets: FloatArray, weights: FloatArray,
                 lengths: IntArray, loss: int, window: int, stride: int) -> tuple[float, CascadedParams]:
            grads = CascadedParams(np.zeros_like(params.w))
            total = _gradient(params.w[0], inputs, targets, weights, lengths, self.spec.initial_state, loss, window,
                              stride, grads.w[0])
            return float(total), grads

        return GradientModel(bptt, None, self.n_units)

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
