"""Bidirectional recurrent neural network (Schuster & Paliwal 1997), batched, discrete-time.

Schuster, M. & Paliwal, K. K. (1997). Bidirectional recurrent neural networks. IEEE Transactions
on Signal Processing 45(11): 2673-2681.

Two chains of hidden units read the same inputs, one forward in time, one backward, and are not
connected to each other; both feed the output layer. Over a sequence ``x(1..T)``::

    f(t) = act(b_f + W_in_f x(t) + W_rec_f f(t - 1)),   f(0) = 0          (forward chain)
    g(t) = act(b_b + W_in_b x(t) + W_rec_b g(t + 1)),   g(T + 1) = 0      (backward chain)
    y(t) = sigmoid(b_o + W_out_f f(t) + W_out_b g(t))                     (motor commands in [0, 1])

so ``y(t)`` depends on the inputs before and after t. Parameters (:class:`BRNNParams`) are
evolved genes in ``weight_range`` / ``bias_range``; weights are stored ``[target, source]``.

Two modes (the ``mode`` setting):

- ``"offline"``, the paper's setting: on a sequence data-set task whose inputs do not depend on
  the outputs, the network sees the whole input sequence before it answers. At the start of each
  trial the episode calls :meth:`BRNN.begin_sequences` (controller contract item 12) with every
  trial's whole input sequence; one numba call computes both chains and the outputs of every
  tick, and each ``step`` then emits the precomputed output of its tick. A trial's backward chain
  starts at the trial's own last element (``g(length) = 0``), so its outputs never depend on the
  zero padding after it (nor on how long the data set's longest sequence is). Anywhere else
  :func:`evorobot.setup.build` refuses this mode.
- ``"window"`` (the default), a causal adaptation so that the type is a controller on every world,
  bodies included, where the future is not known: at tick t the network runs over the window of
  the last ``window`` inputs ``x(t - K + 1 .. t)``. The forward chain is the paper's, carried from
  tick to tick over the whole trial (it is causal already, costs one update per tick and
  remembers beyond the window). The backward chain restarts from 0 at every tick, since the newest
  input changes: it reads the window from the newest input back to the oldest, and its state
  there, ``g_t(t - K + 1)``, which has read the whole window in reverse, is what the output
  reads together with ``f(t)``: ``y(t) = sigmoid(b_o + W_out_f f(t) + W_out_b g_t(t - K + 1))``.
  Early in a trial the window holds the ``t`` inputs seen so far. Cost: ``K`` backward updates
  per tick.

Adapted from the paper, and why: the paper trains by back-propagation through time with
logistic or linear units; here every weight and bias is evolved, or, in offline mode, trained as
the paper trains it (contract item 14, :mod:`evorobot.training.bptt`: full BPTT through both
chains over the whole sequence, the backward chain's as a forward chain over the reversed
sequence; no truncation, since every output reads both ends of the sequence, and no RTRL); the
window mode has no gradient. The hidden units' function is
a setting (``tanh`` by default, whose rest point 0 is where both chains start) and the output
units are logistic (motor commands in [0, 1]). The window mode is ours (see above).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.controllers._dense import (
    BPTT,
    SIGMOID,
    affine,
    copy_into,
    dsquash,
    layer,
    matvec_add,
    output_delta,
    recurrent_gradient,
    recurrent_scratch,
    squash,
)
from evorobot.controllers.base import GradientModel
from evorobot.controllers.discrete import DiscreteNetwork, DiscreteSpec
from evorobot.errors import ConfigError
from evorobot.genome import Block
from evorobot.spec import setting

__all__ = ["BRNN", "BRNNParams", "BRNNSpec", "BRNNState"]

MODES = ("window", "offline")


@dataclass(frozen=True)
class BRNNSpec(DiscreteSpec):
    """Settings of a bidirectional network (``[controller]``, less ``type``)."""

    forward: int = setting(4, ge=1, doc="units of the forward chain")
    backward: int = setting(4, ge=1, doc="units of the backward chain")
    mode: str = setting("window", choices=MODES,
                        doc="window: causal, the backward chain over the last `window` inputs (every world); "
                            "offline: whole sequences first (sequence data sets only)")
    window: int = setting(5, ge=1, le=1000, doc="inputs the backward chain reads each tick (window mode)")


class BRNNParams(NamedTuple):
    """Decoded parameters of B networks (F forward units, G backward units).

    w_in_f (B, F, n_in), w_rec_f (B, F, F), b_f (B, F); w_in_b (B, G, n_in), w_rec_b (B, G, G),
    b_b (B, G); w_out_f (B, n_out, F), w_out_b (B, n_out, G), b_o (B, n_out).
    """

    w_in_f: FloatArray
    w_rec_f: FloatArray
    b_f: FloatArray
    w_in_b: FloatArray
    w_rec_b: FloatArray
    b_b: FloatArray
    w_out_f: FloatArray
    w_out_b: FloatArray
    b_o: FloatArray


class BRNNState(NamedTuple):
    """State of B networks.

    ``f`` (B, F) and ``g`` (B, G): the chains' states read by the last output (traced);
    ``count`` (B,) ticks so far. Window mode: ``buf`` (B, K, n_in), the last K inputs (a ring, the
    input of tick ``c`` at ``c % K``). Offline mode (after :meth:`BRNN.begin_sequences`): ``ys``
    (B, T, n_out), ``fs`` (B, T, F), ``gs`` (B, T, G), the outputs and chains of every tick.
    Arrays a mode does not use have a zero-length axis.
    """

    f: FloatArray
    g: FloatArray
    count: IntArray
    buf: FloatArray
    ys: FloatArray
    fs: FloatArray
    gs: FloatArray


@njit(cache=True, inline="always")
def _output(w_out_f, f, w_out_b, g, b_o, y, acc):
    """y = sigmoid(b_o + w_out_f f + w_out_b g)."""
    s = acc[:y.shape[0]]
    affine(b_o, w_out_f, f, s)
    matvec_add(w_out_b, g, s)
    squash(s, SIGMOID, y)


@njit(cache=True)
def _window_step(w_in_f, w_rec_f, b_f, w_in_b, w_rec_b, b_b, w_out_f, w_out_b, b_o, f, g, count, buf, x, kind,
                 out):
    """One tick of B networks in window mode, in place (see the module docstring).

    x : (B, n_in); buf : (B, K, n_in) ring of past inputs; count : (B,); f : (B, F); g : (B, G);
    out : (B, n_out).
    """
    n_b, k_win = buf.shape[0], buf.shape[1]
    acc = np.empty(max(f.shape[1], g.shape[1], out.shape[1]))
    for b in range(n_b):
        c = count[b]
        slot = buf[b, c % k_win]
        for k in range(x.shape[1]):
            slot[k] = x[b, k]
        c += 1
        count[b] = c
        layer(w_in_f[b], x[b], w_rec_f[b], f[b], b_f[b], kind, f[b], acc)
        gb = g[b]
        for i in range(gb.shape[0]):
            gb[i] = 0.0
        for j in range(min(c, k_win)):  # newest to oldest
            layer(w_in_b[b], buf[b, (c - 1 - j) % k_win], w_rec_b[b], gb, b_b[b], kind, gb, acc)
        _output(w_out_f[b], f[b], w_out_b[b], gb, b_o[b], out[b], acc)


@njit(cache=True)
def _offline_one(w_in_f, w_rec_f, b_f, w_in_b, w_rec_b, b_b, w_out_f, w_out_b, b_o, xs, length, kind, fs, gs, ys,
                 acc, zf, zg):
    """Both chains and the outputs of ONE network over one sequence ``xs`` (T, n_in) of ``length``
    (see :func:`_offline`); fs (T, F), gs (T, G), ys (T, n_out); acc, zf (F,), zg (G,) scratch,
    zf and zg all zero."""
    n_t = xs.shape[0]
    for t in range(n_t):
        prev = zf if t == 0 else fs[t - 1]
        layer(w_in_f, xs[t], w_rec_f, prev, b_f, kind, fs[t], acc)
    last = length - 1
    for t in range(n_t - 1, -1, -1):
        nxt = zg if t == n_t - 1 or t == last else gs[t + 1]
        layer(w_in_b, xs[t], w_rec_b, nxt, b_b, kind, gs[t], acc)
    for t in range(n_t):
        _output(w_out_f, fs[t], w_out_b, gs[t], b_o, ys[t], acc)


@njit(cache=True)
def _offline(w_in_f, w_rec_f, b_f, w_in_b, w_rec_b, b_b, w_out_f, w_out_b, b_o, xs, lengths, kind, fs, gs, ys):
    """Both chains and the outputs of B networks over whole sequences.

    xs : (B, T, n_in); lengths : (B,), the backward chain starts from 0 at tick ``lengths - 1``
    (and at T - 1: ticks past a sequence's end see only its zero padding); fs : (B, T, F),
    gs : (B, T, G), ys : (B, T, n_out) receive the chains and outputs of every tick.
    """
    acc = np.empty(max(fs.shape[2], gs.shape[2], ys.shape[2]))
    zf = np.zeros(fs.shape[2])
    zg = np.zeros(gs.shape[2])
    for b in range(xs.shape[0]):
        _offline_one(w_in_f[b], w_rec_f[b], b_f[b], w_in_b[b], w_rec_b[b], b_b[b], w_out_f[b], w_out_b[b], b_o[b],
                     xs[b], lengths[b], kind, fs[b], gs[b], ys[b], acc, zf, zg)


@njit(cache=True, inline="always")
def _readout_backward(w_out, s, dz, kind, g_out, inject):
    """One chain's share of the readout backwards: ``g_out += dz s^T`` and ``inject = (w_out^T dz)
    f'(s)``, the error reaching the chain's net inputs from the tick's outputs."""
    for k in range(dz.shape[0]):
        for j in range(s.shape[0]):
            g_out[k, j] += dz[k] * s[j]
    for j in range(s.shape[0]):
        e = 0.0
        for k in range(dz.shape[0]):
            e += w_out[k, j] * dz[k]
        inject[j] = e * dsquash(s[j], kind)


@njit(cache=True)
def _gradient(w_in_f, w_rec_f, b_f, w_in_b, w_rec_b, b_b, w_out_f, w_out_b, b_o, inputs, targets, weights, lengths,
              kind, loss, g_in_f, g_rec_f, g_b_f, g_in_b, g_rec_b, g_b_b, g_out_f, g_out_b, g_b_o):
    """Summed loss of one offline network over R sequences (R, T, .) and its gradient, added to the
    ``g_*`` (contract item 14): the sequence run by :func:`_offline_one`, the output layer's
    gradient directly, each chain's by full BPTT
    (:func:`~evorobot.controllers._dense.recurrent_backward`) - the forward chain's forward in
    time, the backward chain's over the sequence reversed (``g(t)`` reads ``g(t + 1)``: reversed,
    it is a forward chain from ``g(length) = 0``)."""
    n_r, n_t, n_x = inputs.shape
    n_f, n_g, n_o = b_f.shape[0], b_b.shape[0], b_o.shape[0]
    fs, gs, ys = np.zeros((n_t, n_f)), np.zeros((n_t, n_g)), np.zeros((n_t, n_o))
    inj_f, inj_b, dz = np.zeros((n_t, n_f)), np.zeros((n_t, n_g)), np.empty(n_o)
    xr, gr = np.zeros((n_t, n_x)), np.zeros((n_t, n_g))
    acc, zf, zg = np.empty(max(n_f, n_g, n_o)), np.zeros(n_f), np.zeros(n_g)
    scratch_f, scratch_b = recurrent_scratch(n_f, n_x, BPTT), recurrent_scratch(n_g, n_x, BPTT)
    total = 0.0
    for r in range(n_r):
        length = lengths[r]
        _offline_one(w_in_f, w_rec_f, b_f, w_in_b, w_rec_b, b_b, w_out_f, w_out_b, b_o, inputs[r], length, kind,
                     fs, gs, ys, acc, zf, zg)
        for t in range(length):
            total += output_delta(ys[t], targets[r, t], weights[r, t], loss, dz)
            u = length - 1 - t  # the backward chain's tick in reversed time
            for k in range(n_o):
                g_b_o[k] += dz[k]
            _readout_backward(w_out_f, fs[t], dz, kind, g_out_f, inj_f[t])
            _readout_backward(w_out_b, gs[t], dz, kind, g_out_b, inj_b[u])
            copy_into(gs[t], gr[u])
            copy_into(inputs[r, t], xr[u])
        recurrent_gradient(BPTT, w_rec_f, inputs[r], fs, inj_f, length, kind, n_f, length, length, g_in_f, g_rec_f,
                           g_b_f, scratch_f)
        recurrent_gradient(BPTT, w_rec_b, xr, gr, inj_b, length, kind, n_g, length, length, g_in_b, g_rec_b, g_b_b,
                           scratch_b)
    return total


@njit(cache=True)
def _emit(ys, fs, gs, count, f, g, out):
    """Offline mode: tick ``count[b]``'s precomputed output and chains to ``out``, ``f``, ``g``."""
    for b in range(ys.shape[0]):
        t = count[b]
        out[b, :] = ys[b, t]
        f[b, :] = fs[b, t]
        g[b, :] = gs[b, t]
        count[b] = t + 1


class BRNN(DiscreteNetwork):
    """Batched bidirectional recurrent network (see the module docstring)."""

    name: ClassVar[str] = "brnn"
    Spec: ClassVar[type] = BRNNSpec
    Params: ClassVar[type] = BRNNParams
    State = BRNNState

    def __init__(self, spec: BRNNSpec, n_inputs: int, n_outputs: int, dt: float, where: str = "[controller]") -> None:
        super().__init__(spec, n_inputs, n_outputs, dt, where)
        self.offline = spec.mode == "offline"

    def _blocks(self, spec: BRNNSpec) -> list[Block]:
        n_in, n_out, nf, ng = self.n_inputs, self.n_outputs, spec.forward, spec.backward
        return [self._weights("w_in_f", nf, n_in), self._weights("w_rec_f", nf, nf), self._biases("b_f", nf),
                self._weights("w_in_b", ng, n_in), self._weights("w_rec_b", ng, ng), self._biases("b_b", ng),
                self._weights("w_out_f", n_out, nf), self._weights("w_out_b", n_out, ng),
                self._biases("b_o", n_out)]

    def _state_sizes(self) -> tuple[int, ...]:
        return (self.spec.forward, self.spec.backward)

    def gene_groups(self) -> tuple[IntArray, ...]:
        """ESP's units: forward unit ``i`` holds ``w_in_f[i, :]``, ``w_rec_f[i, :]``, ``b_f[i]`` and
        ``w_out_f[:, i]``; backward unit ``i`` (numbered after the forward ones) likewise; the output
        biases ``b_o`` are the rest."""
        nf = self.spec.forward
        return self.layout.groups({"w_in_f": 0, "w_rec_f": 0, "b_f": 0, "w_out_f": 1,
                                   "w_in_b": (0, nf), "w_rec_b": (0, nf), "b_b": (0, nf), "w_out_b": (1, nf)})

    def labels(self) -> dict[str, list[str]]:
        return {"forward": [f"f{i}" for i in range(self.spec.forward)],
                "backward": [f"g{i}" for i in range(self.spec.backward)]}

    def gradient_model(self, where: str) -> GradientModel:
        """Offline mode: BPTT through both chains over whole sequences (contract item 14, the
        paper's training); no RTRL (the backward chain reads the future) and no truncation (a
        window shorter than the sequence is refused: each output reads both ends of it)."""
        if not self.offline:
            raise ConfigError(f"{where}: controller type `{self.name}` has gradient kernels in mode = \"offline\" "
                              "only (the window mode restarts its backward chain every tick)")

        def bptt(params: BRNNParams, inputs: FloatArray, targets: FloatArray, weights: FloatArray,
                 lengths: IntArray, loss: int, window: int, stride: int) -> tuple[float, BRNNParams]:
            if window < inputs.shape[1]:
                raise ConfigError(f"{where}: an offline `{self.name}` has no truncated BPTT (each output reads "
                                  f"both chains over the whole sequence): truncation = {window} < the sequence's "
                                  f"{inputs.shape[1]} ticks (set truncation = 0)")
            grads = BRNNParams(*(np.zeros_like(p) for p in params))
            total = _gradient(*(p[0] for p in params), inputs, targets, weights, lengths, self._act, loss,
                              *(g[0] for g in grads))
            return float(total), grads

        return GradientModel(bptt, None, self.spec.forward + self.spec.backward)

    def init_state(self, params: BRNNParams) -> BRNNState:
        """Both chains at 0, no input seen (window mode: an empty window; offline mode: no sequence
        yet, :meth:`begin_sequences` gives the trial's)."""
        n_b = params.b_o.shape[0]
        nf, ng, n_out = self.spec.forward, self.spec.backward, self.n_outputs
        k = 0 if self.offline else self.spec.window
        return BRNNState(np.zeros((n_b, nf)), np.zeros((n_b, ng)), np.zeros(n_b, dtype=np.int64),
                         np.zeros((n_b, k, self.n_inputs)), np.zeros((n_b, 0, n_out)), np.zeros((n_b, 0, nf)),
                         np.zeros((n_b, 0, ng)))

    def begin_sequences(self, params: BRNNParams, state: BRNNState, inputs: FloatArray,
                        lengths: IntArray) -> BRNNState:
        """Offline mode (contract item 12): both chains and every tick's output over the whole
        sequences ``inputs`` (B, T, n_in) of lengths (B,), in one numba call; returns the state
        from which :meth:`step` emits them."""
        if not self.offline:
            raise ConfigError(f"controller type `{self.name}` reads whole sequences only with mode = \"offline\"")
        xs = np.ascontiguousarray(inputs, dtype=np.float64)
        n_b, n_t = xs.shape[0], xs.shape[1]
        fs = np.empty((n_b, n_t, self.spec.forward))
        gs = np.empty((n_b, n_t, self.spec.backward))
        ys = np.empty((n_b, n_t, self.n_outputs))
        _offline(*params, xs, np.ascontiguousarray(lengths, dtype=np.int64), self._act, fs, gs, ys)
        return state._replace(count=np.zeros(n_b, dtype=np.int64), ys=ys, fs=fs, gs=gs)

    def step(self, params: BRNNParams, state: BRNNState, inputs: FloatArray, dt: float, out: FloatArray) -> None:
        """One tick of every network in place (``dt`` unused); ``out`` gets the output layer.

        Offline mode emits the tick's precomputed output (the inputs were read by
        :meth:`begin_sequences`); stepping past the sequences' end raises ValueError.
        """
        if self.offline:
            n_b = state.count.shape[0]
            if n_b and state.count[0] >= state.ys.shape[1]:
                raise ValueError(f"an offline {self.name} has emitted all {state.ys.shape[1]} ticks of its "
                                 "sequences (begin_sequences gives a trial's)")
            _emit(state.ys, state.fs, state.gs, state.count, state.f, state.g, out)
        else:
            _window_step(*params, state.f, state.g, state.count, state.buf, inputs, self._act, out)

    def trace(self, state: BRNNState) -> dict[str, FloatArray]:
        """The forward chain ``f`` and backward chain ``g`` that the last output read."""
        return {"f": state.f, "g": state.g}
