"""The CTRNN trained by gradient against the same CTRNN evolved (issue 17), and the adjoint's convergence.

1. ``compare``: Tomita grammars (Tomita 1982; ``worlds/tomitaN.toml``: 100 training strings of
   length 0-10, held-out balanced accuracy on 1000 strings of length 11-14) with Beer's layered
   CTRNN (``--hidden`` interneurons, euler at dt = 1 (``--integrator rk4`` for RK4), tau in
   [1, 2], weights and biases in [-5, 5]), once trained by BPTT through its integrator's steps
   (Adam, full BPTT, squared error, the task's class weights), once by Pearlmutter's (1989)
   continuous-time adjoint, once evolved by the world's GA (population 50). Every run writes an
   evolution's run directory and its champion is scored by the normal episode (what ``evorobot
   replay`` prints). One line per run, failures included: the held-out balanced accuracy, the
   wall time and the training sequences seen (an epoch sees each string once; a GA generation
   sees them once per individual). The adjoint trains the ODE, the episode runs the integrator at
   the simulation's dt (``--dt``, default 1): at dt = 1 = tau_min neither euler nor a single RK4
   step resolves the dynamics that the adjoint's networks learn (a Tomita 4 net of ODE loss 1e-5
   has loss 0.27 under euler at dt = 1, 3e-4 at dt = 1/2, 2e-5 at dt = 1/4), so its lines there
   fail where BPTT's, which trains what the episode runs, succeed. Under ``--integrator rk4`` at
   dt = 1 the adjoint's Tomita 4 lines match BPTT's (held-out 0.987-0.997 against 0.986-0.997);
   at ``--dt 0.25`` (euler) both match and both are worse (0.77-0.84 on Tomita 4, 0.5 on Tomita 2:
   with tau >= 4 ticks the net is slow for a symbol a tick).
2. ``convergence``: the gradient through the integrator's steps at dt = 1/m (inputs held for m
   steps, the outputs scored at the ends of the original ticks) against the continuous adjoint
   (64 RK4 steps per tick), relative error of the whole gradient and its ratio per halving: 2 for
   euler (first order), 16 for rk4 (fourth order), on a random 3-interneuron CTRNN.

Commands::

    python examples/ctrnn_gradients.py compare [--grammars 1 2 4] [--seeds 1 2 3] [--epochs 200]
        [--generations 200] [--substeps 4] [--integrator euler] [--dt 1.0] [--methods bptt adjoint ga] [--runs DIR]
    python examples/ctrnn_gradients.py convergence
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from evorobot.config import load_world
from evorobot.controllers.ctrnn import CTRNN, CTRNNSpec
from evorobot.evolution.runner import evolve
from evorobot.setup import build
from evorobot.store import decode_float
from evorobot.training.run import train

NET = ["simulation.dt={dt}", "controller.hidden={hidden}", "controller.integrator=\"{integrator}\"", "controller.tau_range=[1.0, 2.0]"]


def one(grammar: int, method: str, seed: int, args: argparse.Namespace, runs: Path) -> str:
    """Run ``method`` (bptt, adjoint or ga) on Tomita ``grammar``; its line of the table."""
    sets = [f"experiment.seed={seed}"] + [s.format(dt=args.dt, hidden=args.hidden, integrator=args.integrator) for s in NET]
    if method == "ga":
        sets.append(f"evolution.generations={args.generations}")
    elif method == "bptt":
        sets += [f"optimizer.epochs={args.epochs}", f"optimizer.learning_rate={args.lr}", "optimizer.batch=4"]
    else:
        sets += [f"optimizer.epochs={args.epochs}", f"optimizer.learning_rate={args.lr}", "optimizer.batch=4",
                 f"optimizer.substeps={args.substeps}"]
    exp = load_world(f"worlds/tomita{grammar}.toml", sets, controller="ctrnn",
                     optimizer=None if method == "ga" else method)
    out = runs / f"tomita{grammar}-{method}-s{seed}"
    if out.exists():
        shutil.rmtree(out)
    start = time.perf_counter()
    if method == "ga":
        summary = evolve(exp, out, stream=None)
        seen = summary.generations * exp.optimizer.population * exp.task.train_strings
    else:
        summary = train(build(exp), out, ["ctrnn_gradients.py", method], stream=None)
        seen = summary.generations * exp.task.train_strings
    secs = time.perf_counter() - start
    test = json.loads((out / "champion.json").read_text())["held_out"]
    acc = decode_float(test["score"], "held_out")
    return (f"tomita{grammar}  {method:8s} {seed:4d}  {acc:8.3f}  {summary.best_fitness:8.4f}  {secs:7.1f}  "
            f"{seen:10d}")


def compare(args: argparse.Namespace) -> None:
    runs = Path(args.runs) if args.runs else Path(tempfile.mkdtemp())
    print(f"CTRNN 3-{args.hidden}-1 (layered, {args.integrator}, dt {args.dt}, tau [1, 2]) on Tomita: BPTT and adjoint {args.epochs} "
          f"epochs (Adam lr {args.lr}, batch 4, adjoint {args.substeps} RK4 steps a tick), GA {args.generations} "
          f"generations x 50; run directories under {runs}")
    print("world    method   seed  held-out  fitness  seconds  sequences")
    for grammar in args.grammars:
        for method in args.methods:
            for seed in args.seeds:
                print(one(grammar, method, seed, args, runs), flush=True)


def convergence(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    ticks = 6
    x = rng.uniform(-1, 1, (2, ticks, 2))
    y = rng.integers(0, 2, (2, ticks, 2)).astype(float)
    w, lengths = np.ones((2, ticks)), np.full(2, ticks)
    spec = {"hidden": 3, "topology": "full", "tau_range": (1.0, 3.0), "gain_range": (0.5, 2.0),
            "initial_state": "evolved"}
    ctrl = CTRNN(CTRNNSpec(**spec), 2, 2, 1.0)
    p = ctrl.decode(rng.uniform(-0.6, 0.6, (1, ctrl.genome_size)))

    def flat(g: object) -> np.ndarray:
        return np.concatenate([a.ravel() for a in g])  # type: ignore[attr-defined]

    exact = flat(ctrl.adjoint_gradient(p, x, y, w, lengths, 0, 64)[1])
    print("relative error of the discrete gradient against the continuous adjoint (64 RK4 steps a tick)")
    print("integrator  dt        error       ratio")
    for integrator, steps in (("euler", (1, 2, 4, 8, 16, 32, 64)), ("rk4", (1, 2, 4, 8))):
        prev = None
        for m in steps:
            net = CTRNN(CTRNNSpec(**spec, integrator=integrator), 2, 2, 1.0 / m)
            wm = np.zeros((2, ticks * m))
            wm[:, m - 1::m] = w
            _, g = net.gradient_model("convergence").bptt(p, np.repeat(x, m, axis=1), np.repeat(y, m, axis=1), wm,
                                                          lengths * m, 0, ticks * m, ticks * m)
            err = float(np.linalg.norm(flat(g) - exact) / np.linalg.norm(exact))
            ratio = f"{prev / err:.3f}" if prev else ""
            print(f"{integrator:10s}  1/{m:<6d}  {err:.3e}   {ratio}")
            prev = err


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="which", required=True)
    p = sub.add_parser("compare")
    p.add_argument("--grammars", type=int, nargs="+", default=[4])
    p.add_argument("--methods", nargs="+", default=["bptt", "adjoint", "ga"])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--hidden", type=int, default=6)
    p.add_argument("--dt", type=float, default=1.0, help="the simulation's step (the tick's length in ODE time)")
    p.add_argument("--integrator", default="euler", help="the network's integrator (what the episode runs)")
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--substeps", type=int, default=4)
    p.add_argument("--generations", type=int, default=200)
    p.add_argument("--runs", default="")
    p = sub.add_parser("convergence")
    p.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    compare(args) if args.which == "compare" else convergence(args)


if __name__ == "__main__":
    main()
