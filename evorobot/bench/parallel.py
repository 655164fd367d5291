"""Parallel evaluation speed: generations per minute of categorical perception, population 96.

:func:`generations_per_minute` runs the generation loop (``ask`` -> evaluate on the backend of
``--workers N`` -> ``tell``) on the shipped categorical-perception world (96 individuals x 24
trials, the world file's chunks of 16 individuals), without writing a run directory. The backend
is built and warmed up (workers started, numba loaded, one untimed generation) before the clock
starts, so the figure is the steady-state rate a long run sees. ``workers = 1`` is the serial
backend, the baseline a process pool is compared with; the target on 2 cores is 2 workers >= 1.8x
one (issue 20).

The timed generations include what a run pays for parallelism: dispatch and result transfer
(one pipe message each way per chunk) and the barrier at each generation's end (six chunks split
three and three, so a slow chunk leaves the other worker idle); not start-up. 1 and 2 workers are
measured alternately, best of each, since other processes may share the cores.
"""

from __future__ import annotations

import time
from pathlib import Path

WORLD = Path(__file__).resolve().parents[2] / "worlds" / "categorical_perception.toml"


def generations_per_minute(workers: int, generations: int) -> float:
    """Steady-state generations per minute with ``workers`` worker processes (1: serial)."""
    from evorobot.config import load_world
    from evorobot.evolution.backends import make_backend
    from evorobot.evolution.evaluate import evaluate, initializer
    from evorobot.evolution.runner import make_optimizer
    from evorobot.seeding import conditions_rng
    from evorobot.setup import build

    if generations < 1:
        raise ValueError(f"generations must be >= 1, got {generations}")
    exp = load_world(WORLD, ["optimizer.population=96"])
    setup = build(exp)
    seed = exp.experiment.seed
    opt = make_optimizer(setup)
    backend = make_backend(workers)
    try:
        backend.prepare(initializer(exp))
        start = 0.0
        for gen in range(generations + 1):
            if gen == 1:
                start = time.perf_counter()
            conditions = setup.task.conditions(conditions_rng(seed, gen))
            ev = evaluate(setup, opt.ask(), conditions, exp.evolution.chunk_size, backend)
            opt.tell(ev.fitness)
        return 60.0 * generations / (time.perf_counter() - start)
    finally:
        backend.close()


def bench_parallel(quick: bool) -> list[dict]:
    """Rows for ``evorobot bench``: 1 and 2 workers measured alternately in this run, best of each."""
    from evorobot.bench.measure import row

    generations, rounds = (1, 1) if quick else (4, 3)
    one, two = 0.0, 0.0
    for _ in range(rounds):
        one = max(one, generations_per_minute(1, generations))
        two = max(two, generations_per_minute(2, generations))
    return [
        row("evolve.cp.workers1", one, "generations/min"),
        row("evolve.cp.workers2", two, "generations/min", one, two / one),
    ]
