"""Gradient-training benchmarks of the literature (issue 17): BPTT-trained Elman networks.

1. ``xor``: Elman's (1990) temporal XOR as he ran it: the network predicts every next bit of
   streams of triples ``(a, b, a xor b)``, trained on every bit with the squared error (his
   figure: the error on the predictable third bits falls while the others stay near 0.25, the
   error of the best guess 0.5 for a fair coin). 10 training streams of 100 triples (3000 bits,
   his stream's length), full BPTT with Adam; the errors by position are measured on 10 unseen
   streams, through the controller's own ``step`` (what the episode runs).
2. ``narma``: NARMA-10 one-step prediction on the data of ``worlds/esn_narma10.toml`` (10 x 500
   scored ticks after a 100-tick washout, 4 test sequences) by an Elman network trained by
   (truncated) BPTT through :func:`evorobot.training.run.train`, the run directory of an
   evolution: the held-out NRMSE printed is the champion's, which ``evorobot replay`` reproduces.
   Compared with the echo state network with a ridge readout of that world (test NRMSE 0.317,
   ``evorobot evolve worlds/esn_narma10.toml``).

Commands::

    python examples/gradient_benchmarks.py xor [--hidden 4] [--epochs 300] [--seeds 1 2 3]
    python examples/gradient_benchmarks.py narma [--hidden 20] [--epochs 500] [--truncation 50] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from evorobot.config import experiment_from_dict
from evorobot.controllers._dense import SQUARED
from evorobot.controllers.elman import Elman, ElmanSpec
from evorobot.setup import build
from evorobot.tasks.datasets import temporal_xor
from evorobot.training.gradient import GradientSpec, descend
from evorobot.training.run import train


def position_errors(ctrl: Elman, genome: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """Mean squared error (3,) of the predictions of bit t + 1 by the position of bit t + 1 in its
    triple (0: a, 1: b, 2: a xor b), the network run tick by tick by its ``step`` from rest."""
    n, length = bits.shape
    params = ctrl.decode(np.repeat(genome[None, :], n, axis=0))
    state, out = ctrl.init_state(params), np.empty((n, 1))
    sq = np.zeros((n, length - 1))
    for t in range(length - 1):
        ctrl.step(params, state, np.ascontiguousarray(bits[:, t:t + 1]), 1.0, out)
        sq[:, t] = (out[:, 0] - bits[:, t + 1]) ** 2
    pos = (np.arange(1, length) % 3)
    return np.array([sq[:, pos == k].mean() for k in range(3)])


def xor_run(seed: int, args: argparse.Namespace) -> tuple[np.ndarray, float]:
    """Train one Elman net from ``seed`` (streams and initial weights); its errors by position, seconds."""
    rng = np.random.default_rng(seed)
    train_bits, test_bits = temporal_xor(10, 100, rng), temporal_xor(10, 100, rng)
    x, y = np.ascontiguousarray(train_bits[:, :-1, None]), np.ascontiguousarray(train_bits[:, 1:, None])
    w, lengths = np.ones(x.shape[:2]), np.full(10, x.shape[1], dtype=np.int64)
    ctrl = Elman(ElmanSpec(hidden=args.hidden, activation=args.activation), 1, 1, 1.0)
    model = ctrl.gradient_model("benchmark")
    full = x.shape[1]

    def gradient(params: Any, rows: np.ndarray) -> tuple[float, Any]:
        return model.bptt(params, x[rows], y[rows], w[rows], lengths[rows], SQUARED, full, full)

    spec = GradientSpec(epochs=args.epochs, batch=1, learning_rate=args.lr, clip=1.0, init_scale=0.1)
    t0 = time.perf_counter()
    genome = np.zeros(ctrl.genome_size)
    for epoch in descend(ctrl, gradient, w.sum(axis=1), spec, rng):
        genome = epoch.genome
    secs = time.perf_counter() - t0
    return position_errors(ctrl, genome, test_bits), secs


def xor(args: argparse.Namespace) -> None:
    print(f"temporal XOR (Elman 1990): Elman net 1-{args.hidden}-1, full BPTT, Adam lr {args.lr}, "
          f"{args.epochs} epochs of 10 streams x 100 triples, batch 1, squared error on every bit")
    print("seed  err(a)  err(b)  err(a xor b)  seconds")
    for seed in args.seeds:
        err, secs = xor_run(seed, args)
        print(f"{seed:4d}  {err[0]:.4f}  {err[1]:.4f}  {err[2]:.4f}        {secs:.1f}")


def narma(args: argparse.Namespace) -> None:
    raw = {
        "experiment": {"name": "bptt_narma10", "seed": args.seed},
        "simulation": {"dt": 1.0},
        "task": {"type": "narma10", "data_seed": 0, "train_sequences": 10, "test_sequences": 4, "washout": 100,
                 "length": 500},
        "controller": {"type": "elman", "hidden": args.hidden},
        "optimizer": {"type": "bptt", "epochs": args.epochs, "batch": args.batch, "learning_rate": args.lr,
                      "clip": 1.0, "truncation": args.truncation, "loss": "squared"},
    }
    setup = build(experiment_from_dict(raw, "gradient_benchmarks.py"))
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp()) / "run"
    print(f"NARMA-10: Elman net of {args.hidden} hidden units, BPTT truncation {args.truncation or 'none'}, "
          f"Adam lr {args.lr}, batch {args.batch}, {args.epochs} epochs; run directory {out}")
    summary = train(setup, out, ["gradient_benchmarks.py", "narma"], stream=None)
    champ = json.loads((out / "champion.json").read_text())
    history = (out / "history.csv").read_text().splitlines()
    last = history[-1].split(",")
    print(f"champion epoch {summary.best_generation + 1} of {summary.generations}: training fitness "
          f"{summary.best_fitness:.4f}, held-out test NRMSE {champ['held_out']['score']:.4f} "
          f"(last epoch: loss {last[1]}, test {last[3]}); {summary.seconds:.0f} s")
    print("ESN (100 units) with ridge readout, worlds/esn_narma10.toml: test NRMSE 0.317")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="which", required=True)
    p = sub.add_parser("xor")
    p.add_argument("--hidden", type=int, default=4)
    p.add_argument("--activation", default="tanh")
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p = sub.add_parser("narma")
    p.add_argument("--hidden", type=int, default=20)
    p.add_argument("--epochs", type=int, default=500)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--lr", type=float, default=0.003)
    p.add_argument("--truncation", type=int, default=50)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default="")
    args = parser.parse_args()
    xor(args) if args.which == "xor" else narma(args)


if __name__ == "__main__":
    main()
