"""Sequence data sets generated in code from an explicit ``np.random.Generator``.

Pure generators: arrays in, arrays out, no task or controller objects. The sequence tasks
(:mod:`evorobot.tasks.sequence_tasks`) build their train and test splits from them. Each function
cites the paper whose data it reproduces; what is assumed where the paper is silent is said there.

- :func:`narma10` / :func:`narma10_response`: NARMA-10 (Atiya & Parlos 2000).
- :func:`mackey_glass`: the Mackey-Glass delay equation (Mackey & Glass 1977), RK4 with a fixed step.
- :func:`temporal_xor`: Elman's (1990) stream of triples ``(a, b, a xor b)``.
- :func:`adding`: the adding problem (Hochreiter & Schmidhuber 1997, experiment 4).
- :func:`tomita_accepts`, :func:`all_strings`, :func:`tomita_sample`: Tomita's (1982) seven grammars.
- :func:`framewise`: framewise labelling of a Gaussian stream (after Schuster & Paliwal 1997).
- :func:`corrupted_patterns`: random bipolar patterns and corrupted cues (after Hopfield 1982).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from evorobot._types import BoolArray, FloatArray, IntArray

__all__ = [
    "TOMITA_DFAS",
    "adding",
    "all_strings",
    "corrupted_patterns",
    "framewise",
    "mackey_glass",
    "mackey_glass_rk4",
    "narma10",
    "narma10_response",
    "temporal_xor",
    "tomita_accepts",
    "tomita_sample",
]


# --- NARMA-10 ---------------------------------------------------------------------------------

def narma10_response(u: FloatArray) -> FloatArray:
    """The NARMA-10 output of inputs ``u`` (n, L): ``y`` (n, L + 1), ``y[:, 0] = 0`` and

    ``y(t+1) = 0.3 y(t) + 0.05 y(t) sum_{i=0..9} y(t-i) + 1.5 u(t-9) u(t) + 0.1``

    with every term of negative time taken as 0 (the system starts at rest). A diverging input
    gives non-finite or huge values (no warning is raised).
    """
    u = np.atleast_2d(np.asarray(u, dtype=np.float64))
    n, length = u.shape
    y = np.zeros((n, length + 1))
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(length):
            window = y[:, max(t - 9, 0): t + 1].sum(axis=1)
            lagged = u[:, t - 9] if t >= 9 else 0.0
            y[:, t + 1] = 0.3 * y[:, t] + 0.05 * y[:, t] * window + 1.5 * lagged * u[:, t] + 0.1
    return y


def narma10(n: int, length: int, rng: np.random.Generator, *, limit: float = 10.0,
            max_draws: int = 1000) -> tuple[FloatArray, FloatArray]:
    """``n`` NARMA-10 sequences of ``length`` inputs ``u ~ U[0, 0.5]`` (Atiya & Parlos 2000).

    Returns ``u`` (n, length) and ``y = narma10_response(u)`` (n, length + 1). A sequence whose
    output is not finite or exceeds ``limit`` (the system diverges for some draws) is redrawn
    from the same generator, rows in order, until none diverges: deterministic given ``rng``.
    """
    u = rng.uniform(0.0, 0.5, size=(n, length))
    y = narma10_response(u)
    for _ in range(max_draws):
        bad = ~np.all(np.isfinite(y) & (np.abs(y) <= limit), axis=1)
        if not bad.any():
            return u, y
        u[bad] = rng.uniform(0.0, 0.5, size=(int(bad.sum()), length))
        y[bad] = narma10_response(u[bad])
    raise RuntimeError(f"NARMA-10: a sequence of length {length} still diverges after {max_draws} draws")


# --- Mackey-Glass -----------------------------------------------------------------------------

@njit(cache=True)
def _mg_rate(x: float, x_tau: float, beta: float, gamma: float, power: float) -> float:
    return beta * x_tau / (1.0 + x_tau ** power) - gamma * x


@njit(cache=True)
def mackey_glass_rk4(x0: float, n_steps: int, h: float, delay: int, beta: float, gamma: float,
                     power: float) -> FloatArray:
    """Grid values ``x(k h)``, k = 0..n_steps (n_steps + 1,), of ``dx/dt = beta x(t - delay h) /
    (1 + x(t - delay h)^power) - gamma x(t)`` from the constant history ``x = x0`` on
    ``[-delay h, 0]``: classical RK4 with step ``h``; the delayed value at the half step is the mean
    of its two neighbouring grid values (linear interpolation), at the full step the grid value.
    No fastmath, so the values equal a plain Python loop of the same scheme.
    """
    x = np.empty(n_steps + 1)
    x[0] = x0
    for k in range(n_steps):
        lo = x[k - delay] if k - delay >= 0 else x0
        hi = x[k - delay + 1] if k - delay + 1 >= 0 else x0
        mid = 0.5 * (lo + hi)
        xk = x[k]
        k1 = _mg_rate(xk, lo, beta, gamma, power)
        k2 = _mg_rate(xk + 0.5 * h * k1, mid, beta, gamma, power)
        k3 = _mg_rate(xk + 0.5 * h * k2, mid, beta, gamma, power)
        k4 = _mg_rate(xk + h * k3, hi, beta, gamma, power)
        x[k + 1] = xk + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return x


def mackey_glass(n: int, rng: np.random.Generator, *, tau: float = 17.0, substeps: int = 10,
                 transient: int = 1000, beta: float = 0.2, gamma: float = 0.1,
                 power: float = 10.0) -> FloatArray:
    """``n`` samples ``x(t)``, one per time unit, of the Mackey-Glass equation (Mackey & Glass 1977)

    ``dx/dt = beta x(t - tau) / (1 + x(t - tau)^power) - gamma x(t)`` (tau = 17: chaotic),

    integrated by :func:`mackey_glass_rk4` with ``substeps`` steps per time unit from a constant
    history ``x0 ~ U[0.5, 1.5]`` drawn from ``rng``; the first ``transient`` time units are
    discarded. ``tau * substeps`` must be an integer.
    """
    delay = round(tau * substeps)
    if abs(delay - tau * substeps) > 1e-9:
        raise ValueError(f"tau * substeps must be an integer, got {tau} * {substeps}")
    x0 = float(rng.uniform(0.5, 1.5))
    grid = mackey_glass_rk4(x0, (transient + n - 1) * substeps, 1.0 / substeps, delay, beta, gamma, power)
    return grid[transient * substeps:: substeps].copy()


# --- Temporal XOR -----------------------------------------------------------------------------

def temporal_xor(n: int, triples: int, rng: np.random.Generator) -> FloatArray:
    """``n`` bit streams (n, 3 triples) of triples ``(a, b, a xor b)``, a and b fair coins (Elman 1990)."""
    ab = rng.integers(0, 2, size=(n, triples, 2))
    out = np.empty((n, triples, 3))
    out[:, :, :2] = ab
    out[:, :, 2] = ab[:, :, 0] ^ ab[:, :, 1]
    return out.reshape(n, 3 * triples)


# --- Adding problem ---------------------------------------------------------------------------

def adding(n: int, length: int, rng: np.random.Generator) -> tuple[FloatArray, IntArray, FloatArray]:
    """``n`` sequences of the adding problem (Hochreiter & Schmidhuber 1997, experiment 4).

    Each sequence has a random length ``L`` uniform in ``[T, T + T // 10]`` (T = ``length`` >= 22)
    and pairs ``(value, marker)``: values uniform in [-1, 1]; one of the first ten pairs is marked
    (marker 1, value X1), then one of the first ``T/2 - 1`` still unmarked pairs (X2); the first
    and final pairs have marker -1 unless marked, all others 0. When the first pair is marked its
    value is set to 0 (the paper's rule for X1). Target: ``0.5 + (X1 + X2) / 4`` in [0, 1].

    Returns ``pairs`` (n, T + T // 10, 2) zero-padded after each sequence's end, ``lengths`` (n,)
    and ``targets`` (n,).
    """
    if length < 22:
        raise ValueError(f"length must be >= 22 (one of the first 10 and of the first T/2 - 1 pairs), got {length}")
    longest = length + length // 10
    lengths = rng.integers(length, longest + 1, size=n)
    values = rng.uniform(-1.0, 1.0, size=(n, longest))
    first = rng.integers(0, 10, size=n)
    r = rng.integers(0, length // 2 - 1, size=n)
    second = r + (r >= first)  # uniform over the first T/2 positions but `first`
    rows = np.arange(n)
    markers = np.zeros((n, longest))
    markers[:, 0] = -1.0
    markers[rows, lengths - 1] = -1.0
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    values[markers[:, 0] == 1.0, 0] = 0.0
    values[np.arange(longest)[None, :] >= lengths[:, None]] = 0.0
    targets = 0.5 + (values[rows, first] + values[rows, second]) / 4.0
    return np.stack([values, markers], axis=2), lengths.astype(np.int64), targets


# --- Tomita grammars --------------------------------------------------------------------------

def _dfa(table: list[tuple[int, int]], accept: set[int]) -> tuple[IntArray, BoolArray]:
    trans = np.array(table, dtype=np.int64)
    return trans, np.array([s in accept for s in range(len(table))], dtype=np.bool_)


TOMITA_DFAS: dict[int, tuple[IntArray, BoolArray]] = {
    # state -> (next on 0, next on 1); start state 0; the last state of 1, 2, 3, 4, 7 is a dead state
    1: _dfa([(1, 0), (1, 1)], {0}),  # 1*
    2: _dfa([(2, 1), (0, 2), (2, 2)], {0}),  # (10)*
    # 3: no odd run of 1s followed later by an odd run of 0s. States: 0 no odd 1-run closed yet,
    # not in a 1-run; 1/2 in an odd/even 1-run; after an odd 1-run was closed: 3/4 in an odd/even
    # 0-run, 5 in a 1-run; 6 dead (an odd 0-run closed by a 1; one still open at the end rejects)
    3: _dfa([(0, 1), (3, 2), (0, 1), (4, 6), (3, 5), (3, 5), (6, 6)], {0, 1, 2, 4, 5}),
    4: _dfa([(1, 0), (2, 0), (3, 0), (3, 3)], {0, 1, 2}),  # no 000
    5: _dfa([(1, 2), (0, 3), (3, 0), (2, 1)], {0}),  # even 0s and even 1s (state = parities)
    6: _dfa([(1, 2), (2, 0), (0, 1)], {0}),  # (#0 - #1) = 0 mod 3
    7: _dfa([(0, 1), (2, 1), (2, 3), (4, 3), (4, 4)], {0, 1, 2, 3}),  # 0*1*0*1*
}


def tomita_accepts(grammar: int, strings: IntArray, lengths: IntArray) -> BoolArray:
    """Membership (n,) in Tomita grammar ``grammar`` (1-7) of ``strings`` (n, Lmax) of 0/1,
    each of its ``lengths`` (n,) first symbols (the rest is ignored); by the grammar's DFA."""
    trans, accept = TOMITA_DFAS[grammar]
    strings = np.asarray(strings, dtype=np.int64)
    state = np.zeros(strings.shape[0], dtype=np.int64)
    for t in range(strings.shape[1]):
        live = t < lengths
        nxt = trans[state, np.clip(strings[:, t], 0, 1)]
        state = np.where(live, nxt, state)
    return accept[state]


def all_strings(min_length: int, max_length: int) -> tuple[IntArray, IntArray]:
    """Every 0/1 string of length ``min_length..max_length``: ``strings`` (n, max_length) padded
    with -1 and ``lengths`` (n,), by length then in binary order (n = sum of 2^L)."""
    blocks, lengths = [], []
    for length in range(min_length, max_length + 1):
        codes = np.arange(2 ** length, dtype=np.int64)
        bits = (codes[:, None] >> np.arange(length - 1, -1, -1)[None, :]) & 1
        block = np.full((codes.size, max_length), -1, dtype=np.int64)
        block[:, :length] = bits
        blocks.append(block)
        lengths.append(np.full(codes.size, length, dtype=np.int64))
    return np.concatenate(blocks), np.concatenate(lengths)


def tomita_sample(grammar: int, min_length: int, max_length: int, n: int,
                  rng: np.random.Generator) -> tuple[IntArray, IntArray, BoolArray]:
    """``n`` distinct strings of length ``min_length..max_length``, half members of the grammar
    and half not where there are enough of each (otherwise every string of the scarce class and
    the rest from the other), shuffled; all strings when there are at most ``n``.

    Returns ``strings`` (m, max_length) padded with -1, ``lengths`` (m,), ``labels`` (m,), m <= n.
    """
    strings, lengths = all_strings(min_length, max_length)
    labels = tomita_accepts(grammar, strings, lengths)
    pos, neg = np.flatnonzero(labels), np.flatnonzero(~labels)
    n_pos = min(n // 2, pos.size)
    n_neg = min(n - n_pos, neg.size)
    n_pos = min(n - n_neg, pos.size)
    pick = np.concatenate([rng.choice(pos, n_pos, replace=False), rng.choice(neg, n_neg, replace=False)])
    pick = pick[rng.permutation(pick.size)]
    return strings[pick], lengths[pick], labels[pick]


# --- Framewise labelling ----------------------------------------------------------------------

def framewise(n: int, frames: int, rng: np.random.Generator, *, half_width: int = 5,
              tail: int = 0) -> tuple[FloatArray, FloatArray]:
    """``n`` Gaussian streams ``x`` (n, frames + 2 half_width + tail), x ~ N(0, 1) i.i.d., and the
    labels (n, frames) of the frames ``half_width .. half_width + frames - 1``:
    ``label(t) = [sum_{k=-half_width..half_width} x(t + k) > 0]`` (Schuster & Paliwal 1997's
    artificial data; ``tail`` extra samples at the end serve a delayed read-out)."""
    width = 2 * half_width + 1
    x = rng.standard_normal(size=(n, frames + width - 1 + tail))
    c = np.concatenate([np.zeros((n, 1)), np.cumsum(x, axis=1)], axis=1)
    sums = c[:, width: width + frames] - c[:, :frames]
    return x, (sums > 0).astype(np.float64)


# --- Pattern completion -----------------------------------------------------------------------

def corrupted_patterns(patterns: FloatArray, n_cues: int, flips: int,
                       rng: np.random.Generator) -> FloatArray:
    """``n_cues`` corrupted copies (P, n_cues, N) of each bipolar pattern of ``patterns`` (P, N):
    exactly ``flips`` distinct units, uniform at random, have their sign flipped."""
    p, n_units = patterns.shape
    order = np.argsort(rng.random((p, n_cues, n_units)), axis=2, kind="stable")
    flip = np.zeros((p, n_cues, n_units), dtype=np.bool_)
    np.put_along_axis(flip, order[:, :, :flips], True, axis=2)
    return np.where(flip, -patterns[:, None, :], patterns[:, None, :])
