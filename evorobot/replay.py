"""``evorobot replay``: re-run every trial of a champion and compare with its stored fitness.

The champion is evaluated alone, in the same step loop evolution used; because each individual's
trials live in a Space of their own, the per-trial fitness must match the stored one bit for bit.
``--trace`` records one CSV row per trial step (only while the trial runs): time, agent pose,
object poses, every sensor input, every neuron state and output, every motor command.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from evorobot.champion import load_champion
from evorobot.errors import ChampionFileError
from evorobot.episode import Episode
from evorobot.evolution.evaluate import mean_fitness
from evorobot.store import encode_float, write_text


class TraceRecorder:
    """Observer of :meth:`Episode.run` that collects one row per running trial per tick."""

    def __init__(self, episode: Episode) -> None:
        self.rows: list[list[Any]] = []
        self.header: list[str] | None = None
        self._live = ~(episode.scores.done | episode.scores.failed)

    def _columns(self, ep: Episode, inner: dict[str, np.ndarray]) -> list[str]:
        cols = ["trial", "time", "agent_x", "agent_y"]
        for k in range(ep.objects.shape[1]):
            cols += [f"object{k}_x", f"object{k}_y"]
        cols += [f"input{i}" for i in range(ep.inputs.shape[1])]
        for name, arr in inner.items():
            cols += [f"{name}{i}" for i in range(arr.shape[1])]
        cols += [f"motor{i}" for i in range(ep.outputs.shape[1])] + ["vx", "vy"]
        return cols

    def __call__(self, ep: Episode) -> None:
        inner = ep.controller.trace(ep.state)
        if self.header is None:
            self.header = self._columns(ep, inner)
        for b in np.flatnonzero(self._live):
            ox, oy = ep.origins[b]
            a = ep.agent_body[b]
            row: list[Any] = [int(b), ep.time, ep.poses[a, 0] - ox, ep.poses[a, 1] - oy]
            for o in ep.objects[b]:
                row += [ep.poses[o, 0] - ox, ep.poses[o, 1] - oy] if o >= 0 else ["", ""]
            row += list(ep.inputs[b])
            for arr in inner.values():
                row += list(arr[b])
            row += list(ep.outputs[b]) + list(ep.velocities[a, :2])
            self.rows.append(row)
        self._live = ~(ep.scores.done | ep.scores.failed)

    def write(self, path: str | Path) -> None:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.header or [])
        w.writerows([[repr(float(v)) if isinstance(v, float) else v for v in r] for r in self.rows])
        write_text(path, buf.getvalue())


def replay(path: Path, as_json: bool = False, trace: str | None = None, record: str | None = None,
           record_trial: int = 0, record_every: int = 1) -> int:
    """Replay a champion file; print per-trial and mean fitness. Returns the exit status.

    ``record`` renders trial ``record_trial`` offscreen (after the fitness check, on a fresh
    episode) to a folder of PNG frames, a GIF or an MP4 (:mod:`evorobot.viewer.record`).
    """
    champ = load_champion(path)
    if record is not None and not 0 <= record_trial < champ.setup.task.n_trials:
        raise ChampionFileError(
            f"--record-trial {record_trial}: {path} has trials 0..{champ.setup.task.n_trials - 1}")
    episode = Episode(champ.setup, champ.genome[None, :], champ.conditions())
    recorder = TraceRecorder(episode) if trace else None
    result = episode.run(recorder)
    trials, failed = result.fitness[0], result.failed[0]
    fitness = mean_fitness(trials)
    match = bool(np.array_equal(trials, champ.trials)) and fitness == champ.fitness
    if recorder is not None and trace:
        recorder.write(trace)
    if as_json:
        doc = {"fitness": encode_float(fitness), "trials": [encode_float(x) for x in trials],
               "failed_trials": int(failed.sum()), "stored_fitness": encode_float(champ.fitness),
               "matches_stored": match}
        print(json.dumps(doc, allow_nan=False))
    else:
        names = champ.setup.task.condition_names
        conds = champ.conditions()
        for t, (f, c) in enumerate(zip(trials, conds)):
            desc = "  ".join(f"{n}={v:g}" for n, v in zip(names, c))
            print(f"trial {t:3d}  {desc}  fitness {f:.6f}{'  FAILED' if failed[t] else ''}")
        print(f"mean fitness {fitness:.6f}  (stored {champ.fitness:.6f}; "
              f"{'identical bit for bit' if match else 'DIFFERS from the stored fitness'})")
    if record is not None:
        from evorobot.viewer.record import record_trial as render_trial

        fresh = Episode(champ.setup, champ.genome[None, :], champ.conditions())
        info = {"generation": str(champ.generation), "seed": str(champ.seed)}
        frames = render_trial(fresh, record_trial, Path(record), info, every=record_every)
        print(f"recorded {frames} frames of trial {record_trial} to {record}", file=sys.stderr)
    if not match:
        print(f"evorobot: warning: {path}: replayed fitness differs from the stored one", file=sys.stderr)
    return 0 if match else 1
