"""Pieces the associative memories share: :mod:`~evorobot.controllers.hopfield` and
:mod:`~evorobot.controllers.bam`.

Bipolar coding (states in {-1, +1}), the sign rule that keeps a unit's previous value where its
net input is exactly 0 (Kosko 1988; Hopfield 1982's threshold rule), the thresholding of a
continuous sensor into a bipolar cue, Hebbian outer-product storage and the encoding of a stored
weight matrix as a genome (refused, not clipped, when the settings' ranges cannot hold it).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from numba import njit

from evorobot._types import FloatArray
from evorobot.errors import ConfigError
from evorobot.genome import GeneLayout

__all__ = ["as_bipolar", "encode_exactly", "hebbian_outer"]


@njit(cache=True, inline="always")
def sign_keep(h: float, old: float) -> float:
    """+1 where ``h > 0``, -1 where ``h < 0``, ``old`` where ``h == 0`` (or NaN)."""
    if h > 0.0:
        return 1.0
    if h < 0.0:
        return -1.0
    return old


@njit(cache=True, inline="always")
def bipolar(v: float, threshold: float) -> float:
    """A continuous sensor reading as a bipolar cue: +1 above ``threshold``, else -1."""
    return 1.0 if v > threshold else -1.0


def as_bipolar(patterns: npt.ArrayLike, name: str, where: str) -> FloatArray:
    """``patterns`` as a float64 (P, N) array of entries in {-1, +1}; ConfigError naming ``where``."""
    arr = np.asarray(patterns, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 1:
        raise ConfigError(f"{where}: `{name}` must be a (P, N) array of P >= 1 patterns, got shape {arr.shape}")
    if not np.all(np.abs(arr) == 1.0):
        raise ConfigError(f"{where}: `{name}` must be bipolar (every entry -1 or +1)")
    return arr


def hebbian_outer(xs: FloatArray, ys: FloatArray) -> FloatArray:
    """Outer-product (Hebbian) storage ``sum_k x_k y_k^T`` (N, M) of pairs ``xs`` (P, N), ``ys`` (P, M)."""
    return np.einsum("kn,km->nm", xs, ys)


def encode_exactly(layout: GeneLayout, params: Mapping[str, FloatArray], where: str) -> FloatArray:
    """The genome (G,) that decodes to ``params`` (one network's blocks, unbatched), or ConfigError
    naming ``where`` and the block when a value lies outside its block's range (encoding would clip)."""
    batched = {k: np.asarray(v, dtype=np.float64)[None] for k, v in params.items()}
    genome = layout.encode(batched)
    back = layout.decode(genome)
    for name, want in batched.items():
        err = float(np.max(np.abs(back[name] - want))) if want.size else 0.0
        if err > 1e-9 * max(1.0, float(np.max(np.abs(want))) if want.size else 1.0):
            raise ConfigError(f"{where}: the stored `{name}` (values in [{want.min():.6g}, {want.max():.6g}]) does "
                              f"not fit the settings' range for it; widen the range")
    return genome[0]
