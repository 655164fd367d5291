"""Long short-term memory, LSTM (Hochreiter & Schmidhuber 1997) with forget gates (Gers et al. 2000).

Hochreiter, S. & Schmidhuber, J. (1997). Long short-term memory. Neural Computation 9(8):
1735-1780. Gers, F. A., Schmidhuber, J. & Cummins, F. (2000). Learning to forget: continual
prediction with LSTM. Neural Computation 12(10): 2451-2471.

``cells`` memory cells, one update per simulation tick. With ``z = [x(t), h(t-1)]`` (the inputs
and every cell's previous output)::

    i = sigma(W_i z + b_i)    input gate         c(t) = f * c(t-1) + i * g
    f = sigma(W_f z + b_f)    forget gate        h(t) = o * tanh(c(t))
    o = sigma(W_o z + b_o)    output gate
    g = tanh(W_g z + b_g)     cell input         motors = sigma(W_y h(t) + b_y)

``sigma`` is the logistic function; the motor commands are a sigmoid readout of the cell outputs,
in [0, 1]. Cell states and outputs start at 0 in every trial.

Adapted from the papers, and why:

- one cell per memory block (the papers let a block of cells share its gates); a block of one
  is the common form today and keeps the genome simple;
- the squashing functions are ``tanh`` (range [-1, 1]) for the cell input and the cell output,
  where Gers et al. use logistic curves of range [-2, 2] and [-1, 1]; no peephole connections
  (those came later, Gers & Schmidhuber 2000, "Recurrent nets that time and count");
- the weights and biases are genes (weights in ``weight_range``, biases in ``bias_range``; the
  forget gate's biases in ``forget_bias_range``: Gers et al. start them positive so that cells
  remember by default, e.g. ``[0, 5]``) instead of being trained by gradient descent.

Weights are stored ``w[gate, cell, source]`` (gates in the order i, f, o, g; sources: the
inputs, then the cells' outputs), so each gate's sum runs over contiguous memory.
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

__all__ = ["GATES", "LSTM", "LSTMParams", "LSTMSpec", "LSTMState"]

#: Order of the gate rows in ``w`` and ``bias``.
GATES = ("input", "forget", "output", "cell_input")


@dataclass(frozen=True)
class LSTMSpec:
    """Settings of an LSTM (``[controller]``, less ``type``)."""

    cells: int = setting(4, ge=1, doc="number of memory cells (one per block)")
    weight_range: Range = setting((-5.0, 5.0), doc="range of gate, cell-input and readout weights")
    bias_range: Range = setting((-5.0, 5.0), doc="range of the input/output gate, cell-input and readout biases")
    forget_bias_range: Range = setting((-5.0, 5.0), doc="range of the forget gates' biases (Gers et al.: positive)")


class LSTMParams(NamedTuple):
    """Decoded parameters of B networks.

    Attributes
    ----------
    w : FloatArray, shape (B, 4, C, n_inputs + C)
        ``[gate, cell, source]``, gates in :data:`GATES` order, sources inputs then cell outputs.
    bias : FloatArray, shape (B, 4, C)
    w_out : FloatArray, shape (B, n_outputs, C)
        Readout weights ``[motor, cell]``.
    b_out : FloatArray, shape (B, n_outputs)
    """

    w: FloatArray
    bias: FloatArray
    w_out: FloatArray
    b_out: FloatArray


class LSTMState(NamedTuple):
    """State of B networks: cell states ``c`` (B, C) and cell outputs ``h`` (B, C)."""

    c: FloatArray
    h: FloatArray


@njit(cache=True)
def _step(w, bias, w_out, b_out, c, h, x, out):
    """One LSTM update of B networks in place, then the sigmoid readout into ``out`` (B, n_out)."""
    n_b, _, n_c, n_src = w.shape
    n_in = x.shape[1]
    z = np.empty(n_src)
    a = np.empty((4, n_c))
    for b in range(n_b):
        wb, cb, hb = w[b], c[b], h[b]
        for k in range(n_in):
            z[k] = x[b, k]
        for k in range(n_c):
            z[n_in + k] = hb[k]
        for q in range(4):
            for i in range(n_c):
                acc = bias[b, q, i]
                wq = wb[q, i]
                for k in range(n_src):
                    acc += wq[k] * z[k]
                a[q, i] = acc
        for i in range(n_c):
            gi = 1.0 / (1.0 + np.exp(-a[0, i]))
            gf = 1.0 / (1.0 + np.exp(-a[1, i]))
            go = 1.0 / (1.0 + np.exp(-a[2, i]))
            cb[i] = gf * cb[i] + gi * np.tanh(a[3, i])
            hb[i] = go * np.tanh(cb[i])
        for m in range(out.shape[1]):
            acc = b_out[b, m]
            for i in range(n_c):
                acc += w_out[b, m, i] * hb[i]
            out[b, m] = 1.0 / (1.0 + np.exp(-acc))


class LSTM(BlockController):
    """Batched LSTM with forget gates and a sigmoid motor readout; see the module docstring."""

    name: ClassVar[str] = "lstm"
    Spec: ClassVar[type] = LSTMSpec
    Params: ClassVar[type] = LSTMParams

    def _blocks(self, spec: LSTMSpec) -> list[Block]:
        c, n_src = spec.cells, self.n_inputs + spec.cells
        lo = np.full((4, c), spec.bias_range[0])
        hi = np.full((4, c), spec.bias_range[1])
        lo[1], hi[1] = spec.forget_bias_range
        return [
            Block("w", (4, c, n_src), *spec.weight_range),
            Block("bias", (4, c), lo, hi),
            Block("w_out", (self.n_outputs, c), *spec.weight_range),
            Block("b_out", (self.n_outputs,), *spec.bias_range),
        ]

    def gene_groups(self) -> tuple[IntArray, ...]:
        """One group per memory cell (block of one cell): the weights and biases of its input,
        forget and output gates and cell input (``w[:, i, :]``, ``bias[:, i]``, over the inputs
        and every cell's output) and its outgoing readout weights ``w_out[:, i]``, as ESP's
        hidden neurons hold their output weights; then the readout biases ``b_out`` (the rest)."""
        return self.layout.groups({"w": 1, "bias": 1, "w_out": 1})

    def labels(self) -> dict[str, list[str]]:
        return {"gates": list(GATES),
                "sources": [f"x{k}" for k in range(self.n_inputs)] + [f"h{i}" for i in range(self.spec.cells)]}

    def init_state(self, params: LSTMParams) -> LSTMState:
        """Fresh zero cell states and outputs, (B, C) each."""
        shape = (params.w.shape[0], params.w.shape[2])
        return LSTMState(np.zeros(shape), np.zeros(shape))

    def step(self, params: LSTMParams, state: LSTMState, inputs: FloatArray, dt: float, out: FloatArray) -> None:
        """One update of every network in place (``dt`` ignored); the readout to ``out``."""
        _step(params.w, params.bias, params.w_out, params.b_out, state.c, state.h, inputs, out)

    def trace(self, state: LSTMState) -> dict[str, FloatArray]:
        """Cell states ``c`` and cell outputs ``h``, (B, C) each."""
        return {"c": state.c, "h": state.h}
