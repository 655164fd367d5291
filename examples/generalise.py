"""Re-evaluate a champion on its own trials and on a denser grid of fresh trials.

For one champion, ``evorobot replay CHAMPION --set task.KEY=VALUE`` does the same from the command
line; this script also compares the feed-forward baseline of examples/memory_baseline.py.

usage: python examples/generalise.py CHAMPION.json [--set task.KEY=VALUE ...]   (overrides define the dense grid)
       python examples/generalise.py --ff FF.json WORLD [--set ...]             (a feed-forward baseline's genome)
"""
import argparse, json, math, sys
from pathlib import Path

import numpy as np

from evorobot.config import apply_overrides, experiment_from_dict, load_world
from evorobot.episode import Episode
from evorobot.seeding import conditions_rng
from evorobot.setup import Setup, build


def run(setup, genome, cond):
    res = Episode(setup, np.asarray(genome, dtype=np.float64)[None, :], cond).run()
    return math.fsum(res.fitness[0]) / len(cond), res.fitness[0], int(res.failed.sum())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("champion"); ap.add_argument("world", nargs="?")
    ap.add_argument("--ff", action="store_true"); ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--per-trial", action="store_true")
    a = ap.parse_args()
    d = json.load(open(a.champion))
    if a.ff:
        sys.path.insert(0, str(Path(__file__).resolve().parent))  # examples/memory_baseline.py
        from memory_baseline import FeedForward
        def mk(overrides):
            exp = load_world(a.world, d.get("set", []) + overrides)
            base = build(exp)
            ff = FeedForward(exp.agent.n_inputs, exp.agent.n_outputs, d["hidden"], symmetric=d["symmetric"])
            return Setup(exp, base.task, ff)
        genome, gen, seed = d["genome"], d["best_generation"], 1
    else:
        def mk(overrides):
            raw = apply_overrides(d["experiment"], overrides)
            return build(experiment_from_dict(raw, "champion"))
        genome, gen, seed = [float(x) for x in d["genome"]], d["generation"], d["seed"]
    own = mk([])
    f_own, _, _ = run(own, genome, own.task.conditions(conditions_rng(seed, gen)))
    dense = mk(a.set)
    cond = dense.task.conditions(conditions_rng(seed, 10**6))
    f_dense, trials, failed = run(dense, genome, cond)
    print(json.dumps({"evaluation_trials": own.task.n_trials, "fitness_eval": f_own,
                      "dense_trials": len(cond), "fitness_dense": f_dense, "failed_dense": failed}))
    if a.per_trial:
        for c, f in zip(cond, trials):
            print(" ".join(f"{v:8.3f}" for v in c), f"{f:.3f}")


if __name__ == "__main__":
    main()
