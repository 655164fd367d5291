"""``evorobot sweep``: one evolution per seed, run side by side, summarised in one table.

Evolutionary robotics reports results over independent runs (Beer 2003 ran several seeds of the
categorical-perception task; Harvey et al. and Quinn et al. report how many of their runs
succeeded), so seeds are a first-class thing here:

    evorobot sweep WORLD --seeds 1-10 [--out DIR] [--target 0.95] [--workers N | --dask ADDRESS]

Each seed is an ordinary ``evorobot evolve WORLD --seed S --out DIR/seed-S`` in its own process,
serial inside (so its run directory is bitwise what that command alone writes); ``--workers N``
runs N seeds at once on this machine, ``--dask`` runs them as tasks on a dask cluster (each task
starts the same command on its worker, whose file system must hold DIR). Running the sweep again
on DIR goes on where it stopped: finished seeds are kept, interrupted ones are resumed
(``evorobot resume``, exact), missing ones started. ``DIR/sweep.json`` records the command line
and each seed's wall time; a second sweep with another world or other settings on the same DIR is
refused. The summary (``DIR/summary.csv`` and ``DIR/summary.md``, printed as Markdown) has per
seed: the best fitness ever, the generation at which it first reached ``--target``, the
champion's score (on the validation trials where the world has them), the generations done and
the wall time; and a last line with how many seeds reached the target.
"""

from __future__ import annotations

import csv
import io
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from evorobot.errors import ConfigError
from evorobot.store import read_json, write_json, write_text

MAX_SEEDS = 10_000
SUMMARY_COLUMNS = ("seed", "status", "generations", "best", "reached_at", "champion", "champion_trials", "wall_s")


def parse_seeds(text: str) -> list[int]:
    """``"1-10"``, ``"1,3,5"``, ``"1-5,8"`` -> sorted distinct non-negative seeds."""
    seeds: set[int] = set()
    for part in text.split(","):
        lo, sep, hi = part.strip().partition("-")
        try:
            a, b = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise ConfigError(f"--seeds {text!r}: `{part.strip()}` is not a seed or a range like 1-10") from None
        if a < 0 or b < a:
            raise ConfigError(f"--seeds {text!r}: `{part.strip()}` must be a non-negative seed or a range lo-hi "
                              "with lo <= hi")
        if b - a + 1 + len(seeds) > MAX_SEEDS:
            raise ConfigError(f"--seeds {text!r}: more than {MAX_SEEDS} seeds")
        seeds.update(range(a, b + 1))
    return sorted(seeds)


@dataclass(frozen=True)
class SeedResult:
    """One seed's row of the summary."""

    seed: int
    status: str  # "done", or why not
    generations: int
    best: float | None
    reached_at: int | None
    champion: float | None
    champion_trials: str
    wall_s: float

    def row(self) -> list[str]:
        def num(x: float | None) -> str:
            return "" if x is None else repr(x)

        return [str(self.seed), self.status, str(self.generations), num(self.best), num(self.reached_at),
                num(self.champion), self.champion_trials, f"{self.wall_s:.1f}"]


def _history(run: Path) -> list[dict[str, str]]:
    path = run / "history.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _planned(run: Path) -> int | None:
    """Generations the run directory is configured for (None: no run there yet)."""
    cfg = run / "config.json"
    if not cfg.is_file():
        return None
    raw = read_json(cfg, "run configuration")
    try:
        return int(raw["evolution"]["generations"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"{cfg}: not an evolution run's configuration (no evolution.generations)") from None


def seed_result(run: Path, seed: int, target: float | None, wall_s: float, status: str = "done") -> SeedResult:
    """The summary row of ``run`` (a run directory of ``evorobot evolve``)."""
    rows = _history(run)
    if rows and "best_ever" not in rows[0]:
        raise ConfigError(f"{run / 'history.csv'}: no best_ever column: sweep summarises evolution runs")
    best = float(rows[-1]["best_ever"]) if rows else None
    reached = None
    if target is not None:
        reached = next((int(r["generation"]) for r in rows if float(r["best_ever"]) >= target), None)
    champion, trials = None, ""
    if (run / "champion.json").is_file():
        champ = read_json(run / "champion.json", "champion")
        champion, trials = float(champ["fitness"]), str(champ.get("trial_set", ""))
    return SeedResult(seed, status, len(rows), best, reached, champion, trials, wall_s)


def _run(command: list[str], log: Path) -> tuple[int, float]:
    """Run one evolve/resume command, its output appended to ``log``; (exit code, wall seconds)."""
    t0 = time.monotonic()
    with log.open("ab") as fh:
        code = subprocess.run(command, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              check=False).returncode
    return code, time.monotonic() - t0


def _command(run: Path, world: str, seed: int, passthrough: Sequence[str]) -> list[str]:
    base = [sys.executable, "-m", "evorobot.cli"]
    if _planned(run) is not None:
        return [*base, "resume", str(run)]
    if run.exists():  # a run killed before it wrote its configuration holds nothing to keep
        for p in sorted(run.rglob("*"), reverse=True):
            p.rmdir() if p.is_dir() else p.unlink()
        run.rmdir()
    return [*base, "evolve", world, "--seed", str(seed), "--out", str(run), *passthrough]


class _State:
    """``DIR/sweep.json``: the sweep's command and each finished seed's wall time (written atomically)."""

    def __init__(self, out: Path, key: dict[str, Any]) -> None:
        self.path, self.lock = out / "sweep.json", threading.Lock()
        self.data: dict[str, Any] = {**key, "wall_s": {}}
        if self.path.is_file():
            old = read_json(self.path, "sweep state")
            if not isinstance(old, dict) or not isinstance(old.get("wall_s"), dict):
                raise ConfigError(f"{self.path}: not a sweep state file")
            for k, v in key.items():
                if old.get(k) != v:
                    raise ConfigError(f"{out}: a sweep with another {k} ({old.get(k)!r}) is stored there; "
                                      "use another --out")
            self.data["wall_s"] = old["wall_s"]

    def add(self, seed: int, seconds: float) -> float:
        with self.lock:
            total = float(self.data["wall_s"].get(str(seed), 0.0)) + seconds
            self.data["wall_s"][str(seed)] = total
            write_json(self.path, self.data)
            return total

    def wall(self, seed: int) -> float:
        return float(self.data["wall_s"].get(str(seed), 0.0))


def _finished(run: Path) -> bool:
    planned = _planned(run)
    return planned is not None and len(_history(run)) >= planned


def sweep(world: str, seeds: Sequence[int], out: Path, passthrough: Sequence[str] = (), workers: int = 1,
          dask: str | None = None, target: float | None = None, stream: TextIO | None = None) -> list[SeedResult]:
    """Run (or go on with) one evolution per seed in ``out``; write and return the summary (module docstring)."""
    if workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    if not Path(world).is_file():
        raise ConfigError(f"{world}: world file not found")
    out.mkdir(parents=True, exist_ok=True)
    state = _State(out, {"world": str(Path(world).resolve()), "settings": list(passthrough)})
    say: Callable[[str], None] = (lambda s: print(s, file=stream, flush=True)) if stream else (lambda s: None)
    todo = [s for s in seeds if not _finished(out / f"seed-{s}")]
    if len(todo) < len(seeds):
        say(f"{len(seeds) - len(todo)} of {len(seeds)} seeds already finished in {out}")
    results: dict[int, SeedResult] = {}

    def one(seed: int) -> tuple[int, float]:
        run = out / f"seed-{seed}"
        code, secs = _run(_command(run, world, seed, passthrough), out / f"seed-{seed}.log")
        return code, secs

    def record(seed: int, code: int, secs: float) -> None:
        wall = state.add(seed, secs)
        run = out / f"seed-{seed}"
        status = "done" if code == 0 and _finished(run) else f"failed (exit {code}; see seed-{seed}.log)"
        results[seed] = seed_result(run, seed, target, wall, status)
        r = results[seed]
        reach = "" if target is None else (f", reached {target:g} at generation {r.reached_at}"
                                           if r.reached_at is not None else f", did not reach {target:g}")
        best = "-" if r.best is None else f"{r.best:.6f}"
        say(f"seed {seed}: {r.status}, best {best}{reach}, {secs:.0f} s [{len(results)}/{len(todo)}]")

    if dask is not None:
        _on_dask(dask, todo, one, record, workers)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            running: dict[Future[tuple[int, float]], int] = {pool.submit(one, s): s for s in todo}
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for f in done:
                    record(running.pop(f), *f.result())
    rows = [results.get(s) or seed_result(out / f"seed-{s}", s, target, state.wall(s)) for s in seeds]
    write_summary(out, rows, target)
    say(summary_markdown(rows, target))
    return rows


def _on_dask(address: str, seeds: list[int], one: Callable[[int], tuple[int, float]],
             record: Callable[[int, int, float], None], workers: int) -> None:
    """Each seed as one task on a dask cluster, connected as ``--dask`` connects evolve
    (:class:`~evorobot.evolution.dask_backend.DaskBackend`: the probe, the deadlines, a private
    ``local`` cluster of ``workers`` processes)."""
    from evorobot.evolution.dask_backend import DaskBackend

    backend = DaskBackend(address, workers if address == "local" else None)
    try:
        import distributed

        futures = {backend.client.submit(one, s, pure=False): s for s in seeds}
        for f in distributed.as_completed(futures):
            record(futures[f], *f.result())
    finally:
        backend.close()


def write_summary(out: Path, rows: Sequence[SeedResult], target: float | None) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SUMMARY_COLUMNS)
    w.writerows(r.row() for r in rows)
    write_text(out / "summary.csv", buf.getvalue())
    write_text(out / "summary.md", summary_markdown(rows, target) + "\n")


def summary_markdown(rows: Sequence[SeedResult], target: float | None) -> str:
    """The summary as a Markdown table with a closing line (seeds that reached the target, medians)."""
    def f(x: float | None, fmt: str = ".4f") -> str:
        return "-" if x is None else format(x, fmt)

    lines = ["| seed | status | generations | best | " + (f"first gen >= {target:g} | " if target is not None else "")
             + "champion | champion trials | wall s |",
             "|---|---|---|---|" + ("---|" if target is not None else "") + "---|---|---|"]
    for r in rows:
        reach = "" if target is None else (f"{r.reached_at} | " if r.reached_at is not None else "never | ")
        lines.append(f"| {r.seed} | {r.status} | {r.generations} | {f(r.best)} | {reach}{f(r.champion)} | "
                     f"{r.champion_trials or '-'} | {r.wall_s:.0f} |")
    bests = [r.best for r in rows if r.best is not None]
    tail = f"{len(rows)} seeds; median best {f(statistics.median(bests) if bests else None)}"
    if target is not None:
        hit = sum(r.reached_at is not None for r in rows)
        tail += f"; {hit} of {len(rows)} reached {target:g}"
    walls = [r.wall_s for r in rows]
    tail += f"; wall time per seed {min(walls):.0f}-{max(walls):.0f} s" if walls else ""
    return "\n".join(lines) + "\n\n" + tail

