"""Bidirectional associative memory, BAM (Kosko 1988), batched.

Kosko, B. (1988). Bidirectional associative memories. IEEE Transactions on Systems, Man, and
Cybernetics 18(1): 49-60.

Two layers of bipolar units, ``X`` (n) and ``Y`` (p), joined by one matrix ``W`` (n, p) used in
both directions, with thresholds ``theta_x`` (n) and ``theta_y`` (p). Recall alternates
synchronous layer updates, each unit keeping its previous value where its net input is exactly 0::

    Y_j <- sgn( sum_i W_ij X_i - theta_y_j )          (Y = sgn(W^T X))
    X_i <- sgn( sum_j W_ij Y_j + e_i - theta_x_i )    (X = sgn(W Y))

until neither layer changes (a bidirectional fixed point; Kosko proves one is reached for every
``W``). ``e`` is an external field on ``X`` (0 outside ``coding = "field"``). Kosko's energy,
with the thresholds and the field, which neither half-update can increase::

    E = -X W Y^T + theta_x . X + theta_y . Y - e . X

Hebbian storage of pairs ``(x_k, y_k)``: ``W = sum_k x_k y_k^T`` (:meth:`BAM.hebbian_genome`).
:func:`bam_recall` runs the recall to its fixed point from a cue on either layer.

As a controller (what was adapted, and why). A BAM recalls a pair from a cue; an agent's sensors
are continuous and its motors read every tick, so: ``X`` has one unit per sensor and ``Y`` one unit
per motor, read as ``(Y + 1) / 2`` in {0, 1}; ``W``, ``theta_x`` and ``theta_y`` are genes; each
tick runs ``passes`` bidirectional passes (a pass: ``Y`` from ``X``, then ``X`` from ``Y``) from
the layers' values at the end of the previous tick (the memory; both layers start at -1 in every
trial). How the continuous sensors reach ``X`` (``coding``):

- ``"threshold"`` (default): at the start of each tick the sensors are thresholded into a bipolar
  cue, ``X_i = +1`` where sensor ``i`` exceeds ``input_threshold``, else -1 (Kosko's recall from an
  ``X`` cue); the passes then update both layers;
- ``"field"``: the sensors are a graded field on ``X``, ``e_i = input_gain * x_i``, added to the
  net input of every ``X`` update; ``X`` is never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.controllers._associative import (
    as_bipolar,
    bipolar,
    encode_exactly,
    hebbian_outer,
    sign_keep,
)
from evorobot.controllers._blockshell import BlockController
from evorobot.errors import ConfigError
from evorobot.genome import Block
from evorobot.spec import Range, setting

__all__ = ["BAM", "BAMParams", "BAMSpec", "BAMState", "bam_energy", "bam_recall"]


@dataclass(frozen=True)
class BAMSpec:
    """Settings of a bidirectional associative memory (``[controller]``, less ``type``)."""

    passes: int = setting(2, ge=1, doc="bidirectional passes (Y from X, then X from Y) per tick")
    coding: str = setting("threshold", choices=("threshold", "field"),
                          doc="sensors thresholded into the X layer each tick, or a graded field on X")
    input_threshold: float = setting(0.5, doc="a sensor above it sets its X unit to +1, else -1 (coding = threshold)")
    input_gain: float = setting(1.0, doc="the field on X unit i is input_gain * sensor i (coding = field)")
    weight_range: Range = setting((-5.0, 5.0), doc="range of the weights W_ij")
    threshold_range: Range = setting((-5.0, 5.0), doc="range of the thresholds theta_x, theta_y")


class BAMParams(NamedTuple):
    """Decoded parameters of B networks: ``w`` (B, n, p), ``theta_x`` (B, n), ``theta_y`` (B, p)."""

    w: FloatArray
    theta_x: FloatArray
    theta_y: FloatArray


class BAMState(NamedTuple):
    """State of B networks: layers ``x`` (B, n) and ``y`` (B, p), entries +-1."""

    x: FloatArray
    y: FloatArray


@njit(cache=True)
def _update_y(w, theta_y, xb, yb, net):
    """``Y <- sgn(W^T X - theta_y)`` keeping ties, for one network; returns whether Y changed."""
    n, p = w.shape
    for j in range(p):
        net[j] = -theta_y[j]
    for i in range(n):
        xi, wi = xb[i], w[i]
        for j in range(p):
            net[j] += wi[j] * xi
    changed = False
    for j in range(p):
        new = sign_keep(net[j], yb[j])
        changed |= new != yb[j]
        yb[j] = new
    return changed


@njit(cache=True)
def _update_x(w, theta_x, ext, xb, yb):
    """``X <- sgn(W Y + ext - theta_x)`` keeping ties, for one network; returns whether X changed."""
    n, p = w.shape
    changed = False
    for i in range(n):
        acc = ext[i] - theta_x[i]
        wi = w[i]
        for j in range(p):
            acc += wi[j] * yb[j]
        new = sign_keep(acc, xb[i])
        changed |= new != xb[i]
        xb[i] = new
    return changed


@njit(cache=True)
def _step(w, theta_x, theta_y, passes, field, input_threshold, input_gain, x, y, s, out):
    """One tick of B networks in place: code the sensors ``s`` (B, n) into X or its field, run
    ``passes`` passes, ``out`` (B, p) = (Y + 1) / 2. w (B, n, p); theta_x, x (B, n); theta_y, y (B, p)."""
    n_b, n = x.shape
    p = y.shape[1]
    ext = np.zeros(n)
    net = np.empty(p)
    for b in range(n_b):
        xb, yb = x[b], y[b]
        for i in range(n):
            if field:
                ext[i] = input_gain * s[b, i]
            else:
                xb[i] = bipolar(s[b, i], input_threshold)
        for _ in range(passes):
            _update_y(w[b], theta_y[b], xb, yb, net)
            _update_x(w[b], theta_x[b], ext, xb, yb)
        for j in range(p):
            out[b, j] = 0.5 * (yb[j] + 1.0)


@njit(cache=True)
def _recall(w, theta_x, theta_y, x, y, from_y, max_passes, passes_used):
    """Recall of B cues in place to a bidirectional fixed point (or ``max_passes``): from an X cue,
    Y then X alternately; from a Y cue (``from_y``), X then Y. ``passes_used`` (B,) int64 gets the
    number of half-updates that changed a layer."""
    n_b, n = x.shape
    p = y.shape[1]
    ext = np.zeros(n)
    net = np.empty(p)
    for b in range(n_b):
        xb, yb = x[b], y[b]
        used = 0
        stable = 0  # consecutive half-updates without a change; 2 = a bidirectional fixed point
        for k in range(2 * max_passes):
            if (k % 2 == 0) != from_y:
                changed = _update_y(w[b], theta_y[b], xb, yb, net)
            else:
                changed = _update_x(w[b], theta_x[b], ext, xb, yb)
            if changed:
                used += 1
                stable = 0
            else:
                stable += 1
                if stable == 2:
                    break
        passes_used[b] = used


def bam_recall(w: npt.ArrayLike, x: npt.ArrayLike, y: npt.ArrayLike, start: str = "x", max_passes: int = 100,
               theta_x: npt.ArrayLike | None = None,
               theta_y: npt.ArrayLike | None = None) -> tuple[FloatArray, FloatArray, IntArray]:
    """Kosko's recall to a fixed point from a cue on layer ``start`` ("x" or "y").

    Parameters
    ----------
    w : (n, p) or (B, n, p)
        Weights (one matrix for every cue, or one per cue).
    x, y : (B, n), (B, p)
        Starting layers: the cue, and the other layer's values (kept where its net input is 0).
    theta_x, theta_y : (n,) / (p,) or batched, optional
        Thresholds (default 0).

    Returns
    -------
    x, y : the recalled layers (B, n), (B, p); changes : (B,) half-updates that changed a layer.
    """
    if start not in ("x", "y"):
        raise ConfigError(f"bam_recall: `start` must be \"x\" or \"y\", got {start!r}")
    xs = np.array(x, dtype=np.float64, ndmin=2)
    ys = np.array(y, dtype=np.float64, ndmin=2)
    n_b, n, p = xs.shape[0], xs.shape[1], ys.shape[1]
    ws = np.ascontiguousarray(np.broadcast_to(np.asarray(w, dtype=np.float64), (n_b, n, p)))
    tx = np.ascontiguousarray(np.broadcast_to(np.zeros(n) if theta_x is None else theta_x, (n_b, n)), dtype=np.float64)
    ty = np.ascontiguousarray(np.broadcast_to(np.zeros(p) if theta_y is None else theta_y, (n_b, p)), dtype=np.float64)
    used = np.zeros(n_b, dtype=np.int64)
    _recall(ws, tx, ty, xs, ys, start == "y", int(max_passes), used)
    return xs, ys, used


def bam_energy(params: BAMParams, x: FloatArray, y: FloatArray, ext: FloatArray | None = None) -> FloatArray:
    """Kosko's energy ``-X W Y^T + theta_x . X + theta_y . Y - e . X`` (B,) of layers x (B, n), y (B, p)."""
    e = -np.einsum("bi,bij,bj->b", x, params.w, y) + (params.theta_x * x).sum(1) + (params.theta_y * y).sum(1)
    return e if ext is None else e - (ext * x).sum(1)


class BAM(BlockController):
    """Batched bidirectional associative memory; see the module docstring."""

    name: ClassVar[str] = "bam"
    Spec: ClassVar[type] = BAMSpec
    Params: ClassVar[type] = BAMParams

    def __init__(self, spec: BAMSpec, n_inputs: int, n_outputs: int, dt: float, where: str = "[controller]") -> None:
        if n_inputs < 1:
            raise ConfigError(f"{where}: a bam needs at least one input (its X layer), got {n_inputs}")
        super().__init__(spec, n_inputs, n_outputs, dt, where)
        self.where = where

    def _blocks(self, spec: BAMSpec) -> list[Block]:
        n, p = self.n_inputs, self.n_outputs
        return [Block("w", (n, p), *spec.weight_range), Block("theta_x", (n,), *spec.threshold_range),
                Block("theta_y", (p,), *spec.threshold_range)]

    def gene_groups(self) -> tuple[IntArray, ...]:
        """One group per unit: X unit ``i`` (0 .. n - 1) its threshold; Y unit ``j`` (n + j) its
        threshold and its column ``W[:, j]`` (the weights into it in the X -> Y direction)."""
        n = self.n_inputs
        return self.layout.groups({"w": (1, n), "theta_x": 0, "theta_y": (0, n)})

    def labels(self) -> dict[str, list[str]]:
        return {"x": [f"x{i}" for i in range(self.n_inputs)], "y": [f"m{j}" for j in range(self.n_outputs)]}

    def init_state(self, params: BAMParams) -> BAMState:
        """Both layers at -1."""
        b = params.w.shape[0]
        return BAMState(np.full((b, self.n_inputs), -1.0), np.full((b, self.n_outputs), -1.0))

    def step(self, params: BAMParams, state: BAMState, inputs: FloatArray, dt: float, out: FloatArray) -> None:
        """One tick of every network in place (``dt`` ignored): ``passes`` passes, Y to ``out``."""
        spec = self.spec
        _step(params.w, params.theta_x, params.theta_y, spec.passes, spec.coding == "field", spec.input_threshold,
              spec.input_gain, state.x, state.y, inputs, out)

    def trace(self, state: BAMState) -> dict[str, FloatArray]:
        """Layers ``x`` (B, n) and ``y`` (B, p)."""
        return {"x": state.x, "y": state.y}

    def store_pairs(self, cues: FloatArray, patterns: FloatArray, where: str) -> FloatArray:
        """Contract item 13: the pairs ``cues`` (X layer) -> ``patterns`` (Y layer) by Kosko's rule
        (:meth:`hebbian_genome`, ``scale`` 1 / P so that the weights stay within a unit range)."""
        return self.hebbian_genome(cues, patterns, scale=1.0 / max(np.shape(cues)[0], 1))

    def hebbian_genome(self, xs: npt.ArrayLike, ys: npt.ArrayLike, scale: float = 1.0) -> FloatArray:
        """The genome (genome_size,) of the BAM storing bipolar pairs ``xs`` (P, n_inputs), ``ys``
        (P, n_outputs) by Kosko's rule, ``W = scale * sum_k x_k y_k^T``, zero thresholds.
        ConfigError (naming the settings' place) when the pairs do not fit the layers or
        ``weight_range`` / ``threshold_range`` cannot hold the values (a smaller ``scale`` leaves
        zero-threshold recall unchanged)."""
        x = as_bipolar(xs, "xs", self.where)
        y = as_bipolar(ys, "ys", self.where)
        if x.shape[0] != y.shape[0] or x.shape[1] != self.n_inputs or y.shape[1] != self.n_outputs:
            raise ConfigError(f"{self.where}: pairs must be ({self.n_inputs},) x ({self.n_outputs},) bipolar vectors, "
                              f"got xs {x.shape} and ys {y.shape}")
        return encode_exactly(self.layout, {"w": scale * hebbian_outer(x, y), "theta_x": np.zeros(self.n_inputs),
                                            "theta_y": np.zeros(self.n_outputs)}, self.where)
