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
  remember by default, e.g. ``[0, 5]``), evolved, or trained by gradient descent (contract item
  14: full or truncated BPTT, :mod:`evorobot.training.gradient`). The papers' training truncates
  the gradient at the gates and cell inputs (only the cell state's error flows back, the
  "constant error carousel"); here the gradient is the exact one of the whole unrolled network
  (full BPTT, as Gers et al.'s successors and the common form today compute it). No RTRL.

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
from evorobot.controllers._dense import output_delta
from evorobot.controllers.base import GradientModel
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


@njit(cache=True, inline="always")
def _cell_tick(w, bias, z, a, c, h):
    """One LSTM update of one network in place: the gates' net inputs ``a`` (4, C) from ``z``
    (inputs then the previous cell outputs), then ``c`` and ``h`` (C,)."""
    n_c, n_src = w.shape[1], w.shape[2]
    for q in range(4):
        for i in range(n_c):
            acc = bias[q, i]
            wq = w[q, i]
            for k in range(n_src):
                acc += wq[k] * z[k]
            a[q, i] = acc
    for i in range(n_c):
        gi = 1.0 / (1.0 + np.exp(-a[0, i]))
        gf = 1.0 / (1.0 + np.exp(-a[1, i]))
        go = 1.0 / (1.0 + np.exp(-a[2, i]))
        c[i] = gf * c[i] + gi * np.tanh(a[3, i])
        h[i] = go * np.tanh(c[i])


@njit(cache=True, inline="always")
def _readout(w_out, b_out, h, out):
    """out = sigmoid(b_out + w_out h), one network."""
    for m in range(out.shape[0]):
        acc = b_out[m]
        for i in range(h.shape[0]):
            acc += w_out[m, i] * h[i]
        out[m] = 1.0 / (1.0 + np.exp(-acc))


@njit(cache=True)
def _step(w, bias, w_out, b_out, c, h, x, out):
    """One LSTM update of B networks in place, then the sigmoid readout into ``out`` (B, n_out)."""
    n_b, _, n_c, n_src = w.shape
    n_in = x.shape[1]
    z = np.empty(n_src)
    a = np.empty((4, n_c))
    for b in range(n_b):
        for k in range(n_in):
            z[k] = x[b, k]
        for k in range(n_c):
            z[n_in + k] = h[b, k]
        _cell_tick(w[b], bias[b], z, a, c[b], h[b])
        _readout(w_out[b], b_out[b], h[b], out[b])


@njit(cache=True)
def _run(w, bias, w_out, b_out, x, length, z, a, c, h, out):
    """One network from rest over one sequence ``x`` (T, n_in), the ticks of :func:`_step`
    recorded: ``z`` (T, S) each tick's sources, ``a`` (T, 4, C) gate net inputs, ``c``, ``h``
    (T, C) cell states and outputs after the tick, ``out`` (T, n_out)."""
    n_in, n_c = x.shape[1], c.shape[1]
    for t in range(length):
        for k in range(n_in):
            z[t, k] = x[t, k]
        for k in range(n_c):
            z[t, n_in + k] = h[t - 1, k] if t > 0 else 0.0
            c[t, k] = c[t - 1, k] if t > 0 else 0.0
        _cell_tick(w, bias, z[t], a[t], c[t], h[t])
        _readout(w_out, b_out, h[t], out[t])


@njit(cache=True)
def _backward(w, z, a, c, h, inject, length, window, stride, g_w, g_bias, da, dh, dc, seen):
    """BPTT(window; stride) through the cells of one sequence recorded by :func:`_run` (the
    blocks and windows of :func:`~evorobot.controllers._dense.recurrent_backward`: the state
    ``(c, h)`` before a window is held fixed); ``inject`` (T, C) the errors ``dL/dh(t)`` from
    tick t's own outputs. Adds to ``g_w`` (4, C, S), ``g_bias`` (4, C); ``seen`` (T, C) receives
    the error ``dL/dh(t)`` that reached each tick (through every later tick in full BPTT, the
    quantity whose decay over time is the vanishing gradient); da (4, C), dh, dc (2, C) scratch."""
    n_c, n_src = w.shape[1], w.shape[2]
    n_in = n_src - n_c
    start = 0
    while start < length:
        end = min(start + stride, length) - 1
        for i in range(n_c):
            dh[0, i] = 0.0  # dL/dh(t) through tick t + 1 (none at the window's end)
            dc[0, i] = 0.0  # dL/dc(t) through c(t + 1)
        for t in range(end, max(0, end - window + 1) - 1, -1):
            for i in range(n_c):
                gi = 1.0 / (1.0 + np.exp(-a[t, 0, i]))
                gf = 1.0 / (1.0 + np.exp(-a[t, 1, i]))
                go = 1.0 / (1.0 + np.exp(-a[t, 2, i]))
                gg = np.tanh(a[t, 3, i])
                tc = np.tanh(c[t, i])
                e = dh[0, i] + (inject[t, i] if t >= start else 0.0)
                seen[t, i] = e
                d_c = dc[0, i] + e * go * (1.0 - tc * tc)
                c_prev = c[t - 1, i] if t > 0 else 0.0
                da[0, i] = d_c * gg * gi * (1.0 - gi)
                da[1, i] = d_c * c_prev * gf * (1.0 - gf)
                da[2, i] = e * tc * go * (1.0 - go)
                da[3, i] = d_c * gi * (1.0 - gg * gg)
                dc[1, i] = d_c * gf
            for j in range(n_c):
                dh[1, j] = 0.0
            for q in range(4):
                for i in range(n_c):
                    d = da[q, i]
                    g_bias[q, i] += d
                    for k in range(n_src):
                        g_w[q, i, k] += d * z[t, k]
                    for j in range(n_c):
                        dh[1, j] += w[q, i, n_in + j] * d
            for i in range(n_c):
                dh[0, i] = dh[1, i]
                dc[0, i] = dc[1, i]
        start = end + 1


@njit(cache=True)
def _gradient(w, bias, w_out, b_out, inputs, targets, weights, lengths, loss, window, stride, g_w, g_bias, g_out,
              g_b_out, seen):
    """Summed loss of one network over R sequences (R, T, .) and its BPTT(window; stride)
    gradient, added to the ``g_*`` (contract item 14): the readout's directly, the cells' by
    :func:`_backward`; ``seen`` (R, T, C) receives each tick's ``dL/dh(t)``."""
    n_r, n_t, _ = inputs.shape
    n_c, n_src, n_o = w.shape[1], w.shape[2], b_out.shape[0]
    z, a = np.zeros((n_t, n_src)), np.zeros((n_t, 4, n_c))
    c, h, out = np.zeros((n_t, n_c)), np.zeros((n_t, n_c)), np.zeros((n_t, n_o))
    inject, dz = np.zeros((n_t, n_c)), np.empty(n_o)
    da, dh, dc = np.empty((4, n_c)), np.empty((2, n_c)), np.empty((2, n_c))
    total = 0.0
    for r in range(n_r):
        length = lengths[r]
        _run(w, bias, w_out, b_out, inputs[r], length, z, a, c, h, out)
        for t in range(length):
            total += output_delta(out[t], targets[r, t], weights[r, t], loss, dz)
            for m in range(n_o):
                g_b_out[m] += dz[m]
                for i in range(n_c):
                    g_out[m, i] += dz[m] * h[t, i]
            for i in range(n_c):
                e = 0.0
                for m in range(n_o):
                    e += w_out[m, i] * dz[m]
                inject[t, i] = e
        _backward(w, z, a, c, h, inject, length, window, stride, g_w, g_bias, da, dh, dc, seen[r])
    return total


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

    def gradient_model(self, where: str) -> GradientModel:
        """BPTT, full or truncated, through the cells (contract item 14); no RTRL (``rtrl`` None)."""

        def bptt(params: LSTMParams, inputs: FloatArray, targets: FloatArray, weights: FloatArray,
                 lengths: IntArray, loss: int, window: int, stride: int) -> tuple[float, LSTMParams]:
            total, grads, _ = self._bptt(params, inputs, targets, weights, lengths, loss, window, stride)
            return total, grads

        return GradientModel(bptt, None, self.spec.cells)

    def hidden_errors(self, params: LSTMParams, inputs: FloatArray, targets: FloatArray, weights: FloatArray,
                      lengths: IntArray, loss: int) -> FloatArray:
        """``dL/dh(t)`` (R, T, C), the loss's full-BPTT derivative with respect to each tick's cell
        outputs (through every later tick), for one network (``params`` of batch 1) on R sequences
        laid out as in :class:`~evorobot.controllers.base.GradientModel`; 0 after a sequence's end."""
        n_t = inputs.shape[1]
        return self._bptt(params, inputs, targets, weights, lengths, loss, n_t, n_t)[2]

    @staticmethod
    def _bptt(params: LSTMParams, inputs: FloatArray, targets: FloatArray, weights: FloatArray, lengths: IntArray,
              loss: int, window: int, stride: int) -> tuple[float, LSTMParams, FloatArray]:
        grads = LSTMParams(*(np.zeros_like(p) for p in params))
        seen = np.zeros(inputs.shape[:2] + (params.w.shape[2],))
        total = _gradient(*(p[0] for p in params), inputs, targets, weights, lengths, loss, window, stride,
                          *(g[0] for g in grads), seen)
        return float(total), grads, seen

    def trace(self, state: LSTMState) -> dict[str, FloatArray]:
        """Cell states ``c`` and cell outputs ``h``, (B, C) each."""
        return {"c": state.c, "h": state.h}
