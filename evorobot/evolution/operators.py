"""Genetic operators of Beer's real-valued GA, as pure functions with an explicit rng.

- :func:`linear_rank_expectations`: linear rank selection pressure (Beer's TSearch: the best
  expects ``max_expected`` offspring, the worst ``2 - max_expected``).
- :func:`stochastic_universal_sampling`: Baker (1987), "Reducing bias and inefficiency in the
  selection algorithm", one spin of a wheel with ``n`` equally spaced pointers.
- :func:`mutate`: TSearch's mutation, a Gaussian step along a uniformly random unit direction,
  clipped to the gene range [-1, 1].
- :func:`two_point_crossover`: swap one contiguous block of genes between two parents.
- :func:`uniform_crossover`: each gene from either parent (TSearch's UNIFORM mode).
- :func:`creep`: per-gene Gaussian creep mutation with a rate (the microbial GA, SA's proposals).

None of these touch global random state or their inputs.
"""

from __future__ import annotations

import numpy as np

from evorobot._types import FloatArray, IntArray


def linear_rank_expectations(n: int, max_expected: float) -> FloatArray:
    """Expected offspring per rank, best first: ``max_expected`` down to ``2 - max_expected``.

    Linear in rank, so the ``n`` values sum to ``n`` (a single individual expects 1).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not 1.0 <= max_expected <= 2.0:
        raise ValueError(f"max_expected must be in [1, 2], got {max_expected}")
    if n == 1:
        return np.ones(1)
    return max_expected - (2.0 * max_expected - 2.0) * np.arange(n) / (n - 1)


def stochastic_universal_sampling(
    expectations: FloatArray, n_select: int, rng: np.random.Generator
) -> IntArray:
    """Select ``n_select`` indices by stochastic universal sampling (Baker 1987).

    ``expectations`` are non-negative weights; index ``i`` is expected ``n_select * e_i / sum(e)``
    times and, the defining property of SUS, is chosen exactly the floor or the ceiling of that
    number of times. Returns the selected indices in ascending order (shape ``(n_select,)``);
    one uniform draw is consumed when ``n_select > 0``.
    """
    e = np.asarray(expectations, dtype=np.float64)
    if e.ndim != 1 or e.size == 0:
        raise ValueError(f"expectations must be a non-empty 1-D array, got shape {e.shape}")
    if not np.all(np.isfinite(e)) or np.any(e < 0):
        raise ValueError("expectations must be finite and non-negative")
    if n_select < 0:
        raise ValueError(f"n_select must be >= 0, got {n_select}")
    if n_select == 0:
        return np.zeros(0, dtype=np.int64)
    cumulative = np.cumsum(e)
    total = cumulative[-1]
    if total <= 0:
        raise ValueError("expectations must have a positive sum")
    spacing = total / n_select
    pointers = (rng.random() + np.arange(n_select)) * spacing
    chosen = np.searchsorted(cumulative, pointers, side="right").astype(np.int64)
    # Rounding can push the last pointer onto the end of the wheel: give it to the last slot
    # that has any width, never to a zero-expectation one.
    last = int(np.flatnonzero(e > 0)[-1])
    return np.minimum(chosen, last)


def mutate(genomes: FloatArray, variance: float, rng: np.random.Generator) -> FloatArray:
    """Beer's TSearch mutation of every row: ``v <- clip(v + m u, -1, 1)``.

    ``u`` is a uniformly random unit vector (a normalised Gaussian) and ``m ~ N(0, variance)``,
    i.e. standard deviation ``sqrt(variance)``: the setting is a variance. ``genomes`` has shape
    ``(..., G)``; a new array of the same shape is returned.
    """
    g = np.asarray(genomes, dtype=np.float64)
    if variance <= 0:
        raise ValueError(f"variance must be > 0, got {variance}")
    u = rng.standard_normal(g.shape)
    norm = np.linalg.norm(u, axis=-1, keepdims=True)
    u = np.divide(u, norm, out=np.zeros_like(u), where=norm > 0)
    m = rng.normal(0.0, np.sqrt(variance), size=g.shape[:-1] + (1,))
    return np.clip(g + m * u, -1.0, 1.0)


def two_point_crossover(
    a: FloatArray,
    b: FloatArray,
    rng: np.random.Generator,
    cuts: IntArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Swap the genes ``[i, j)`` between parents ``a`` and ``b`` (shape ``(G,)``); two children.

    ``i < j`` are two distinct cut points drawn uniformly from ``cuts`` (sorted gene boundaries in
    ``0..G``; default every boundary). Passing the boundaries of gene blocks (a neuron's genes,
    say) crosses whole blocks over, as TSearch's crossover template does.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"parents must be 1-D of equal shape, got {a.shape} and {b.shape}")
    points = np.arange(a.size + 1) if cuts is None else np.unique(np.asarray(cuts, dtype=np.int64))
    if points.size < 2 or points[0] < 0 or points[-1] > a.size:
        raise ValueError(f"cuts must hold at least two boundaries within 0..{a.size}")
    i, j = np.sort(rng.choice(points, size=2, replace=False))
    child_a, child_b = a.copy(), b.copy()
    child_a[i:j], child_b[i:j] = b[i:j], a[i:j]
    return child_a, child_b


def uniform_crossover(a: FloatArray, b: FloatArray, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Each gene of the first child from ``a`` or ``b`` with probability 1/2, the second child
    taking the other parent's gene (TSearch's UNIFORM crossover); one uniform draw per gene."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"parents must be 1-D of equal shape, got {a.shape} and {b.shape}")
    take_b = rng.random(a.size) < 0.5
    return np.where(take_b, b, a), np.where(take_b, a, b)


def creep(genomes: FloatArray, std: float, rate: float, rng: np.random.Generator) -> FloatArray:
    """Per-gene Gaussian creep: each gene, with probability ``rate``, gets ``N(0, std**2)`` added;
    the result is clipped to [-1, 1]. Draws one normal per gene, then (if ``rate < 1``) one uniform
    per gene; ``genomes`` is not modified."""
    g = np.asarray(genomes, dtype=np.float64)
    step = std * rng.standard_normal(g.shape)
    if rate < 1.0:
        step = np.where(rng.random(g.shape) < rate, step, 0.0)
    return np.clip(g + step, -1.0, 1.0)
