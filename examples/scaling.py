"""A measured scaling table, printed as Markdown: how evorobot's speed grows with the batch, the
network, the trials per individual and the worker processes.

    python examples/scaling.py [--repeats 3] [--generations 4]

1. Episode agent-steps/s against batch size: 16, 64, 256, 1024 and 4096 agents of categorical
   perception (Beer 2003) and of phototaxis (Khepera robots), 16 trials per individual and
   batch / 16 individuals, whole trials.
2. Against network size: CTRNNs of 5, 10, 50 and 200 neurons (hidden + 2 motor neurons) driving
   categorical perception at 384 agents (16 individuals x 24 trials).
3. Against trials per individual at 384 agents: 2, 6, 24 and 96 trials (192, 64, 16 and 4
   individuals; each individual's trials share one pymunk Space).
4. Evolution generations/min of categorical perception (population 96) with 1 and 2 worker
   processes (:func:`evorobot.bench.parallel.generations_per_minute`).

Every figure is the best of ``--repeats`` timed runs after a warm-up, one measurement after the
other in one process (no two at once); episode figures time the step loop, not the building of
the worlds (given apart, in ms); agent-steps are agents x ticks of the batch, as in ``evorobot
bench``. Random genomes (seeded). The machine's load average is printed with the table: these are
wall-clock figures, and on a shared machine other processes take their share.
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

import numpy as np

from evorobot.bench.measure import best_time
from evorobot.bench.parallel import generations_per_minute
from evorobot.config import load_world
from evorobot.episode import Episode
from evorobot.seeding import conditions_rng
from evorobot.setup import build

WORLDS = Path(__file__).resolve().parents[1] / "worlds"
CP, PT = WORLDS / "categorical_perception.toml", WORLDS / "phototaxis.toml"
BATCHES = (16, 64, 256, 1024, 4096)
NEURONS = (5, 10, 50, 200)
TRIALS = (2, 6, 24, 96)
AGENTS = 384


def episode_rate(world: Path, overrides: list[str], individuals: int, repeats: int) -> tuple[float, float, int]:
    """``(agent-steps/s, build ms, agents)`` of one batched :class:`Episode` over whole trials."""
    setup = build(load_world(world, overrides))
    cond = setup.task.conditions(conditions_rng(1, 0))
    genomes = np.random.default_rng(2024).uniform(-1.0, 1.0, (individuals, setup.genome_size))
    warm = Episode(setup, genomes[:1], cond[:1])
    for _ in range(3):
        warm.tick()  # compile / load every kernel of the loop
    ep = Episode(setup, genomes, cond)
    build_s = best_time(lambda: Episode(setup, genomes, cond), 1, min(repeats, 2))
    seconds = best_time(ep.run, 1, repeats, setup=ep.reset)
    return ep.n_agents * ep.step_count / seconds, build_s * 1e3, ep.n_agents


def _rate(v: float) -> str:
    return f"{v / 1e6:.2f} M"


def batch_table(repeats: int) -> list[str]:
    lines = ["| agents | categorical perception (agent-steps/s) | build (ms) | phototaxis (robot-steps/s) | build (ms) |",
             "|---:|---:|---:|---:|---:|"]
    for b in BATCHES:
        cp, cp_ms, n_cp = episode_rate(CP, ["task.offsets=8"], b // 16, repeats)
        pt, pt_ms, n_pt = episode_rate(PT, ["task.trials=16"], b // 16, repeats)
        assert n_cp == n_pt == b
        lines.append(f"| {b} | {_rate(cp)} | {cp_ms:.0f} | {_rate(pt)} | {pt_ms:.0f} |")
    return lines


def network_table(repeats: int) -> list[str]:
    lines = ["| neurons (hidden + 2 motor) | agent-steps/s | us per agent-step |", "|---:|---:|---:|"]
    for n in NEURONS:
        rate, _, agents = episode_rate(CP, [f"controller.hidden={n - 2}"], AGENTS // 24, repeats)
        assert agents == AGENTS
        lines.append(f"| {n} | {_rate(rate)} | {1e6 / rate:.3f} |")
    return lines


def trials_table(repeats: int) -> list[str]:
    lines = ["| trials per individual | individuals | agent-steps/s | build (ms) |", "|---:|---:|---:|---:|"]
    for t in TRIALS:
        rate, ms, agents = episode_rate(CP, [f"task.offsets={t // 2}"], AGENTS // t, repeats)
        assert agents == AGENTS
        lines.append(f"| {t} | {AGENTS // t} | {_rate(rate)} | {ms:.0f} |")
    return lines


def workers_table(generations: int, repeats: int) -> list[str]:
    best = {w: 0.0 for w in (1, 2)}
    for _ in range(repeats):  # alternately, so that a burst of load on the machine hits both
        for w in (1, 2):
            best[w] = max(best[w], generations_per_minute(w, generations))
    lines = ["| workers | generations/min | speed-up |", "|---:|---:|---:|"]
    lines += [f"| {w} | {g:.1f} | {g / best[1]:.2f}x |" for w, g in best.items()]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per figure (the best is kept)")
    parser.add_argument("--generations", type=int, default=4, help="timed generations per worker figure")
    args = parser.parse_args()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"<!-- {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average before: {load} -->")
    sections = (
        ("Episode speed against batch size (16 trials per individual, one core)", batch_table(args.repeats)),
        ("Against network size (categorical perception, 384 agents, one core)", network_table(args.repeats)),
        ("Against trials per individual (categorical perception, 384 agents, one core)", trials_table(args.repeats)),
        ("Evolution against workers (categorical perception, population 96)",
         workers_table(args.generations, args.repeats)),
    )
    for title, lines in sections:
        print(f"\n**{title}**\n")
        print("\n".join(lines), flush=True)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n<!-- load average after: {load} -->")


if __name__ == "__main__":
    main()
