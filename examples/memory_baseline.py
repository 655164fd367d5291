"""Evolve a truly stateless feed-forward controller on a world file (baseline for the memory task).

A 7-input -> H sigmoid hidden -> 2 sigmoid motor network, outputs a pure function of the current
inputs (no neuron states, no time constants). Weights and biases in [-5, 5] (the CTRNN's ranges).
Same GA, population, seed, trial grid and episode loop as `evorobot evolve`.

usage: python examples/memory_baseline.py WORLD OUT.json [--generations N] [--hidden H] [--symmetric]
"""
import argparse, json, sys, time
from typing import NamedTuple

import numpy as np

from evorobot.config import load_world
from evorobot.controllers.base import Controller
from evorobot.evolution import OPTIMIZERS
from evorobot.evolution.evaluate import evaluate
from evorobot.seeding import conditions_rng, optimizer_seed
from evorobot.setup import Setup, build


class FFParams(NamedTuple):
    w1: np.ndarray  # (B, H, n_in)
    b1: np.ndarray  # (B, H)
    w2: np.ndarray  # (B, n_out, H)
    b2: np.ndarray  # (B, n_out)


class FeedForward(Controller):
    name = "feedforward"
    Spec = dict

    def __init__(self, n_inputs: int, n_outputs: int, hidden: int, scale: float = 5.0, symmetric: bool = False):
        self.n_inputs, self.n_outputs, self.hidden, self.scale = n_inputs, n_outputs, hidden, scale
        self.symmetric = symmetric
        self.sizes = [hidden * n_inputs, hidden, n_outputs * hidden, n_outputs]
        self.genome_size = sum(self.sizes)

    def decode(self, genomes):
        g = np.asarray(genomes, dtype=np.float64) * self.scale
        B = g.shape[0]
        i = np.cumsum([0] + self.sizes)
        w1 = g[:, i[0]:i[1]].reshape(B, self.hidden, self.n_inputs).copy()
        b1 = g[:, i[1]:i[2]].copy()
        w2 = g[:, i[2]:i[3]].reshape(B, self.n_outputs, self.hidden).copy()
        b2 = g[:, i[3]:i[4]].copy()
        if self.symmetric:  # mirror: hidden j <-> H-1-j, input k <-> n-1-k, output m <-> 1-m
            w1 = 0.5 * (w1 + w1[:, ::-1, ::-1]); b1 = 0.5 * (b1 + b1[:, ::-1])
            w2 = 0.5 * (w2 + w2[:, ::-1, ::-1]); b2 = 0.5 * (b2 + b2[:, ::-1])
        return FFParams(w1, b1, w2, b2)

    def init_state(self, params):
        return None  # no state at all

    def step(self, params, state, inputs, dt, out):
        h = 1.0 / (1.0 + np.exp(-(np.einsum("bhk,bk->bh", params.w1, inputs) + params.b1)))
        out[:] = 1.0 / (1.0 + np.exp(-(np.einsum("bmh,bh->bm", params.w2, h) + params.b2)))

    def describe(self, params, i):
        return {k: getattr(params, k)[i].tolist() for k in FFParams._fields}

    def trace(self, state):
        return {}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("world"); ap.add_argument("out")
    ap.add_argument("--generations", type=int); ap.add_argument("--hidden", type=int, default=5)
    ap.add_argument("--symmetric", action="store_true")
    ap.add_argument("--set", action="append", default=[])
    a = ap.parse_args(argv)
    exp = load_world(a.world, a.set)
    base = build(exp)
    ff = FeedForward(exp.agent.n_inputs, exp.agent.n_outputs, a.hidden, symmetric=a.symmetric)
    setup = Setup(exp, base.task, ff)
    seed = exp.experiment.seed
    opt = OPTIMIZERS[exp.optimizer_type](exp.optimizer, ff.genome_size, optimizer_seed(seed))
    gens = a.generations or exp.evolution.generations
    best, best_g, best_gen, hist = -np.inf, None, -1, []
    t0 = time.perf_counter()
    for gen in range(gens):
        genomes = opt.ask()
        cond = setup.task.conditions(conditions_rng(seed, gen))
        ev = evaluate(setup, genomes, cond, exp.evolution.chunk_size)
        stats = opt.tell(ev.fitness)
        i = int(np.nanargmax(ev.fitness))
        if ev.fitness[i] > best:
            best, best_g, best_gen, best_trials = float(ev.fitness[i]), genomes[i].copy(), gen, ev.trials[i].tolist()
        hist.append([gen, float(ev.fitness[i]), float(np.mean(ev.fitness))])
        print(f"gen {gen + 1}/{gens} best {ev.fitness[i]:.4f} mean {np.mean(ev.fitness):.4f} best-ever {best:.4f}",
              file=sys.stderr, flush=True)
    doc = {"world": a.world, "hidden": a.hidden, "symmetric": a.symmetric, "generations": gens,
           "seconds": time.perf_counter() - t0, "best_fitness": best, "best_generation": best_gen,
           "trials": best_trials, "genome": best_g.tolist(), "history": hist, "set": a.set}
    json.dump(doc, open(a.out, "w"), indent=1)
    print(f"best {best:.6f} at generation {best_gen}; {doc['seconds']:.1f} s")


if __name__ == "__main__":
    main()
