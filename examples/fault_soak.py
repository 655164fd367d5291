"""Fault-injection soak: interrupt real evolution runs in many ways and check that nothing is lost.

    python examples/fault_soak.py [--runs 20] [--seed 1] [--generations 40] [--work DIR]

Every run is the same small categorical-perception evolution (worlds/categorical_perception.toml,
4 offsets, population 24); the uninterrupted serial run is the reference. Fault classes, each
``--runs`` times at moments drawn from ``--seed``:

- ``kill run``: SIGKILL of the whole ``evorobot evolve`` at a random moment, then up to two more
  SIGKILLs of ``evorobot resume`` at random moments, then ``resume`` to the end;
- ``kill worker``: ``--workers 2``, SIGKILL of one worker process at a random moment (the backend
  replaces it and retries its chunk);
- ``stop worker``: ``--workers 2 --chunk-timeout 3``, SIGSTOP of one worker at a random moment
  (the chunk deadline kills and replaces it);
- ``file size cut``: the run under ``RLIMIT_FSIZE`` of a random 1-8 KiB (writes past it fail
  with EFBIG, as on a full disk), then ``resume`` with no limit.

For each run: did it finish (``survived``), is its result identical to the reference (champion
genome and fitness, and every column of ``history.csv`` but wall time), were temporary files
left behind after the final command, and was every failure one line (``evorobot: error: ...``)
rather than a traceback. Prints a Markdown table. Nothing here is a test: the tests in
``tests/test_faults*.py`` pin each mechanism; this counts how often it holds under random timing.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORLD = ROOT / "worlds" / "categorical_perception.toml"
DEADLINE = 300.0


@dataclass
class Tally:
    runs: int = 0
    survived: int = 0
    identical: int = 0
    stale_tmp: int = 0
    tracebacks: int = 0
    one_line_failures: int = 0
    notes: list[str] = field(default_factory=list)


def evolve_args(out: Path, generations: int, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "evorobot.cli", "evolve", str(WORLD), "--set", "task.offsets=4",
            "--population", "24", "--generations", str(generations), "--out", str(out), *extra]


def resume_args(out: Path) -> list[str]:
    return [sys.executable, "-m", "evorobot.cli", "resume", str(out)]


def start(args: list[str], limit_bytes: int | None = None) -> subprocess.Popen[str]:
    def limit() -> None:
        if limit_bytes is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=limit, start_new_session=True)  # noqa: PLW1509 - no threads here


def finish(proc: subprocess.Popen[str], tally: Tally) -> int:
    _, err = proc.communicate(timeout=DEADLINE)
    if proc.returncode not in (0, -signal.SIGKILL):
        lines = err.strip().splitlines()
        if "Traceback" in err or not lines or not lines[-1].startswith("evorobot: error: "):
            tally.tracebacks += 1
            tally.notes.append(err.strip()[-300:])
        else:
            tally.one_line_failures += 1
    return proc.returncode


def grandchildren(pid: int) -> list[int]:
    """Worker processes: children of the forkserver, itself a child of ``pid`` (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    kids = {p for p, pp in parents.items() if pp == pid}
    return sorted(p for p, pp in parents.items() if pp in kids)


def result(run: Path) -> tuple[object, ...]:
    champ = json.loads((run / "champion.json").read_text())
    with (run / "history.csv").open() as f:
        rows = [{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(f)]
    return champ["fitness"], champ["genome"], champ["generation"], rows


def settle(run: Path, tally: Tally, reference: tuple[object, ...], kills: int, rng: random.Random,
           span: float) -> None:
    """Resume (killing it up to ``kills`` times) until it finishes, then compare with the reference."""
    for attempt in range(kills + 6):
        proc = start(resume_args(run))
        if attempt < kills:
            time.sleep(rng.uniform(0.2, span))
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        if finish(proc, tally) == 0:
            break
    else:
        tally.notes.append(f"{run.name}: did not finish after {kills + 6} resumes")
        return
    tally.survived += 1
    tally.identical += result(run) == reference
    tally.stale_tmp += sum(1 for p in run.rglob("*") if p.name.endswith(".tmp"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--generations", type=int, default=40)
    parser.add_argument("--work", type=Path, default=Path("/tmp/evorobot-soak"))
    a = parser.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    a.work.mkdir(parents=True)
    rng = random.Random(a.seed)
    t0 = time.monotonic()
    ref_proc = start(evolve_args(a.work / "reference", a.generations, []))
    assert finish(ref_proc, Tally()) == 0, "the reference run failed"
    span = time.monotonic() - t0
    reference = result(a.work / "reference")
    tallies: dict[str, Tally] = {}

    t = tallies.setdefault("kill run (SIGKILL evolve, then resume, killed again up to twice)", Tally())
    for i in range(a.runs):
        run = a.work / f"kill-{i}"
        proc = start(evolve_args(run, a.generations, []))
        time.sleep(rng.uniform(0.3, span))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        t.runs += 1
        if finish(proc, t) == 0:
            t.survived += 1
            t.identical += result(run) == reference
            continue
        if not (run / "config.json").exists():  # killed before the run directory existed: start again
            shutil.rmtree(run, ignore_errors=True)
            finish(start(evolve_args(run, a.generations, [])), t)
            t.survived += 1
            t.identical += result(run) == reference
            continue
        settle(run, t, reference, rng.randrange(3), rng, span)

    for name, extra, sig in (("kill worker (SIGKILL one of 2 workers)", [], signal.SIGKILL),
                             ("stop worker (SIGSTOP one of 2 workers, --chunk-timeout 3)",
                              ["--chunk-timeout", "3"], signal.SIGSTOP)):
        t = tallies.setdefault(name, Tally())
        for i in range(a.runs):
            run = a.work / f"{sig.name}-{i}"
            proc = start(evolve_args(run, a.generations, ["--workers", "2", *extra]))
            time.sleep(rng.uniform(1.0, span + 1.0))
            workers = grandchildren(proc.pid)
            if workers:
                os.kill(rng.choice(workers), sig)
            t.runs += 1
            if finish(proc, t) == 0:
                t.survived += 1
                t.identical += result(run) == reference
                t.stale_tmp += sum(1 for p in run.rglob("*") if p.name.endswith(".tmp"))
            else:
                settle(run, t, reference, 0, rng, span)

    t = tallies.setdefault("file size cut (RLIMIT_FSIZE 1-8 KiB: EFBIG as on a full disk, then resume)", Tally())
    for i in range(a.runs):
        run = a.work / f"fsize-{i}"
        proc = start(evolve_args(run, a.generations, []), limit_bytes=rng.randrange(1024, 8192))
        t.runs += 1
        if finish(proc, t) == 0:
            t.survived += 1
            t.identical += result(run) == reference
            continue
        if not (run / "config.json").exists():
            t.notes.append(f"{run.name}: refused before the run directory was written")
            shutil.rmtree(run, ignore_errors=True)
            finish(start(evolve_args(run, a.generations, [])), t)
            t.survived += 1
            t.identical += result(run) == reference
            continue
        settle(run, t, reference, 0, rng, span)

    print(f"reference: {a.generations} generations, population 24, 4 offsets, {span:.1f} s; seed {a.seed}\n")
    print("| fault | runs | survived | identical to the uninterrupted run | one-line failures | tracebacks "
          "| stale *.tmp after the last command |")
    print("|---|---|---|---|---|---|---|")
    for name, t in tallies.items():
        print(f"| {name} | {t.runs} | {t.survived} | {t.identical} | {t.one_line_failures} | {t.tracebacks} "
              f"| {t.stale_tmp} |")
    for name, t in tallies.items():
        for note in t.notes:
            print(f"\n{name}: {note}")


if __name__ == "__main__":
    main()
