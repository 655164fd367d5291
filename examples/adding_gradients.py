"""The adding problem by BPTT, LSTM against a fully recurrent net, and vanishing gradients (issue 17).

Hochreiter, S. & Schmidhuber, J. (1997). Long short-term memory. Neural Computation 9(8):
1735-1780, section 5.4 (experiment 4, the adding problem). Bengio, Y., Simard, P. & Frasconi, P.
(1994). Learning long-term dependencies with gradient descent is difficult. IEEE Transactions
on Neural Networks 5(2): 157-166 (the vanishing gradient).

``run`` trains one network by full BPTT (Adam, norm clipping, the squared error at each
sequence's last tick: the loss is the MSE of the task's target ``0.5 + (X1 + X2) / 4``) on the
data of ``worlds/adding.toml`` (T = 50) or ``worlds/adding_100.toml`` (T = 100), with
``train_pool`` train sequences (the paper draws fresh ones; here a fixed pool, set larger than the
world's 1000), and stops when the epoch's training MSE falls below ``--stop`` or at ``--epochs``
or ``--minutes``. It then scores the 2560 held-out test sequences through the task's own
held-out score (:func:`evorobot.heldout.held_out`, the episode: the fraction with ``|error| >=
0.04``, Hochreiter & Schmidhuber's criterion being that this is below 1 %) and their MSE, and
records the gradient norm through time ``|dL/dh(t)|`` against ``k`` ticks back from the end of
the sequence (the loss is scored at the last tick only), averaged over 256 test sequences, at
initialisation and after training: for the LSTM, ``h`` the cell outputs (:meth:`LSTM.hidden_errors`,
the BPTT kernel's own record); for the fully recurrent net, ``h`` all its units (a plain-numpy
backward pass written here, checked against the kernel's bias gradient, ``sum_t dL/da(t)``).
The constant predictor (0.5) has test MSE ``Var(target)``, about 0.042 (printed).

``report`` draws ``docs/vanishing_gradients.png`` (matplotlib; without it, a one-line error) and
writes ``docs/vanishing_gradients.md`` from the runs' JSON files.

Commands (one run at a time; each prints its wall time)::

    python examples/adding_gradients.py run --net lstm --length 50 --seed 1 --out /tmp/adding
    python examples/adding_gradients.py run --net fully_recurrent --length 50 --seed 1 --out /tmp/adding
    python examples/adding_gradients.py run --net lstm --length 100 --seed 1 --out /tmp/adding
    python examples/adding_gradients.py run --net fully_recurrent --length 100 --seed 1 --out /tmp/adding
    python examples/adding_gradients.py report --out /tmp/adding
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from evorobot.config import experiment_from_dict, load_world
from evorobot.controllers._dense import SQUARED
from evorobot.heldout import held_out
from evorobot.setup import Setup, build
from evorobot.training.gradient import Descent, GradientSpec

ROOT = Path(__file__).resolve().parent.parent
WORLDS = {50: "adding.toml", 100: "adding_100.toml"}
PROFILE_ROWS = 256
NOTES = "<!-- notes: written by hand, kept by `report` -->"


def setup_of(args: argparse.Namespace) -> Setup:
    """The world's task with ``train_pool`` train sequences and the chosen network."""
    exp = load_world(ROOT / "worlds" / WORLDS[args.length])
    task = {"type": "adding", "length": args.length, "train_pool": args.train_pool, "trials": 20}
    if args.net == "lstm":
        controller = {"type": "lstm", "cells": args.cells, "forget_bias_range": [0.0, 5.0]}
    else:
        controller = {"type": "fully_recurrent", "hidden": args.hidden}
    raw = {"experiment": {"name": f"adding_{args.net}", "seed": args.seed}, "simulation": {"dt": exp.simulation.dt},
           "task": task, "controller": controller, "optimizer": {"type": "bptt"}}
    return build(experiment_from_dict(raw, "adding_gradients.py"))


def fr_hidden_errors(params: Any, x: np.ndarray, y: np.ndarray, w: np.ndarray, lengths: np.ndarray,
                     hidden: int) -> tuple[np.ndarray, np.ndarray]:
    """Plain numpy: ``dL/ds(t)`` (R, T, n) of a fully recurrent net (tanh hidden units, sigmoid
    outputs last) under the squared loss, and ``sum_t dL/da(t)`` (n,) (the bias gradient)."""
    w_in, w_rec, bias = (a[0] for a in params)
    n = bias.shape[0]
    out = np.zeros(x.shape[:2] + (n,))
    g_bias = np.zeros(n)
    for r in range(x.shape[0]):
        s, states = np.zeros(n), []
        for t in range(lengths[r]):
            a = bias + w_in @ x[r, t] + w_rec @ s
            s = np.concatenate([np.tanh(a[:hidden]), 1 / (1 + np.exp(-a[hidden:]))])
            states.append(s)
        da_next = np.zeros(n)
        for t in range(lengths[r] - 1, -1, -1):
            s = states[t]
            ds = w_rec.T @ da_next
            ds[hidden:] += 2 * w[r, t] * (s[hidden:] - y[r, t])
            out[r, t] = ds
            da_next = ds * np.concatenate([1 - s[:hidden] ** 2, s[hidden:] * (1 - s[hidden:])])
            g_bias += da_next
    return out, g_bias


def profile(setup: Setup, genome: np.ndarray, args: argparse.Namespace) -> list[float]:
    """Mean ``|dL/dh(t)|`` over the first 256 test sequences at k = 0 .. T - 1 ticks back from the end."""
    task, ctrl = setup.task, setup.controller
    rows = slice(task.n_train, task.n_train + PROFILE_ROWS)
    d = task.data
    x, y, w, lengths = d.inputs[rows], d.targets[rows], d.weights[rows], d.lengths[rows]
    params = ctrl.decode(genome[None])
    if args.net == "lstm":
        errors = ctrl.hidden_errors(params, x, y, w, lengths, SQUARED)
    else:
        errors, g_bias = fr_hidden_errors(params, x, y, w, lengths, args.hidden)
        full = x.shape[1]
        kernel = ctrl.gradient_model("adding_gradients.py").bptt(params, x, y, w, lengths, SQUARED, full, full)[1]
        assert np.allclose(g_bias, kernel.bias[0], rtol=1e-9, atol=1e-14), "numpy backward != kernel"
    norms = np.linalg.norm(errors, axis=2)
    back = np.stack([norms[r, lengths[r] - 1 - np.arange(args.length)] for r in range(norms.shape[0])])
    return [float(v) for v in back.mean(axis=0)]


def test_mse(setup: Setup, genome: np.ndarray) -> float:
    """MSE of the output at each test sequence's last tick, run by the controller's ``step``."""
    task, ctrl = setup.task, setup.controller
    rows = slice(task.n_train, task.n_train + task.n_test)
    x, y, lengths = task.data.inputs[rows], task.data.targets[rows], task.data.lengths[rows]
    n = x.shape[0]
    params = ctrl.decode(np.repeat(genome[None], n, axis=0))
    state, out = ctrl.init_state(params), np.empty((n, 1))
    last = np.empty(n)
    for t in range(int(lengths.max())):
        ctrl.step(params, state, np.ascontiguousarray(x[:, t]), 1.0, out)
        last[lengths - 1 == t] = out[lengths - 1 == t, 0]
    return float(np.mean((last - y[np.arange(n), lengths - 1, 0]) ** 2))


def run(args: argparse.Namespace) -> None:
    setup = setup_of(args)
    task, ctrl = setup.task, setup.controller
    d = task.data
    rows = slice(0, task.n_train)
    x, y, w, lengths = d.inputs[rows], d.targets[rows], d.weights[rows], d.lengths[rows]
    model = ctrl.gradient_model("adding_gradients.py")
    full = x.shape[1]

    def gradient(params: Any, idx: np.ndarray) -> tuple[float, Any]:
        return model.bptt(params, x[idx], y[idx], w[idx], lengths[idx], SQUARED, full, full)

    test_targets = d.targets[task.n_train:][np.arange(task.n_test), d.lengths[task.n_train:] - 1, 0]
    spec = GradientSpec(epochs=args.epochs, batch=args.batch, learning_rate=args.lr, clip=args.clip, init_scale=0.1)
    descent = Descent(ctrl, gradient, w.sum(axis=1), spec, np.random.default_rng(args.seed))
    init_genome = descent.genome.copy()
    print(f"adding T = {args.length}: {args.net} ({ctrl.genome_size} parameters), full BPTT, Adam lr {args.lr}, "
          f"batch {args.batch}, clip {args.clip}, {task.n_train} train sequences, seed {args.seed}; constant "
          f"predictor's test MSE {np.var(test_targets):.4f}", flush=True)
    history: list[float] = []
    t0 = time.perf_counter()
    while descent.done < args.epochs and time.perf_counter() - t0 < 60 * args.minutes:
        epoch = descent.epoch()
        history.append(epoch.loss)
        if descent.done % args.every == 0 or epoch.loss < args.stop:
            print(f"epoch {descent.done:4d}  train MSE {epoch.loss:.5f}  |g| {epoch.notes['grad_norm']:.3g}  "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
        if epoch.loss < args.stop:
            break
    seconds = time.perf_counter() - t0
    genome = descent.genome
    score = held_out(setup, genome)
    assert score is not None
    mse = test_mse(setup, genome)
    result = {"command": " ".join(["python", "examples/adding_gradients.py", *sys.argv[1:]]), "net": args.net, "length": args.length, "seed": args.seed, "parameters": ctrl.genome_size,
              "cells": args.cells, "hidden": args.hidden, "train_pool": task.n_train, "lr": args.lr,
              "batch": args.batch, "clip": args.clip, "epochs": descent.done, "seconds": seconds,
              "sequences_seen": descent.done * task.n_train, "train_mse": history,
              "test_mse": mse, "test_error_rate": score.score, "constant_mse": float(np.var(test_targets)),
              "profile_init": profile(setup, init_genome, args), "profile_trained": profile(setup, genome, args),
              "genome": genome.tolist()}
    print(f"{args.net} T = {args.length}: {descent.done} epochs ({result['sequences_seen']} sequences) in "
          f"{seconds:.0f} s; test MSE {mse:.5f} (constant predictor {result['constant_mse']:.4f}); test error rate "
          f"(|error| >= 0.04) {score.score:.4f}: {'solved' if score.score < 0.01 else 'not solved'}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"adding_{args.net}_T{args.length}_s{args.seed}.json").write_text(json.dumps(result))


def report(args: argparse.Namespace) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("adding_gradients.py report: matplotlib is needed for the plot (pip install matplotlib)")
    runs = [json.loads(p.read_text()) for p in sorted(Path(args.out).glob("adding_*_T*_s*.json"))]
    if not runs:
        sys.exit(f"adding_gradients.py report: no runs in {args.out}")
    lengths = sorted({r["length"] for r in runs})
    fig, axes = plt.subplots(1, len(lengths), figsize=(6 * len(lengths), 4.2), squeeze=False)
    colours = {"lstm": "tab:blue", "fully_recurrent": "tab:red"}
    for ax, length in zip(axes[0], lengths, strict=True):
        labelled = set()
        for r in (r for r in runs if r["length"] == length):
            name = "LSTM" if r["net"] == "lstm" else "fully recurrent"
            for key, style, when in (("profile_init", "--", "at initialisation"), ("profile_trained", "-", "trained")):
                label = None if (r["net"], key) in labelled else f"{name} ({r['parameters']} par.), {when}"
                labelled.add((r["net"], key))
                ax.semilogy(np.arange(length), np.maximum(r[key], 1e-300), style, color=colours[r["net"]],
                            label=label, alpha=0.8, linewidth=1.2)
        seeds = sorted({r["seed"] for r in runs if r["length"] == length})
        ax.set_title(f"adding problem, T = {length} (seeds {', '.join(map(str, seeds))})")
        ax.set_xlabel("k, ticks back from the end of the sequence")
        ax.set_ylabel("mean |dL/dh(T - k)|")
        ax.legend(fontsize=7)
    fig.tight_layout()
    Path(args.png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.png, dpi=110)
    lines = ["# Vanishing gradients on the adding problem", "",
             ("Written by `python examples/adding_gradients.py report` from the runs below (commands in the "
             "script's docstring). Full BPTT, Adam, squared error at the last tick; test = the 2560 held-out "
             "sequences of the world; error rate = the fraction with |error| >= 0.04 (solved: < 1 %)."), "",
             ("| T | network | parameters | seed | epochs | sequences seen | wall s | final train MSE | test MSE "
             "| constant predictor MSE | test error rate |"), "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(runs, key=lambda r: (r["length"], r["net"], r["seed"])):
        lines.append(f"| {r['length']} | {r['net']} | {r['parameters']} | {r['seed']} | {r['epochs']} | "
                     f"{r['sequences_seen']} | {r['seconds']:.0f} | {r['train_mse'][-1]:.5f} | {r['test_mse']:.5f} | "
                     f"{r['constant_mse']:.4f} | {r['test_error_rate']:.4f} |")
    lines += ["", "Mean |dL/dh(T - k)| over the first 256 test sequences (k ticks back from the last tick):", "",
              ("| T | network | seed | when | k = 0 | k = 10 | k = T/4 | k = T/2 | k = 3T/4 | k = T - 1 "
              "| ratio k = T - 1 / k = 0 |"), "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(runs, key=lambda r: (r["length"], r["net"], r["seed"])):
        for key, when in (("profile_init", "init"), ("profile_trained", "trained")):
            p, n = r[key], r["length"]
            lines.append(f"| {n} | {r['net']} | {r['seed']} | {when} | {p[0]:.3g} | {p[10]:.3g} | {p[n // 4]:.3g} | "
                         f"{p[n // 2]:.3g} | {p[3 * n // 4]:.3g} | {p[n - 1]:.3g} | {p[n - 1] / p[0]:.3g} |")
    lines += ["", f"![gradient norm through time]({Path(args.png).name})", "", "Commands (one at a time):", "",
              "```", *(r["command"] for r in sorted(runs, key=lambda r: (r["length"], r["net"], r["seed"]))),
              f"python examples/adding_gradients.py report --out {args.out}", "```", ""]
    md = Path(args.md)
    kept = md.read_text().split(NOTES, 1) if md.exists() else []
    lines += [NOTES + (kept[1] if len(kept) == 2 else "\n")]  # the hand-written reading below the marker stays
    md.write_text("\n".join(lines))
    print(f"wrote {args.png} and {args.md}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="which", required=True)
    p = sub.add_parser("run")
    p.add_argument("--net", choices=["lstm", "fully_recurrent"], required=True)
    p.add_argument("--length", type=int, choices=sorted(WORLDS), default=50)
    p.add_argument("--cells", type=int, default=4)
    p.add_argument("--hidden", type=int, default=8, help="fully recurrent: hidden units (+ 1 output unit)")
    p.add_argument("--train-pool", type=int, default=10000)
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--minutes", type=float, default=8.0)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--stop", type=float, default=1e-4, help="stop when an epoch's training MSE is below this")
    p.add_argument("--every", type=int, default=5, help="print every this many epochs")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default="/tmp/adding")
    p = sub.add_parser("report")
    p.add_argument("--out", default="/tmp/adding")
    p.add_argument("--png", default=str(ROOT / "docs" / "vanishing_gradients.png"))
    p.add_argument("--md", default=str(ROOT / "docs" / "vanishing_gradients.md"))
    args = parser.parse_args()
    run(args) if args.which == "run" else report(args)


if __name__ == "__main__":
    main()
