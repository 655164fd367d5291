"""Command line: ``evorobot evolve | resume | replay | view | plot | analyze | list | bench``.

``main(argv) -> int``. A user mistake (:class:`~evorobot.errors.EvorobotError`) prints one line
``evorobot: error: ...`` on stderr and returns 2, with no traceback and nothing written. Heavy
imports (numba kernels, pymunk) happen inside the commands, so ``--help`` stays instant.

Exit codes:

- 0: done (``replay``: the champion reproduced its stored fitness);
- 1: ``replay`` computed a fitness different from the stored one;
- 2: a user error (bad option, world file, champion or run directory), one line on stderr;
- 130 / 143: ``evolve`` or ``resume`` stopped by SIGINT (Ctrl-C) / SIGTERM. After the first
  signal the generation in flight finishes and a checkpoint is written; a second signal aborts
  at once and abandons that generation. Either way ``evorobot resume RUN_DIR`` continues the
  run from its last checkpoint exactly as if it had never stopped.

``evolve`` and ``resume`` evaluate on ``--workers N`` processes (1: in this process) or on a dask
cluster (``--dask local`` or ``--dask tcp://HOST:PORT``, see docs/cluster.md); results never
depend on the backend or the number of workers.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evorobot.errors import EvorobotError

EXIT_USAGE = 2
EXIT_SIGNAL_BASE = 128  # stopped by signal N: exit 128 + N (SIGINT 130, SIGTERM 143)


def _seed(text: str) -> int:
    """A seed: an integer >= 0 (numpy's SeedSequence refuses negative ones)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def printable(text: str) -> str:
    """``text`` with control characters (a terminal escape in a key or a file name) shown as escapes."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def _add_backend_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, metavar="N",
                   help="worker processes (default 1: evaluate in this process); with --dask local, its workers")
    p.add_argument("--dask", metavar="ADDRESS", help="evaluate on a dask cluster: a scheduler address "
                   "(tcp://host:8786) or `local` (a LocalCluster on 127.0.0.1 of --workers processes, "
                   "default 2); needs evorobot[dask]")
    p.add_argument("--chunk-timeout", type=float, metavar="SECONDS",
                   help="a chunk with no result after this long is retried once on a fresh worker, "
                        "then its individuals score worst")
    p.add_argument("--startup-timeout", type=float, metavar="SECONDS",
                   help="a worker not ready this long after its start (imports, numba's cache) is replaced; "
                        "default 300, enough for a cold numba cache on a slow machine")


def _parser() -> argparse.ArgumentParser:
    from evorobot import __version__

    p = argparse.ArgumentParser(prog="evorobot", description="Evolutionary robotics with CTRNNs in 2-D pymunk worlds.")
    p.add_argument("--version", action="version", version=f"evorobot {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ev = sub.add_parser("evolve", help="evolve controllers for a world file")
    ev.add_argument("world", help="world file (TOML), e.g. worlds/categorical_perception.toml")
    ev.add_argument("--generations", type=int, help="override [evolution] generations")
    ev.add_argument("--population", type=int, help="override [optimizer] population")
    ev.add_argument("--seed", type=_seed, help="override [experiment] seed")
    ev.add_argument("--out", help="run directory (default runs/NAME-sSEED)")
    ev.add_argument("--set", action="append", default=[], metavar="TABLE.KEY=VALUE",
                    help="override any world-file setting (repeatable)")
    ev.add_argument("--controller", metavar="TYPE", help="replace the world file's [controller] table by TYPE's "
                    "defaults (then --set controller.KEY=VALUE tunes it)")
    ev.add_argument("--optimizer", metavar="TYPE", help="replace the world file's [optimizer] table by TYPE's "
                    "defaults (then --set optimizer.KEY=VALUE tunes it); `evorobot list` names them")
    ev.add_argument("--init-from", metavar="RUN_DIR",
                    help="start from the genomes another run (any optimizer) would evaluate next (incremental "
                         "evolution); the genome layouts must match; another number of genomes is truncated or "
                         "resampled")
    _add_backend_options(ev)

    rs = sub.add_parser("resume", help="continue an evolution (or a gradient trainer's) run from its last checkpoint")
    rs.add_argument("run_dir", help="run directory written by `evorobot evolve`")
    rs.add_argument("--generations", type=int, help="total generations (extend the run)")
    rs.add_argument("--set", action="append", default=[], metavar="TABLE.KEY=VALUE",
                    help="change evolution.generations, evolution.chunk_size or evolution.checkpoint_every")
    _add_backend_options(rs)

    rp = sub.add_parser("replay", help="re-run every trial of a champion and print its fitness")
    rp.add_argument("champion", help="champion.json, a run directory holding one, or a world file "
                    "(random genome, or a hand-wired controller)")
    rp.add_argument("--trials", type=int, metavar="N", help="run N fresh random trials instead of the stored ones")
    rp.add_argument("--seed", type=_seed, default=0, metavar="S", help="seed of the fresh trials (default 0)")
    rp.add_argument("--set", action="append", default=[], metavar="TABLE.KEY=VALUE",
                    help="override world-file settings; a champion takes task.KEY=VALUE (a generalisation test "
                         "on the changed task's trials)")
    rp.add_argument("--genome-seed", type=_seed, default=0, help="seed of the random genome (world-file targets)")
    rp.add_argument("--controller", metavar="TYPE", help="replace the world file's controller by TYPE's defaults "
                    "(e.g. braitenberg)")
    rp.add_argument("--json", action="store_true", help="print one JSON object")
    rp.add_argument("--trace", metavar="FILE.csv", help="write one row per trial step")
    rp.add_argument("--record", metavar="OUT", help="render a trial offscreen: a folder of PNG frames, OUT.gif or OUT.mp4")
    rp.add_argument("--record-trial", type=int, default=0, metavar="N", help="trial to record (default 0)")
    rp.add_argument("--record-every", type=int, default=1, metavar="K", help="keep every K-th tick (default 1)")

    vw = sub.add_parser("view", help="interactive pygame viewer (needs a display)")
    vw.add_argument("target", help="champion.json, a run directory (watched live) or a world file (random controller)")
    vw.add_argument("--trial", type=int, default=0, help="trial to show first")
    vw.add_argument("--set", action="append", default=[], metavar="TABLE.KEY=VALUE",
                    help="override world-file settings (world-file targets)")
    vw.add_argument("--genome-seed", type=_seed, default=0, help="seed of the random genome (world-file targets)")
    vw.add_argument("--controller", metavar="TYPE", help="replace the world file's controller by TYPE's defaults")

    pl = sub.add_parser("plot", help="fitness curves of one run, or the median and quartiles of several (needs evorobot[plot])")
    pl.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories written by `evorobot evolve`")
    pl.add_argument("--out", metavar="FILE", help="figure to write, .png or .svg (default: RUN_DIR/fitness.png for one "
                    "run, fitness.png here for several)")

    an = sub.add_parser("analyze", help="lesions, perturbations, neural traces, input-output map and phase portrait "
                        "of a champion (needs evorobot[plot])")
    an.add_argument("champion", help="champion.json or a run directory holding one")
    an.add_argument("--out", metavar="DIR", help="folder for the figures and tables (default: analysis/ next to the champion)")
    an.add_argument("--lesion-value", default="0", metavar="V",
                    help="output in [0, 1] a removed neuron is clamped to (default 0: silent), or `mean`: its mean "
                         "output in the intact run; a removed sensor reads 0")
    an.add_argument("--neuron", metavar="LABEL", help="neuron to perturb (default: the first interneuron)")
    an.add_argument("--perturb", choices=("kick", "clamp"), default="kick",
                    help="kick: inject a current AMPLITUDE into the neuron over the window; clamp: hold its output at AMPLITUDE")
    an.add_argument("--amplitude", type=float, default=2.0, help="size of the perturbation (default 2.0)")
    an.add_argument("--window", metavar="T0,T1", default=None, help="time window of the perturbation in simulated "
                    "seconds (default: the second fifth of the trial)")
    an.add_argument("--trials", metavar="I,J,...", help="trials whose traces are drawn (default: all, up to 24)")
    an.add_argument("--phase", metavar="A,B", help="neurons of the phase portrait (default: the first two interneurons)")
    an.add_argument("--sweep", metavar="INPUT", help="input swept by the input-output map (default: every input, each alone)")

    ls = sub.add_parser("list", help="registered tasks, controllers, optimizers and shipped world files; "
                        "`list controller lstm`: every setting of a type with its default, range and meaning")
    ls.add_argument("kind", nargs="?", metavar="KIND", help="task, controller, optimizer or agent")
    ls.add_argument("name", nargs="?", metavar="NAME", help="a registered type (an agent table: body, eye, ir ...)")

    sw = sub.add_parser("sweep", help="one evolution per seed, side by side, and a summary table")
    sw.add_argument("world", help="world file (TOML)")
    sw.add_argument("--seeds", required=True, metavar="LIST", help="seeds: 1-10, 1,3,5 or 1-5,8")
    sw.add_argument("--out", metavar="DIR", help="folder of the runs (default runs/NAME-sweep); run again to go on")
    sw.add_argument("--target", type=float, metavar="F", help="report the generation each seed first reached F")
    sw.add_argument("--workers", type=int, default=1, metavar="N", help="seeds run at once (default 1); each "
                    "run is serial inside, bitwise the run alone")
    sw.add_argument("--dask", metavar="ADDRESS", help="run the seeds as tasks on a dask cluster (`local`: "
                    "--workers processes); its workers must see --out")
    sw.add_argument("--generations", type=int, help="override [evolution] generations")
    sw.add_argument("--population", type=int, help="override [optimizer] population")
    sw.add_argument("--set", action="append", default=[], metavar="TABLE.KEY=VALUE", help="override a world setting")
    sw.add_argument("--controller", metavar="TYPE", help="replace the world file's [controller] by TYPE's defaults")
    sw.add_argument("--optimizer", metavar="TYPE", help="replace the world file's [optimizer] by TYPE's defaults")

    bn = sub.add_parser("bench", help="measure kernel and episode speed against baselines")
    bn.add_argument("--json", action="store_true", help="print a JSON list of measurements")
    bn.add_argument("--quick", action="store_true", help="shorter measurements (noisier)")
    return p


def _evolve(args: argparse.Namespace, argv: list[str]) -> int:
    from evorobot.config import load_world
    from evorobot.evolution.runner import evolve

    overrides = list(args.set)
    if args.generations is not None:
        overrides.append(f"evolution.generations={args.generations}")
    if args.population is not None:
        overrides.append(f"optimizer.population={args.population}")
    if args.seed is not None:
        overrides.append(f"experiment.seed={args.seed}")
    exp = load_world(args.world, overrides, args.controller, args.optimizer)
    out = Path(args.out) if args.out else Path("runs") / f"{exp.experiment.name}-s{exp.experiment.seed}"
    from evorobot.training import TRAINERS

    if exp.optimizer_type in TRAINERS:  # a trainer (ridge, ...) writes the same run directory
        from evorobot.setup import build
        from evorobot.training.run import train

        if args.init_from:
            raise EvorobotError(f"--init-from: `{exp.optimizer_type}` trains from the task's data, not from a "
                                "population; drop --init-from")
        setup = build(exp)
        return _with_backend(args, out, lambda backend: train(setup, out, ["evorobot", *argv], sys.stderr, backend))
    init = Path(args.init_from) if args.init_from else None
    return _with_backend(args, out, lambda backend: evolve(exp, out, ["evorobot", *argv], sys.stderr,
                                                           backend, handle_signals=True, init_from=init))


def _resume(args: argparse.Namespace, argv: list[str]) -> int:
    from evorobot.errors import ConfigError
    from evorobot.evolution.runner import resume
    from evorobot.store import read_json
    from evorobot.training import TRAINERS
    from evorobot.training.run import resume_training

    overrides = list(args.set)
    if args.generations is not None:
        overrides.append(f"evolution.generations={args.generations}")
    out = Path(args.run_dir)
    cfg = out / "config.json"
    raw = read_json(cfg, "run configuration") if cfg.is_file() else {}
    optimizer = raw.get("optimizer") if isinstance(raw, dict) else None
    if isinstance(optimizer, dict) and optimizer.get("type") in TRAINERS:  # a trainer's run (bptt, rtrl)
        if overrides:
            raise ConfigError(f"resume {out}: a `{optimizer['type']}` run resumes as it was configured "
                              "(its epochs are [optimizer] settings); drop --generations/--set")
        return _with_backend(args, out, lambda backend: resume_training(out, ["evorobot", *argv], sys.stderr,
                                                                        backend))
    return _with_backend(args, out, lambda backend: resume(out, ["evorobot", *argv], overrides,
                                                           sys.stderr, backend, handle_signals=True))


def _with_backend(args: argparse.Namespace, out: Path, run: Callable[[Any], Any]) -> int:
    """Build the backend of ``--workers/--dask``, ``run(backend)``, close it; the exit code."""
    from evorobot.evolution.backends import WorkerStartError, make_backend
    from evorobot.evolution.dask_backend import ClusterError
    from evorobot.evolution.runner import Aborted

    backend = make_backend(args.workers, args.dask, args.chunk_timeout, startup_timeout=args.startup_timeout)
    try:
        summary = run(backend)
    except (WorkerStartError, ClusterError) as exc:  # the machine failed mid-run: the last checkpoint stands
        resumable = (out / "checkpoint").is_dir()
        raise EvorobotError(str(exc) + (f"; continue from the last checkpoint with `evorobot resume {out}`"
                                        if resumable else "")) from None
    except Aborted as exc:
        print(f"evorobot: aborted; the generation in flight is lost; continue with `evorobot resume {out}`",
              file=sys.stderr)
        return EXIT_SIGNAL_BASE + exc.signum
    finally:
        backend.close()
    new = summary.generations - summary.done_before
    if summary.stopped_by is not None:
        print(f"evorobot: stopped after generation {summary.generations - 1}, checkpoint written; "
              f"continue with `evorobot resume {summary.out}`", file=sys.stderr)
        return EXIT_SIGNAL_BASE + summary.stopped_by
    if new == 0 and summary.done_before:
        print(f"run {summary.out} already has its {summary.generations} generations; "
              "pass --generations to extend it")
        return 0
    timed = (f"in {summary.seconds:.1f} s" if not summary.done_before
             else f"({new} in this session, {summary.seconds:.1f} s)")
    print(f"best fitness {summary.best_fitness:.6f} ({summary.unit[:-1]} {summary.best_generation}) "
          f"after {summary.generations} {summary.unit} {timed}; run directory {summary.out}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from evorobot.replay import replay

    if args.record_every < 1:
        raise EvorobotError(f"--record-every must be >= 1, got {args.record_every}")
    return replay(args.champion, as_json=args.json, trace=args.trace, record=args.record,
                  record_trial=args.record_trial, record_every=args.record_every, trials=args.trials,
                  seed=args.seed, overrides=args.set, genome_seed=args.genome_seed, controller=args.controller)


def _view(args: argparse.Namespace) -> int:
    try:
        from evorobot.source import open_source
        from evorobot.viewer.app import Viewer
    except ImportError as exc:  # pygame is a declared dependency, but may be broken or absent
        raise EvorobotError(f"the viewer needs pygame: {exc}") from None
    Viewer(open_source(args.target, args.set, args.genome_seed, args.controller), trial=args.trial).run()
    return 0


def _plot(args: argparse.Namespace) -> int:
    from evorobot.plot import plot_runs

    out = plot_runs([Path(r) for r in args.runs], Path(args.out) if args.out else None)
    print(f"wrote {out}")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from evorobot.analysis.command import analyze

    return analyze(args)


def _list(args: argparse.Namespace) -> int:
    from evorobot.catalog import print_catalog, print_settings

    if args.kind is None:
        print_catalog(sys.stdout)
    else:
        print_settings(args.kind, args.name, sys.stdout)
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from evorobot.config import load_world
    from evorobot.sweep import parse_seeds, sweep

    seeds = parse_seeds(args.seeds)
    passthrough = [a for k, v in (("--generations", args.generations), ("--population", args.population),
                                  ("--controller", args.controller), ("--optimizer", args.optimizer))
                   if v is not None for a in (k, str(v))]
    for s in args.set:
        passthrough += ["--set", s]
    overrides = list(args.set) + [f"{key}={v}" for key, v in (("evolution.generations", args.generations),
                                                               ("optimizer.population", args.population))
                                  if v is not None]
    exp = load_world(args.world, overrides, args.controller, args.optimizer)  # a bad world is one line here
    out = Path(args.out) if args.out else Path("runs") / f"{exp.experiment.name}-sweep"
    rows = sweep(args.world, seeds, out, passthrough, workers=args.workers, dask=args.dask, target=args.target,
                 stream=sys.stdout)
    return 0 if all(r.status == "done" for r in rows) else 1


def _bench(args: argparse.Namespace) -> int:
    from evorobot.bench import run_bench

    return run_bench(as_json=args.json, quick=args.quick)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``evorobot`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    try:
        if args.command == "evolve":
            return _evolve(args, argv)
        if args.command == "resume":
            return _resume(args, argv)
        if args.command == "replay":
            return _replay(args)
        if args.command == "list":
            return _list(args)
        if args.command == "view":
            return _view(args)
        if args.command == "plot":
            return _plot(args)
        if args.command == "analyze":
            return _analyze(args)
        if args.command == "sweep":
            return _sweep(args)
        return _bench(args)
    except EvorobotError as exc:
        print(f"evorobot: error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("evorobot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `evorobot replay RUN | head`: the reader left; not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's final flush must not fail again
        return 1


if __name__ == "__main__":
    sys.exit(main())
