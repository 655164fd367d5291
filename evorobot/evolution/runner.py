"""The generation loop, its run directory, resuming, and stopping on a signal.

One generation: ``genomes = optimizer.ask()`` -> trial conditions of the generation -> evaluate
(on a backend, :mod:`evorobot.evolution.backends`) -> ``optimizer.tell(fitness)`` -> a
``history.csv`` row, ``champion.json`` when the best-ever improves (with ``[evolution]
validation_trials``, the best on the validation trials: :mod:`evorobot.evolution.validation`),
and a checkpoint every
``checkpoint_every`` generations and after the last (:mod:`evorobot.evolution.checkpoint`).

A run directory holds ``manifest.json`` (versions, platform, seed, command line, backend, and a
``resumes`` list), ``config.json`` (the resolved experiment), ``history.csv`` (one row per
generation), ``champion.json`` (best ever) and ``checkpoint/``. Every file is written atomically.
A write the system refuses (disk full, quota, ``ulimit -f``, read-only, no permission) ends the run
in one line (:class:`~evorobot.errors.WriteFailed`) naming the file and the last complete
checkpoint, which stays resumable; one refused before the first checkpoint removes the run directory.
``config.json`` is the last file of a run's start: a start killed before it (no checkpoint to
resume) is refused by ``resume`` with a hint, and the same ``evolve`` command starts it afresh.

:func:`resume` continues from the newest valid checkpoint: it first rewrites ``history.csv`` and
``champion.json`` as they were at that generation, so a resumed run's files equal an
uninterrupted run's (timing column aside). Only the settings in
:data:`~evorobot.evolution.checkpoint.RESUMABLE` may change; each change is recorded.

With ``handle_signals``, the first SIGINT or SIGTERM lets the generation in flight finish, writes
a checkpoint and returns with :attr:`RunSummary.stopped_by` set; a second one raises
:class:`Aborted` at once (the generation in flight is abandoned; the last checkpoint stands).
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import platform
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, cast

import numpy as np

import evorobot
from evorobot.champion import champion_dict, champion_from_dict
from evorobot.config import Experiment, apply_overrides, experiment_from_dict
from evorobot.errors import ChampionFileError, ConfigError, WriteFailed
from evorobot.evolution import OPTIMIZERS, checkpoint
from evorobot.evolution.backend_base import Backend
from evorobot.evolution.base import GenerationStats, Optimizer, OptimizerUsageError
from evorobot.evolution.checkpoint import (
    RESUMABLE,
    Checkpoint,
    changes,
    fingerprint,
    interrupted_start,
    resumable,
    same_experiment,
)
from evorobot.evolution.evaluate import evaluate, initializer
from evorobot.evolution.validation import Validation
from evorobot.seeding import conditions_rng, optimizer_seed
from evorobot.setup import Setup, build, setup_from_dict
from evorobot.store import (
    DirectoryLock,
    decode_float,
    encode_float,
    read_json,
    remove_stale_temporaries,
    write_failed,
    write_json,
    write_text,
)
from evorobot.tasks.base import DynamicsTask

HISTORY_COLUMNS = ("generation", "best", "mean", "std", "best_ever", "validation", "evaluations", "failed",
                   "seconds")
"""``validation``: the best fitness on the validation trials among the generation's re-tested
individuals (empty when ``validation_trials`` is 0); ``failed`` counts the trials of the generation
that blew up or did not finish."""


@dataclass
class RunSummary:
    """What an evolution run produced."""

    out: Path
    generations: int
    best_fitness: float
    """The champion's fitness: the best ever, or with validation its fitness on the validation trials."""
    best_generation: int
    seconds: float
    stopped_by: int | None = None
    """The signal that stopped the run early (after a checkpoint), or None."""
    done_before: int = 0
    """Generations already done when this session started (resume)."""
    unit: str = "generations"
    """What ``generations`` counts: ``"epochs"`` for a trainer's run (:mod:`evorobot.training.run`)."""


class Aborted(KeyboardInterrupt):
    """A second SIGINT/SIGTERM: the generation in flight was abandoned."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def manifest(exp: Experiment, argv: list[str], backend: Backend | None = None) -> dict[str, Any]:
    """Versions, platform, seed and command line of a run."""
    import numba
    import pymunk
    import scipy

    return {
        "evorobot": evorobot.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "pymunk": pymunk.version,
        **_task_packages(exp),
        "platform": platform.platform(),
        "seed": exp.experiment.seed,
        "world": exp.source,
        "command": argv,
        "backend": _describe(backend),
        "resumes": [],
    }


def _task_packages(exp: Experiment) -> dict[str, str]:
    """Versions of what a task runs on beyond the stack: a Gymnasium environment's dynamics and
    reward are gymnasium's (and its environment's own package's)."""
    if exp.task_type != "gymnasium":
        return {}
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("gymnasium", "box2d-py", "mujoco"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def _describe(backend: Backend | None) -> dict[str, Any]:
    return backend.describe() if backend is not None else {"backend": "in-process", "workers": 1}


def prepare_run_dir(out: Path, restart: bool = False) -> None:
    """Create ``out``; refuse to write into a directory that already holds a run (unless
    ``restart`` and it holds an :func:`interrupted_start`), or one that cannot be created or
    written (:class:`WriteFailed`, before anything runs)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not (restart and interrupted_start(out)):
        if (out / "config.json").is_file():  # the same command again, most likely
            raise ConfigError(f"{out}: already holds a run; continue or extend it with `evorobot resume {out}` "
                              "[--generations N], or start another with --out DIR (or --seed S)")
        raise ConfigError(f"{out}: output directory exists and is not empty (choose another --out)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failed(out, exc, "cannot create the run directory") or exc from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise WriteFailed(f"{out}: cannot write into the run directory (permission denied)")


def discard_run_dir(out: Path, created: bool, keep: tuple[str, ...] = ()) -> None:
    """Remove what a run that failed before its first checkpoint wrote: ``out`` itself if this
    process ``created`` it, else its contents (it was empty, or an :func:`interrupted_start`)
    but for the names in ``keep``."""
    if created:
        shutil.rmtree(out, ignore_errors=True)
        return
    for p in out.iterdir():
        if p.name in keep:
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def fmt_float(x: float) -> str:
    """A history cell: the float's repr, or its strict-JSON encoding when not finite."""
    return repr(float(x)) if np.isfinite(x) else str(encode_float(x))


def _clock(seconds: float) -> str:
    """``1:02:03`` / ``2:03``: a duration for the progress line."""
    m, sec = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class _Progress:
    """One updating line on a terminal, one plain line per generation otherwise: the generation
    (numbered from 0 as everywhere else, then how many of the total are done), fitness, the
    generation's seconds and ``[elapsed<remaining]`` of this session (the ETA from its mean
    generation time)."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self._start = time.perf_counter()
        self._first: int | None = None  # the first generation of this session (resume starts later)

    def update(self, gen: int, total: int, stats: GenerationStats, best_ever: float, secs: float,
               champion: float | None = None) -> None:
        """``champion``: the champion's validation fitness (validation on), else None."""
        if self.stream is None:
            return
        valid = f"  champion (validation) {champion:.4f}" if champion is not None else ""
        if self._first is None:
            self._first = gen
        elapsed = time.perf_counter() - self._start
        eta = elapsed / (gen + 1 - self._first) * (total - gen - 1)
        # generations are numbered from 0, as in history.csv, champion.json and the summary
        failed = f"  failed {stats.failed}" if stats.failed else ""
        line = (f"gen {gen} ({gen + 1}/{total})  best {stats.best:.4f}  mean {stats.mean:.4f}  "
                f"best-ever {best_ever:.4f}{valid}{failed}  {secs:.2f}s [{_clock(elapsed)}<{_clock(eta)}]")
        if self.tty:
            self.stream.write("\r" + line.ljust(79))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def note(self, msg: str) -> None:
        if self.stream is not None:
            self.stream.write(("\n" if self.tty else "") + f"evorobot: warning: {msg}\n")
            self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.tty:
            self.stream.write("\n")
            self.stream.flush()


class _Signals:
    """First SIGINT/SIGTERM: note it (the loop stops after the generation in flight); second:
    raise :class:`Aborted`. Installed only from the main thread."""

    def __init__(self, enabled: bool, stream: TextIO | None) -> None:
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.stream = stream
        self.signum: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> "_Signals":
        if self.enabled:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum is not None:
            raise Aborted(signum)
        self.signum = signum
        name = signal.Signals(signum).name
        self._say(f"\nevorobot: {name}: finishing the generation in flight, then writing a checkpoint "
                  f"({name} again aborts at once)\n")

    def _say(self, text: str) -> None:
        try:  # os.write: a print here could re-enter the stream's buffer mid-write
            os.write(self.stream.fileno(), text.encode())  # type: ignore[union-attr]
        except (AttributeError, OSError, ValueError):
            pass


def genome_layout(setup: Setup) -> dict[str, Any]:
    """What fixes the meaning of every gene: the genome size, the controller table, the network's
    inputs (sensor kinds and counts, in order) and the camera table (receptive-field genes)."""
    exp = setup.experiment.to_dict()
    agent = setup.experiment.agent
    inputs = (dict(agent.sensor_counts) if agent is not None  # sensors in their fixed order
              else {name: 1 for name in cast(DynamicsTask, setup.task).interface.inputs})
    return {"controller": exp["controller"], "inputs": inputs, "camera": exp.get("agent", {}).get("camera"),
            "genome_size": setup.genome_size}  # the causes first: the first difference names one


def first_difference(a: Any, b: Any, path: str = "") -> tuple[str, Any, Any]:
    """The first place where two JSON-like values differ: ``(dotted path, a's value, b's value)``."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in [*a, *(k for k in b if k not in a)]:
            if a.get(k, "(absent)") != b.get(k, "(absent)"):
                return first_difference(a.get(k, "(absent)"), b.get(k, "(absent)"), f"{path}.{k}" if path else str(k))
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_difference(x, y, f"{path}[{i}]")
    return path or "(whole)", a, b


def make_optimizer(setup: Setup) -> Optimizer:
    """The experiment's optimizer, freshly seeded from the run seed; ConfigError naming the world
    file's ``[optimizer]`` table when its settings do not fit the genome."""
    exp = setup.experiment
    cls = OPTIMIZERS[exp.optimizer_type]
    return cls(exp.optimizer, setup.genome_layout(), optimizer_seed(exp.experiment.seed), f"{exp.source} [optimizer]")


def restore_optimizer(setup: Setup, ck: Checkpoint) -> Optimizer:
    """The optimizer of ``setup``'s experiment as checkpoint ``ck`` saved it. Its state is validated,
    not only checksummed: each optimizer checks its arrays, and a state that passes those checks
    must still give two valid generations (a copy asked, told a fixed fitness and asked again), so
    that a forged file is one line here instead of a crash some generations later."""
    exp = setup.experiment
    cls, where = OPTIMIZERS[exp.optimizer_type], f"{ck.path} optimizer"
    try:
        with np.errstate(all="ignore"):
            opt = cls.from_state_dict(exp.optimizer, setup.genome_layout(), ck.optimizer, where)
            opt.ask()  # cached: the run's own first ask returns the same genomes
            probe = cls.from_state_dict(exp.optimizer, setup.genome_layout(), ck.optimizer, where)
            probe.tell(np.linspace(0.0, 1.0, probe.ask().shape[0]))
            probe.ask()
    except (ValueError, ArithmeticError, OptimizerUsageError) as exc:
        raise ChampionFileError(f"{where}: optimizer state does not give valid generations (forged or corrupt?): "
                                f"{type(exc).__name__}: {exc}") from None
    return opt


def initial_population(setup: Setup, run_dir: Path, size: int) -> tuple[np.ndarray, dict[str, Any]]:
    """The genomes the run in ``run_dir`` would evaluate next (its optimizer restored from its newest
    valid checkpoint, asked once), to seed a new run of ``setup`` (incremental evolution, Harvey,
    Husbands & Cliff 1994), and a record of it. Any optimizer may seed any other: a GA's next
    population has its elites first; a distribution's next sample is centred on its mean.

    With fewer than ``size`` genomes it keeps them all and fills the rest by drawing among them
    uniformly with replacement (an rng seeded by the new run's seed, so the draw is reproducible);
    with more it keeps the first ``size``. Raises ConfigError when the genome layouts differ
    (:func:`genome_layout`): genes would mean something else.
    """
    run_dir = Path(run_dir)
    cfg = run_dir / "config.json"
    if not run_dir.is_dir() or not cfg.is_file():
        raise ConfigError(f"--init-from {run_dir}: not a run directory (no config.json)")
    old = setup_from_dict(read_json(cfg, "run configuration"), str(cfg))
    a, b = genome_layout(old), genome_layout(setup)
    if a != b:
        where, mine, theirs = first_difference(b, a)
        raise ConfigError(f"--init-from {run_dir}: its genome layout differs: {where} is {theirs!r} there, "
                          f"{mine!r} here")
    ck = checkpoint.load_latest(run_dir, lambda msg: None)
    pop = restore_optimizer(old, ck).ask()
    if pop.shape[0] < size:
        rng = np.random.default_rng([setup.experiment.experiment.seed, 0x1417])
        pop = np.concatenate([pop, pop[rng.integers(0, pop.shape[0], size - pop.shape[0])]])
    record = {"run": str(run_dir), "checkpoint": str(ck.path), "generations_done": ck.done,
              "optimizer": old.experiment.optimizer_type, "population": int(min(pop.shape[0], size))}
    return np.ascontiguousarray(pop[:size]), record


def evolve(
    exp: Experiment,
    out: str | Path,
    argv: list[str] | None = None,
    stream: TextIO | None = sys.stderr,
    backend: Backend | None = None,
    handle_signals: bool = False,
    init_from: Path | None = None,
) -> RunSummary:
    """Run the evolution described by ``exp``, writing its run directory ``out``.

    ``backend`` evaluates the chunks (None: in this process); the caller closes it. ``init_from``
    names a run directory whose final population replaces the random first population
    (:func:`initial_population`); the manifest records it as ``init_from``.
    """
    out = Path(out)
    if exp.optimizer_type not in OPTIMIZERS:
        raise ConfigError(f"{exp.source} [optimizer]: `{exp.optimizer_type}` is a trainer, not an evolutionary "
                          "optimizer; run it with evorobot.training.run.train (as `evorobot evolve` does)")
    setup = build(exp)
    if setup.genome_size == 0:
        raise ConfigError(f"{exp.source} [controller]: `{exp.controller_type}` has no genes to evolve; "
                          "run it with `evorobot replay WORLD` or `evorobot view WORLD`")
    opt = make_optimizer(setup)
    validation = Validation(exp) if exp.evolution.validation_trials else None
    seeded = None
    if init_from is not None:  # checked before anything is written
        population, seeded = initial_population(setup, Path(init_from), opt.population_size)
        opt.seed_population(population)
    else:  # e.g. center-crossing initial biases, on the controller's genes only
        first = opt.ask()
        n_ctrl = setup.controller.genome_size
        prepared = first.copy()
        prepared[:, :n_ctrl] = setup.controller.prepare_initial_population(first[:, :n_ctrl])
        if not np.array_equal(prepared, first):
            opt.seed_population(prepared)
    created = not out.exists()
    prepare_run_dir(out, restart=True)
    with DirectoryLock(out):
        prepare_run_dir(out, restart=True)  # again under the lock: another process may have started it
        discard_run_dir(out, created=False, keep=(".lock",))  # what an interrupted start left
        man = manifest(exp, list(argv or []), backend)
        if seeded is not None:
            man["init_from"] = seeded
        start = Checkpoint(0, opt.state_dict(), -np.inf, -1, [], None, fingerprint(exp.to_dict()))
        try:  # config.json last: a directory that has it has a complete checkpoint
            write_json(out / "manifest.json", man)
            checkpoint.save(out, start)
            write_json(out / "config.json", exp.to_dict())
        except WriteFailed as exc:  # nothing to resume: leave nothing behind
            discard_run_dir(out, created)
            gone = f" and {out} was removed" if created else f" and {out} was emptied"
            raise WriteFailed(f"{exc}; the run did not start{gone}") from None
        return _loop(setup, opt, out, start, stream, backend, handle_signals, validation)


def resume(
    out: str | Path,
    argv: list[str] | None = None,
    overrides: list[str] | None = None,
    stream: TextIO | None = sys.stderr,
    backend: Backend | None = None,
    handle_signals: bool = False,
) -> RunSummary:
    """Continue the run in ``out`` from its newest valid checkpoint.

    ``overrides`` (``TABLE.KEY=VALUE``) may change only the :data:`RESUMABLE` settings, e.g.
    ``evolution.generations`` to extend the run; anything else raises ConfigError.
    """
    out = Path(out)
    cfg = out / "config.json"
    if not out.is_dir():
        raise ConfigError(f"{out}: no such run directory")
    if interrupted_start(out):
        raise ConfigError(f"{out}: the run was interrupted while starting, before its first checkpoint; nothing to "
                          f"resume: run the same `evorobot evolve` command again (it starts afresh in {out})")
    raw = read_json(cfg, "run configuration")
    old = experiment_from_dict(raw, str(cfg))
    if old.optimizer_type not in OPTIMIZERS:
        raise ConfigError(f"resume {out}: a `{old.optimizer_type}` run is trained in one go and has no checkpoint "
                          "to resume; start a new run with `evorobot evolve`")
    new = experiment_from_dict(apply_overrides(raw, list(overrides or [])), str(cfg))
    diff = changes(old.to_dict(), new.to_dict())
    refused = [k for k in diff if k not in RESUMABLE]
    if refused:
        raise ConfigError(
            f"resume {out}: {', '.join(f'`{k}`' for k in refused)} cannot change on resume (only "
            f"{', '.join(f'`{k}`' for k in RESUMABLE)} can); start a new run with `evorobot evolve`")
    with DirectoryLock(out):
        return _resume(out, new, diff, argv, stream, backend, handle_signals)


def _resume(out: Path, new: Experiment, diff: dict[str, list[Any]], argv: list[str] | None,
            stream: TextIO | None, backend: Backend | None, handle_signals: bool) -> RunSummary:
    progress = _Progress(stream)
    remove_stale_temporaries(out)  # writes killed before their rename (under the lock: no writer)
    checkpoint.remove_stale(out)
    ck = checkpoint.load_latest(out, progress.note)
    try:
        return _continue(out, ck, new, diff, argv, stream, backend, handle_signals)
    except WriteFailed as exc:
        raise resumable(exc, out, ck.done) from None


def _continue(out: Path, ck: Checkpoint, new: Experiment, diff: dict[str, list[Any]], argv: list[str] | None,
              stream: TextIO | None, backend: Backend | None, handle_signals: bool) -> RunSummary:
    cfg = out / "config.json"
    if not same_experiment(ck.fingerprint, new.to_dict(), read_json(cfg, "run configuration")):
        raise ChampionFileError(f"{ck.path}: checkpoint belongs to a different experiment than {cfg}")
    total = new.evolution.generations
    if total < ck.done:
        raise ConfigError(f"resume {out}: --generations {total} is fewer than the {ck.done} already done")
    setup = build(new)
    validation = Validation(new) if new.evolution.validation_trials else None
    opt = restore_optimizer(setup, ck)
    if opt.generation != ck.done:
        raise ChampionFileError(f"{ck.path}: optimizer generation {opt.generation} != {ck.done} done")
    if ck.champion is not None:  # validated as a champion file is, not only checksummed
        champion_from_dict(ck.champion, f"{ck.path} champion")
    if ck.done == total:
        return RunSummary(out, total, *_champion_record(ck, validation), 0.0, None, ck.done)
    write_history(out, ck.history)
    if ck.champion is not None:
        write_json(out / "champion.json", ck.champion)
    else:
        (out / "champion.json").unlink(missing_ok=True)
    man = read_json(out / "manifest.json", "run manifest")
    if not isinstance(man, dict) or not isinstance(man.get("resumes", []), list):
        raise ChampionFileError(f"{out / 'manifest.json'}: run manifest is not an evorobot manifest "
                                "(a JSON object with a `resumes` list)")
    man.setdefault("resumes", []).append({
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": list(argv or []),
        "from_generation": ck.done,
        "generations": total,
        "changes": diff,
        "backend": _describe(backend),
    })
    write_json(out / "manifest.json", man)
    write_json(cfg, new.to_dict())
    return _loop(setup, opt, out, ck, stream, backend, handle_signals, validation)


def _champion_record(ck: Checkpoint, validation: Validation | None) -> tuple[float, int]:
    """(fitness, generation) of the champion as of ``ck``: the best-ever, or with validation the
    stored champion's validation fitness (-inf, -1 before the first)."""
    if validation is None:
        return ck.best_ever, ck.best_generation
    if ck.champion is None:
        return -np.inf, -1
    return decode_float(ck.champion["fitness"], "checkpoint champion fitness"), int(ck.champion["generation"])


def _loop(setup: Setup, opt: Optimizer, out: Path, ck: Checkpoint, stream: TextIO | None,
          backend: Backend | None, handle_signals: bool, validation: Validation | None = None) -> RunSummary:
    exp = setup.experiment
    seed, total, every = exp.experiment.seed, exp.evolution.generations, exp.evolution.checkpoint_every
    rows, champ = list(ck.history), ck.champion
    best_ever, best_gen, done = ck.best_ever, ck.best_generation, ck.done
    champ_fit, champ_gen = _champion_record(ck, validation)
    saved = done
    progress = _Progress(stream)
    start = time.perf_counter()
    if backend is not None:
        backend.prepare(initializer(exp))
    with _Signals(handle_signals, stream) as stop:
        try:
            for gen in range(ck.done, total):
                if stop.signum is not None:
                    break
                t0 = time.perf_counter()
                genomes = opt.ask()
                conditions = setup.task.conditions(conditions_rng(seed, gen))
                ev = evaluate(setup, genomes, conditions, exp.evolution.chunk_size, backend)
                for msg in ev.lost:
                    progress.note(f"generation {gen}: {msg}")
                stats = opt.tell(ev.fitness)
                i = stats.best_index
                if i >= 0 and ev.fitness[i] > best_ever:
                    best_ever, best_gen = float(ev.fitness[i]), gen
                    if validation is None:
                        champ_fit, champ_gen = best_ever, gen
                        champ = champion_dict(setup, genomes[i], ev.trials[i], int(ev.failed[i]), gen, int(i), seed)
                        write_json(out / "champion.json", champ)
                valid = ""
                if validation is not None:
                    best, record = _validate(validation, genomes, ev.fitness, gen, seed, backend, progress, champ_fit)
                    valid = fmt_float(best) if np.isfinite(best) else ""
                    if record is not None:
                        champ_fit, champ_gen, champ = best, gen, record
                        write_json(out / "champion.json", champ)
                secs = time.perf_counter() - t0
                rows.append([str(gen), fmt_float(stats.best), fmt_float(stats.mean), fmt_float(stats.std),
                             fmt_float(best_ever), valid, str(len(genomes)), str(int(ev.failed.sum())), f"{secs:.3f}"])
                write_history(out, rows)
                done = gen + 1
                if done % every == 0 or done == total or stop.signum is not None:
                    checkpoint.save(out, Checkpoint(done, opt.state_dict(), best_ever, best_gen, rows, champ,
                                                    fingerprint(exp.to_dict())))
                    saved = done
                progress.update(gen, total, stats, best_ever, secs,
                                champ_fit if validation is not None and np.isfinite(champ_fit) else None)
            stopped = stop.signum if done < total else None
            if stopped is not None and saved != done:
                checkpoint.save(out, Checkpoint(done, opt.state_dict(), best_ever, best_gen, rows, champ,
                                                fingerprint(exp.to_dict())))
        except WriteFailed as exc:
            raise resumable(exc, out, saved) from None
    progress.close()
    return RunSummary(out, done, champ_fit, champ_gen, time.perf_counter() - start, stopped, ck.done)


def _validate(validation: Validation, genomes: np.ndarray, fitness: np.ndarray, gen: int, seed: int,
              backend: Backend | None, progress: _Progress, to_beat: float) -> tuple[float, dict[str, Any] | None]:
    """Re-test the generation's best on the validation trials: (the best validation fitness (-inf
    when none is finite), its champion record when it beats ``to_beat``, else None)."""
    idx, vev = validation.run(genomes, fitness, validation.setup.experiment.evolution.chunk_size, backend)
    for msg in vev.lost:
        progress.note(f"generation {gen} validation: {msg}")
    finite = np.flatnonzero(np.isfinite(vev.fitness))
    if not finite.size:
        return -np.inf, None
    j = int(finite[np.argmax(vev.fitness[finite])])  # the first of equals
    if not vev.fitness[j] > to_beat:
        return float(vev.fitness[j]), None
    record = champion_dict(validation.setup, genomes[idx[j]], vev.trials[j], int(vev.failed[j]), gen, int(idx[j]),
                           seed, "validation")
    return float(vev.fitness[j]), record


def write_history(out: Path, rows: list[list[str]], columns: tuple[str, ...] = HISTORY_COLUMNS) -> None:
    """Write ``history.csv`` in ``out`` atomically: the ``columns`` header, then ``rows``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    write_text(out / "history.csv", buf.getvalue())
