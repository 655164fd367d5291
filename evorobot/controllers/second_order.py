"""Second-order recurrent network (Giles et al. 1992), batched, discrete-time.

Giles, C. L., Miller, C. B., Chen, D., Chen, H. H., Sun, G. Z. & Lee, Y. C. (1992). Learning and
extracting finite state automata with second-order recurrent neural networks. Neural
Computation 4(3): 393-405.

State units ``S`` (N of them) are updated synchronously, one update per simulation tick::

    S_i(t+1) = g( sum_jk W_ijk S_j(t) I_k(t) + b_i ),    g(x) = 1 / (1 + exp(-x)),

so each input multiplies (gates) the recurrent weights: with one-hot inputs the network holds one
state-transition matrix per input symbol, which is what lets it implement a finite automaton
(Omlin & Giles 1996 set such weights by hand; ``tests/test_second_order.py`` does too).

Units and outputs. As in Giles et al., designated state units are read out: units
``0 .. n_outputs - 1`` are the motor ("response") units, whose values in [0, 1] are the motor
commands, followed by ``hidden`` further state units. The initial state is the paper's: ``S_0(0)
= 1`` (the first response unit) and every other unit 0, in every trial.

Adapted from the paper, and why:

- Giles et al. feed one-hot symbols; an agent's sensors are continuous (rays read 0 when nothing
  is seen), so ``I`` is the sensor vector itself, and with ``constant_input = true`` (default) a
  constant input ``I_K = 1`` is appended: its weights ``W_ijK`` give the first-order recurrent
  terms ``W_ijK S_j`` that keep the network going when every sensor reads 0.
- The paper's network trains by gradient descent; here the weights and biases are genes in
  ``weight_range`` and ``bias_range``.

Weights are stored ``w[target i, source j, input k]``: each unit's sum runs over one contiguous
``(N, K)`` slab.
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

__all__ = ["SecondOrder", "SecondOrderParams", "SecondOrderSpec", "SecondOrderState"]


@dataclass(frozen=True)
class SecondOrderSpec:
    """Settings of a second-order network (``[controller]``, less ``type``)."""

    hidden: int = setting(3, ge=0, doc="state units besides the motor (response) units")
    weight_range: Range = setting((-5.0, 5.0), doc="range of the second-order weights W_ijk")
    bias_range: Range = setting((-5.0, 5.0), doc="range of the biases b_i")
    constant_input: bool = setting(True, doc="append a constant input 1 (first-order recurrent terms)")


class SecondOrderParams(NamedTuple):
    """Decoded parameters of B networks: ``w`` (B, N, N, K) ``[target, source, input]``, ``bias`` (B, N).

    ``K`` is ``n_inputs``, plus one for the constant input.
    """

    w: FloatArray
    bias: FloatArray


class SecondOrderState(NamedTuple):
    """State of B networks: ``s`` (B, N), the state units' values in (0, 1)."""

    s: FloatArray


@njit(cache=True)
def _step(w, bias, s, x, out):
    """One synchronous update of B networks in place; ``out[b] = s[b, :n_out]``.

    w : (B, N, N, K) float64; bias, s : (B, N) float64; x : (B, n_in) float64 with n_in <= K
    (inputs ``n_in .. K - 1`` are the constant 1); out : (B, n_out) float64.
    """
    n_b, n, _, kk = w.shape
    n_in = x.shape[1]
    prod = np.empty((n, kk))  # S_j I_k, from the previous state for every target
    for b in range(n_b):
        sb, xb, wb = s[b], x[b], w[b]
        for j in range(n):
            for k in range(n_in):
                prod[j, k] = sb[j] * xb[k]
            for k in range(n_in, kk):
                prod[j, k] = sb[j]
        for i in range(n):
            acc = bias[b, i]
            wi = wb[i]
            for j in range(n):
                for k in range(kk):
                    acc += wi[j, k] * prod[j, k]
            sb[i] = 1.0 / (1.0 + np.exp(-acc))
        for k in range(out.shape[1]):
            out[b, k] = sb[k]


class SecondOrder(BlockController):
    """Batched second-order recurrent network of Giles et al. (1992); see the module docstring."""

    name: ClassVar[str] = "second_order"
    Spec: ClassVar[type] = SecondOrderSpec
    Params: ClassVar[type] = SecondOrderParams

    def _blocks(self, spec: SecondOrderSpec) -> list[Block]:
        self.n_units = n = self.n_outputs + spec.hidden
        k = self.n_inputs + (1 if spec.constant_input else 0)
        return [Block("w", (n, n, k), *spec.weight_range), Block("bias", (n,), *spec.bias_range)]

    def gene_groups(self) -> tuple[IntArray, ...]:
        """One group per state unit, response (motor) units first: unit ``i``'s slab of
        second-order weights ``w[i, :, :]`` (its incoming weights, over every source unit and
        input) and its bias. The response units are units of the recurrence like the others, so
        every gene is some unit's: no rest group."""
        return self.layout.groups({"w": 0, "bias": 0})

    def labels(self) -> dict[str, list[str]]:
        inputs = [f"x{k}" for k in range(self.n_inputs)] + (["1"] if self.spec.constant_input else [])
        return {"units": [f"m{i}" for i in range(self.n_outputs)] + [f"h{i}" for i in range(self.spec.hidden)],
                "inputs": inputs}

    def init_state(self, params: SecondOrderParams) -> SecondOrderState:
        """Fresh state ``S(0) = (1, 0, ..., 0)`` (Giles et al.) for the B networks."""
        s = np.zeros(params.bias.shape)
        s[:, 0] = 1.0
        return SecondOrderState(s)

    def step(self, params: SecondOrderParams, state: SecondOrderState, inputs: FloatArray, dt: float,
             out: FloatArray) -> None:
        """One update of every network in place (``dt`` ignored); motor units' values to ``out``."""
        _step(params.w, params.bias, state.s, inputs, out)

    def trace(self, state: SecondOrderState) -> dict[str, FloatArray]:
        """State units ``s`` (B, N)."""
        return {"s": state.s}
