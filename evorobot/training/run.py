"""The training loop of a trainer (:mod:`evorobot.training.base`): the run directory of an evolution.

:func:`train` writes what :func:`evorobot.evolution.runner.evolve` writes, with the runner's own
writers: ``manifest.json`` (plus ``training``: each epoch's notes), ``config.json``,
``history.csv`` with one row per epoch (:data:`TRAIN_COLUMNS`) and ``champion.json``, the best
epoch's genome scored by the normal evaluation on the task's training trials (the trial
conditions of generation ``epoch``) with its held-out score, so that ``evorobot replay RUN``
reproduces it bit for bit. A trainer that exports its state (contract item 4 of
:mod:`evorobot.training.base`: the gradient trainers) is checkpointed after every epoch in the
evolution's format (:mod:`evorobot.evolution.checkpoint`: ``checkpoint/gen-NNNNNN`` holding strict
JSON and an NPZ read with ``allow_pickle=False``, the trainer's state as the optimizer's, the
history rows and the champion), and :func:`resume_training` continues such a run bit for bit.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from evorobot.champion import champion_dict
from evorobot.config import experiment_from_dict
from evorobot.errors import ChampionFileError, ConfigError
from evorobot.evolution import checkpoint
from evorobot.evolution.backend_base import Backend
from evorobot.evolution.checkpoint import Checkpoint, fingerprint, same_experiment
from evorobot.evolution.evaluate import evaluate, initializer
from evorobot.evolution.runner import (
    RunSummary,
    fmt_float,
    manifest,
    prepare_run_dir,
    write_history,
)
from evorobot.heldout import held_out
from evorobot.seeding import conditions_rng
from evorobot.setup import Setup, build
from evorobot.store import DirectoryLock, decode_float, read_json, write_json
from evorobot.training import get_trainer
from evorobot.training.base import Trainer

__all__ = ["TRAIN_COLUMNS", "resume_training", "train"]

TRAIN_COLUMNS = ("epoch", "loss", "fitness", "test", "failed", "seconds")
"""``loss``: the trainer's training loss; ``fitness``: the epoch's genome evaluated on the training
trials; ``test``: its held-out score (empty for a task without a test split); ``failed``: its failed
trials."""


def train(setup: Setup, out: Path, argv: list[str] | None = None, stream: TextIO | None = sys.stderr,
          backend: Backend | None = None) -> RunSummary:
    """Train ``setup`` with the trainer its ``[optimizer]`` table names, writing the run directory ``out``.

    ``backend`` evaluates each epoch's genome (results never depend on it); the caller closes it.
    Raises ConfigError (before anything is written) when the trainer cannot train this set-up.
    """
    exp = setup.experiment
    where = f"{exp.source} [optimizer]"
    trainer = get_trainer(exp.optimizer_type, where)(exp.optimizer, setup, where)
    out = Path(out)
    prepare_run_dir(out)
    with DirectoryLock(out):
        man = manifest(exp, list(argv or []), backend)
        man["training"] = []
        write_json(out / "manifest.json", man)
        write_json(out / "config.json", exp.to_dict())
        return _loop(setup, trainer, out, man, Checkpoint(0, {}, -np.inf, -1, [], None, ""), stream, backend)


def resume_training(out: Path, argv: list[str] | None = None, stream: TextIO | None = sys.stderr,
                    backend: Backend | None = None) -> RunSummary:
    """Continue the trainer's run in ``out`` from its newest valid checkpoint, bit for bit: the
    history, notes and champion are those of the checkpoint, then the remaining epochs run."""
    out = Path(out)
    cfg = out / "config.json"
    if not out.is_dir():
        raise ConfigError(f"{out}: no such run directory")
    written = read_json(cfg, "run configuration")
    exp = experiment_from_dict(written, str(cfg))
    setup = build(exp)
    where = f"{exp.source} [optimizer]"
    trainer = get_trainer(exp.optimizer_type, where)(exp.optimizer, setup, where)
    if trainer.state_dict() is None:
        raise ConfigError(f"resume {out}: a `{exp.optimizer_type}` run is trained in one go and has no checkpoint")
    with DirectoryLock(out):
        ck = checkpoint.load_latest(out, lambda msg: stream.write(msg + "\n") if stream is not None else None)
        if not same_experiment(ck.fingerprint, exp.to_dict(), written):
            raise ChampionFileError(f"{ck.path}: checkpoint belongs to a different experiment than {cfg}")
        trainer.load_state_dict(ck.optimizer)
        man = read_json(out / "manifest.json", "run manifest")
        man["training"] = man.get("training", [])[:ck.done]
        man.setdefault("resumed", []).append({"argv": list(argv or []), "epochs_done": ck.done})
        if ck.champion is not None:
            write_json(out / "champion.json", ck.champion)
        write_history(out, ck.history, TRAIN_COLUMNS)
        write_json(out / "manifest.json", man)
        return _loop(setup, trainer, out, man, ck, stream, backend)


def _loop(setup: Setup, trainer: Trainer, out: Path, man: dict[str, Any], ck: Checkpoint, stream: TextIO | None,
          backend: Backend | None) -> RunSummary:
    """The epochs after ``ck`` (epochs done, history rows, best so far, champion), written to ``out``."""
    exp = setup.experiment
    seed = exp.experiment.seed
    if backend is not None:
        backend.prepare(initializer(exp))
    rows, best, best_epoch, champ = list(ck.history), ck.best_ever, ck.best_generation, ck.champion
    start = t0 = time.perf_counter()
    for epoch, ep in enumerate(trainer.epochs(), start=ck.done):
        ev = evaluate(setup, ep.genome[None, :], setup.task.conditions(conditions_rng(seed, epoch)),
                      exp.evolution.chunk_size, backend)
        fitness = float(ev.fitness[0])
        if fitness > best:
            best, best_epoch = fitness, epoch
            champ = champion_dict(setup, ep.genome, ev.trials[0], int(ev.failed[0]), epoch, 0, seed)
            write_json(out / "champion.json", champ)
            test = (decode_float(champ["held_out"]["score"], "held-out score") if "held_out" in champ
                    else None)
        else:
            score = held_out(setup, ep.genome)
            test = score.score if score is not None else None
        secs = time.perf_counter() - t0
        rows.append([str(epoch), fmt_float(ep.loss), fmt_float(fitness), "" if test is None else fmt_float(test),
                     str(int(ev.failed[0])), f"{secs:.3f}"])
        write_history(out, rows, TRAIN_COLUMNS)
        man["training"].append({"epoch": epoch, **ep.notes})
        write_json(out / "manifest.json", man)
        state = trainer.state_dict()
        if state is not None:
            checkpoint.save(out, Checkpoint(epoch + 1, state, best, best_epoch, rows, champ,
                                            fingerprint(exp.to_dict())))
        if stream is not None:
            held = "" if test is None else f"  test {setup.task.held_out_metric} {test:.4f}"
            stream.write(f"epoch {epoch + 1}  loss {ep.loss:.4g}  fitness {fitness:.4f}{held}  {secs:.2f}s  "
                         f"({trainer.describe(ep.notes)})\n")
            stream.flush()
        t0 = time.perf_counter()
    return RunSummary(out, len(rows), best, best_epoch, time.perf_counter() - start, unit="epochs")
