"""Associative-memory benchmarks of the `hopfield` and `bam` controllers, through their own kernels.

1. Hopfield capacity (Amit, Gutfreund & Sompolinsky 1985, Phys. Rev. Lett. 55:1530: retrieval
   breaks down near P = 0.138 N): N units store P random bipolar patterns by Hopfield's Hebbian
   rule (:meth:`Hopfield.hebbian_genome`); each pattern is cued with a fraction ``--flip`` of its
   units flipped as the starting state (``cue = "initial_state"``) and relaxed by asynchronous
   random-order sweeps until a sweep changes nothing; printed: the mean final overlap
   ``m = (1/N) sum_i xi_i s_i`` with the cued pattern, over ``--seeds`` seeds, per load P/N, and
   the fraction of cues retrieved (``m >= 0.95``).
2. BAM recall (Kosko 1988): ``--pairs`` pairs of random bipolar vectors of ``--bam-units`` units
   each stored by ``W = sum_k x_k y_k^T`` (:meth:`BAM.hebbian_genome`); each pair recalled from its
   ``x`` with ``--bam-flip`` of the units flipped, to the bidirectional fixed point (one controller
   tick of enough passes, ``coding = "threshold"``), over ``--seeds`` seeds; printed: the fraction of
   pairs recalled perfectly (both layers) and the mean overlap of the recalled ``y`` with ``y_k``.

Command (about three minutes on one core)::

    python examples/associative_memory.py
    python examples/associative_memory.py --units 200 --loads 0.05,0.25 --seeds 2   # quick
"""

from __future__ import annotations

import argparse

import numpy as np

from evorobot.controllers.bam import BAM, BAMSpec
from evorobot.controllers.hopfield import Hopfield, HopfieldSpec


def random_patterns(rng: np.random.Generator, count: int, n: int) -> np.ndarray:
    return np.where(rng.random((count, n)) < 0.5, -1.0, 1.0)


def flip(rng: np.random.Generator, patterns: np.ndarray, fraction: float) -> np.ndarray:
    """A copy of ``patterns`` with exactly ``round(fraction N)`` distinct units of each row flipped."""
    out = patterns.copy()
    k = round(fraction * patterns.shape[1])
    for row in out:
        row[rng.choice(patterns.shape[1], k, replace=False)] *= -1
    return out


def hopfield_overlaps(n: int, count: int, fraction: float, seed: int, max_ticks: int = 100,
                      chunk: int = 25) -> np.ndarray:
    """Final overlaps (count,) of ``count`` stored patterns, each recalled once from a corrupted cue."""
    rng = np.random.default_rng(seed)
    spec = HopfieldSpec(hidden=0, cue="initial_state", order="random", order_seed=seed, relaxations=1)
    ctrl = Hopfield(spec, n, n, 1.0, "[associative_memory]")
    xi = random_patterns(rng, count, n)
    cue = (flip(rng, xi, fraction) + 1.0) / 2.0
    one = ctrl.decode(ctrl.hebbian_genome(xi)[None])
    overlaps = []
    for lo in range(0, count, chunk):  # the cues in chunks: every network of a chunk holds its own copy of T
        hi = min(count, lo + chunk)
        params = type(one)(*(np.repeat(a, hi - lo, axis=0) for a in one))
        state = ctrl.init_state(params)
        out = np.empty((hi - lo, n))
        for _ in range(max_ticks):  # one asynchronous sweep per tick, to a fixed point
            before = state.s.copy()
            ctrl.step(params, state, cue[lo:hi], 1.0, out)
            if np.array_equal(before, state.s):
                break
        overlaps.append(np.sum(state.s * xi[lo:hi], axis=1) / n)
    return np.concatenate(overlaps)


def bam_recall_stats(n: int, count: int, fraction: float, seed: int) -> tuple[float, float]:
    """(fraction of pairs recalled perfectly, mean overlap of the recalled y) from corrupted x cues."""
    rng = np.random.default_rng(seed)
    ctrl = BAM(BAMSpec(passes=50, weight_range=(-float(count), float(count))), n, n, 1.0, "[associative_memory]")
    xs, ys = random_patterns(rng, count, n), random_patterns(rng, count, n)
    params = ctrl.decode(np.repeat(ctrl.hebbian_genome(xs, ys)[None], count, axis=0))
    state = ctrl.init_state(params)
    ctrl.step(params, state, (flip(rng, xs, fraction) + 1.0) / 2.0, 1.0, np.empty((count, n)))
    perfect = np.all(state.x == xs, axis=1) & np.all(state.y == ys, axis=1)
    return float(perfect.mean()), float(np.mean(np.sum(state.y * ys, axis=1) / n))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--units", type=int, default=500)
    ap.add_argument("--loads", default="0.02,0.05,0.08,0.10,0.12,0.14,0.16,0.18,0.20,0.25")
    ap.add_argument("--flip", type=float, default=0.05)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--bam-units", type=int, default=100)
    ap.add_argument("--bam-flip", type=float, default=0.10)
    args = ap.parse_args()
    n = args.units
    print(f"Hopfield capacity: N = {n}, {args.flip:.0%} of each cue flipped, {args.seeds} seeds")
    print("  P/N      P   mean final overlap   (per seed)            cues retrieved (m >= 0.95)")
    for load in (float(v) for v in args.loads.split(",")):
        count = max(1, round(load * n))
        per = [hopfield_overlaps(n, count, args.flip, seed) for seed in range(args.seeds)]
        means = ", ".join(f"{m.mean():.3f}" for m in per)
        print(f"  {load:4.2f}  {count:5d}   {np.mean(per):.4f}   ({means})   {np.mean(np.concatenate(per) >= 0.95):.3f}")
    print(f"BAM: {args.pairs} pairs of {args.bam_units}-unit vectors, {args.bam_flip:.0%} of each x cue flipped, "
          f"{args.seeds * 10} seeds")
    stats = np.array([bam_recall_stats(args.bam_units, args.pairs, args.bam_flip, seed)
                      for seed in range(args.seeds * 10)])
    print(f"  pairs recalled perfectly: {stats[:, 0].mean():.4f}   mean overlap of y: {stats[:, 1].mean():.4f}")


if __name__ == "__main__":
    main()
