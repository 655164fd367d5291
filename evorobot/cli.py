"""Command line: ``evorobot evolve | replay | list | bench``.

``main(argv) -> int``. A user mistake (:class:`~evorobot.errors.EvorobotError`) prints one line
``evorobot: error: ...`` on stderr and returns 2, with no traceback and nothing written. Heavy
imports (numba kernels, pymunk) happen inside the commands, so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evorobot.errors import EvorobotError

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="evorobot", description="Evolutionary robotics with CTRNNs in 2-D pymunk worlds.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ev = sub.add_parser("evolve", help="evolve controllers for a world file")
    ev.add_argument("world", help="world file (TOML), e.g. worlds/categorical_perception.toml")
    ev.add_argument("--generations", type=int, help="override [evolution] generations")
    ev.add_argument("--population", type=int, help="override [optimizer] population")
    ev.add_argument("--seed", type=int, help="override [experiment] seed")
    ev.add_argument("--out", help="run directory (default runs/NAME-sSEED)")
    ev.add_argument("--set", action="append", default=[], metavar="TABLE.KEY=VALUE",
                    help="override any world-file setting (repeatable)")

    rp = sub.add_parser("replay", help="re-run every trial of a champion and print its fitness")
    rp.add_argument("champion", help="champion.json (or a run directory holding one)")
    rp.add_argument("--json", action="store_true", help="print one JSON object")
    rp.add_argument("--trace", metavar="FILE.csv", help="write one row per trial step")

    sub.add_parser("list", help="registered tasks, controllers, optimizers and shipped world files")

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
    exp = load_world(args.world, overrides)
    out = Path(args.out) if args.out else Path("runs") / f"{exp.experiment.name}-s{exp.experiment.seed}"
    summary = evolve(exp, out, ["evorobot", *argv])
    print(f"best fitness {summary.best_fitness:.6f} (generation {summary.best_generation}) "
          f"after {summary.generations} generations in {summary.seconds:.1f} s; run directory {summary.out}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from evorobot.replay import replay

    path = Path(args.champion)
    if path.is_dir():
        path = path / "champion.json"
    return replay(path, as_json=args.json, trace=args.trace)


def _list() -> int:
    from evorobot.catalog import print_catalog

    print_catalog(sys.stdout)
    return 0


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
        if args.command == "replay":
            return _replay(args)
        if args.command == "list":
            return _list()
        return _bench(args)
    except EvorobotError as exc:
        print(f"evorobot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("evorobot: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
