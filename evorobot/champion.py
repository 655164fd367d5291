"""Champion files: a self-contained, strict-JSON record of one evolved individual.

A champion file replays with no other file: it carries the schema version, the fully resolved
experiment (agent inlined), the controller spec, the genome at full precision, the decoded
parameters by name, the decoded sensor morphology (``morphology``: the camera's evolved receptive
fields, when it has any), the fitness of every trial, the generation, the individual's index and the run
seed (which, with the generation, regenerate the trial conditions). ``trial_set`` says which trials
those are: ``"evolution"`` (the generation's own; the default of files that lack the key) or
``"validation"`` (the run's validation trials, :mod:`evorobot.evolution.validation`).
``task_version`` is the task's version (1 when absent): a file from another version is refused,
as its stored fitness would not replay. A task with a held-out test split (a sequence data set,
pole balancing's generalisation test) adds ``held_out``: ``{"metric": name, "score": value}``
(:mod:`evorobot.heldout`).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import evorobot
from evorobot._types import FloatArray
from evorobot.errors import ChampionFileError, ConfigError
from evorobot.heldout import held_out
from evorobot.seeding import conditions_rng, validation_rng
from evorobot.setup import Setup, setup_from_dict
from evorobot.store import decode_float, encode_float, read_json

SCHEMA = "evorobot.champion"
SCHEMA_VERSION = 1
TRIAL_SETS = ("evolution", "validation")


@dataclass(frozen=True)
class Champion:
    """A loaded champion."""

    setup: Setup
    genome: FloatArray  # (G,)
    trials: FloatArray  # (T,) stored per-trial fitness
    fitness: float
    generation: int
    individual: int
    seed: int
    path: str = ""
    trial_set: str = "evolution"

    def conditions(self) -> FloatArray:
        """The trial conditions the champion was evaluated on."""
        if self.trial_set == "validation":
            return self.setup.task.conditions(validation_rng(self.seed))
        return self.setup.task.conditions(conditions_rng(self.seed, self.generation))


def champion_dict(
    setup: Setup,
    genome: FloatArray,
    trials: FloatArray,
    failed: int,
    generation: int,
    individual: int,
    seed: int,
    trial_set: str = "evolution",
) -> dict[str, Any]:
    """The JSON-ready champion record; ``trials`` were measured on ``trial_set`` (see the module
    docstring) with ``setup``'s experiment."""
    exp = setup.experiment.to_dict()
    params = setup.controller.decode(np.asarray(genome, dtype=np.float64)[None, : setup.controller.genome_size])
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "evorobot_version": evorobot.__version__,
        "python": platform.python_version(),
        "seed": seed,
        "generation": generation,
        "individual": individual,
        "trial_set": trial_set,
        "task_version": setup.task.version,
        "fitness": encode_float(setup.task.individual_fitness(np.asarray(trials, dtype=np.float64))),
        "trials": [encode_float(x) for x in trials],
        "failed_trials": int(failed),
        "controller": {**exp["controller"], "genome_size": setup.genome_size,
                       "parameters": setup.controller.describe(params, 0)},
        "genome": [float(g) for g in genome],
        "experiment": exp,
        **({"morphology": morph} if (morph := setup.describe_morphology(genome)) is not None else {}),
        **({"held_out": {"metric": test.metric, "score": encode_float(test.score)}}
           if (test := held_out(setup, genome)) is not None else {}),
    }


def _field(d: dict[str, Any], key: str, kind: type | tuple[type, ...], path: str) -> Any:
    if key not in d:
        raise ChampionFileError(f"{path}: missing key `{key}`")
    v = d[key]
    if not isinstance(v, kind) or isinstance(v, bool) and kind is not bool:
        raise ChampionFileError(f"{path}: `{key}` has the wrong type ({type(v).__name__})")
    return v


def _non_negative(d: dict[str, Any], key: str, path: str) -> int:
    v = _field(d, key, int, path)
    if v < 0:
        raise ChampionFileError(f"{path}: `{key}` must be >= 0, got {v}")
    return v


def load_champion(path: str | Path) -> Champion:
    """Read and validate a champion file; every problem is a one-line ChampionFileError."""
    return champion_from_dict(read_json(path, "champion file"), str(path))


def champion_from_dict(d: Any, p: str) -> Champion:
    """Validate a champion record ``d`` (a champion file's document, or the one a checkpoint
    carries) found at ``p``; every problem is a one-line ChampionFileError naming ``p``."""
    if not isinstance(d, dict) or d.get("schema") != SCHEMA:
        raise ChampionFileError(f"{p}: not an evorobot champion file (no \"schema\": \"{SCHEMA}\")")
    version = d.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ChampionFileError(
            f"{p}: unknown champion schema_version {version!r} (this evorobot reads {SCHEMA_VERSION})"
        )
    try:  # parse and build: an experiment whose tables disagree is a bad champion file too
        setup = setup_from_dict(_field(d, "experiment", dict, p), f"{p} experiment")
    except ConfigError as exc:
        raise ChampionFileError(str(exc)) from None
    exp = setup.experiment
    task_version = d.get("task_version", 1)
    if task_version != setup.task.version:
        raise ChampionFileError(
            f"{p}: evolved with version {task_version!r} of task `{exp.task_type}`, this evorobot has version "
            f"{setup.task.version} (its fitness is computed differently; see the task's docstring, Version)")
    genes = _field(d, "genome", list, p)
    genome = np.array([decode_float(g, f"{p} genome") for g in genes], dtype=np.float64)
    if genome.shape[0] != setup.genome_size:
        raise ChampionFileError(
            f"{p}: `genome` has {genome.shape[0]} genes, the controller needs {setup.genome_size}"
        )
    if not np.all(np.isfinite(genome)) or np.any(np.abs(genome) > 1.0):
        raise ChampionFileError(f"{p}: `genome` values must be finite and within [-1, 1]")
    trial_set = d.get("trial_set", "evolution")
    if trial_set not in TRIAL_SETS:
        raise ChampionFileError(f"{p}: `trial_set` is {trial_set!r}, expected one of {', '.join(TRIAL_SETS)}")
    trials = np.array([decode_float(x, f"{p} trials") for x in _field(d, "trials", list, p)])
    if trials.shape[0] != setup.task.n_trials:
        raise ChampionFileError(
            f"{p}: `trials` has {trials.shape[0]} entries, the task has {setup.task.n_trials} trials"
        )
    return Champion(
        setup=setup,
        genome=genome,
        trials=trials,
        fitness=decode_float(_field(d, "fitness", (int, float, str), p), f"{p} fitness"),
        generation=_non_negative(d, "generation", p),
        individual=_non_negative(d, "individual", p),
        seed=_non_negative(d, "seed", p),
        path=p,
        trial_set=trial_set,
    )
