"""``evorobot replay``: re-run every trial of a champion and compare with its stored fitness.

The champion is evaluated alone, in the same step loop evolution used; because each individual's
trials live in a Space of their own, the per-trial fitness must match the stored one bit for bit.
It also runs a world file's random or hand-wired controller, and any of them on fresh trials.
``--trace`` records one CSV row per trial step (only while the trial runs; one per robot of a
team): time, agent pose, object poses (body tasks), every sensor input, every neuron state and
output, every motor command, and the task's own per-tick quantities (a dynamics task's plant state
or target) (:meth:`~evorobot.tasks.base.Task.trace`).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from evorobot.errors import ChampionFileError
from evorobot.episode import Episode
from evorobot.fitness import mean_fitness
from evorobot.heldout import held_out
from evorobot.source import open_source, with_fresh_trials
from evorobot.store import encode_float, write_text


class TraceRecorder:
    """Observer of :meth:`Episode.run` that collects one row per running trial per tick."""

    def __init__(self, episode: Episode) -> None:
        self.rows: list[list[Any]] = []
        self.header: list[str] | None = None
        self._live = ~(episode.scores.done | episode.scores.failed)

    def _columns(self, ep: Episode, inner: dict[str, np.ndarray], extra: dict[str, np.ndarray]) -> list[str]:
        bodies = ep.plant_task is None
        cols = ["trial"] + (["robot"] if ep.n_robots > 1 else []) + ["time"]
        if bodies:
            cols += ["agent_x", "agent_y", "agent_heading"]
            for k in range(ep.objects.shape[1]):
                cols += [f"object{k}_x", f"object{k}_y"]
        cols += [f"input{i}" for i in range(ep.inputs.shape[1])]
        for name, arr in inner.items():
            cols += [f"{name}{i}" for i in range(arr.shape[1])]
        cols += [f"motor{i}" for i in range(ep.outputs.shape[1])] + (["vx", "vy"] if bodies else [])
        return cols + list(extra)

    def __call__(self, ep: Episode) -> None:
        inner = ep.controller.trace(ep.state)
        extra = ep.task.trace(ep.frame)  # per-world task quantities (a team's leader, ...)
        if self.header is None:
            self.header = self._columns(ep, inner, extra)
        for w in np.flatnonzero(self._live):
            if ep.plant_task is not None:  # a task with its own dynamics: no bodies to report
                row = [int(w), ep.time, *ep.inputs[w]]
                for arr in inner.values():
                    row += list(arr[w])
                self.rows.append(row + list(ep.outputs[w]) + [arr[w] for arr in extra.values()])
                continue
            ox, oy = ep.origins[w]
            for k in range(ep.n_robots):
                b = w * ep.n_robots + k
                a = ep.agent_body[b]
                row: list[Any] = [int(w)] + ([k] if ep.n_robots > 1 else [])
                row += [ep.time, ep.poses[a, 0] - ox, ep.poses[a, 1] - oy, ep.poses[a, 2]]
                for o in ep.objects[w]:
                    row += [ep.poses[o, 0] - ox, ep.poses[o, 1] - oy] if o >= 0 else ["", ""]
                row += list(ep.inputs[b])
                for arr in inner.values():
                    row += list(arr[b])
                row += list(ep.outputs[b]) + list(ep.velocities[a, :2])
                row += [arr[w] for arr in extra.values()]
                self.rows.append(row)
        self._live = ~(ep.scores.done | ep.scores.failed)

    def write(self, path: str | Path) -> None:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.header or [])
        w.writerows([[repr(float(v)) if isinstance(v, float) else v for v in r] for r in self.rows])
        write_text(path, buf.getvalue())


def replay(target: str, as_json: bool = False, trace: str | None = None, record: str | None = None,
           record_trial: int = 0, record_every: int = 1, trials: int | None = None, seed: int = 0,
           overrides: list[str] | None = None, genome_seed: int = 0, controller: str | None = None) -> int:
    """Replay a champion (file or run directory) or a world file; print per-trial and mean fitness.

    A champion is compared bit for bit with its stored fitness (exit 1 if it differs). A world file
    runs a random genome seeded by ``genome_seed`` (no genes for a hand-wired controller; any
    registered type with its defaults via ``controller``): a baseline on the same trials. ``trials`` replaces the trials by that many fresh random ones
    drawn from ``seed`` (:func:`evorobot.source.with_fresh_trials`). Task diagnostics (reached the
    light, ...) are printed per trial and averaged. ``record`` renders trial ``record_trial``
    offscreen (after the run, on a fresh episode) to a folder of PNG frames, a GIF or an MP4
    (:mod:`evorobot.viewer.record`). Returns the exit status.
    """
    source = open_source(target, overrides, genome_seed, controller)
    if trials is not None:
        source = with_fresh_trials(source, trials, seed)
    setup, conds = source.setup, source.conditions
    if record is not None:  # vet the target before running anything
        if not 0 <= record_trial < len(conds):
            raise ChampionFileError(f"--record-trial {record_trial}: {target} has trials 0..{len(conds) - 1}")
        from evorobot.viewer import check_record_target

        check_record_target(Path(record))
    episode = Episode(setup, source.genome[None, :], conds)
    recorder = TraceRecorder(episode) if trace else None
    result = episode.run(recorder)
    fit_trials, failed = result.fitness[0], result.failed[0]
    fitness = mean_fitness(fit_trials)
    diags = setup.task.diagnostics(episode.scores, episode.conditions)
    test = held_out(setup, source.genome)
    stored = source.stored_trials
    match = stored is not None and bool(np.array_equal(fit_trials, stored)) and fitness == source.stored_fitness
    if recorder is not None and trace:
        recorder.write(trace)
    if as_json:
        doc: dict[str, Any] = {"fitness": encode_float(fitness), "trials": [encode_float(x) for x in fit_trials],
                               "failed_trials": int(failed.sum()),
                               "diagnostics": {k: encode_float(float(np.mean(v))) for k, v in diags.items()}}
        if test is not None:
            doc["held_out"] = {"metric": test.metric, "score": encode_float(test.score)}
        if stored is not None:
            doc.update(stored_fitness=encode_float(source.stored_fitness), matches_stored=match)
        print(json.dumps(doc, allow_nan=False))
    else:
        names = setup.task.condition_names
        for t, (f, c) in enumerate(zip(fit_trials, conds)):
            desc = "  ".join(f"{n}={v:g}" for n, v in zip(names, c) if n != "noise_seed")
            extra = "".join(f"  {k}={v[t]:g}" for k, v in diags.items())
            print(f"trial {t:3d}  {desc}  fitness {f:.6f}{extra}{'  FAILED' if failed[t] else ''}")
        summary = "".join(f"; mean {k} {np.mean(v):.4f}" for k, v in diags.items())
        if stored is not None:
            verdict = "identical bit for bit" if match else "DIFFERS from the stored fitness"
            print(f"mean fitness {fitness:.6f}{summary}  (stored {source.stored_fitness:.6f}; {verdict})")
        else:
            print(f"mean fitness {fitness:.6f}{summary}  ({len(conds)} trials, {source.info.get('trials', 'no stored fitness')})")
        if test is not None:
            print(f"held-out test: {test.metric} {test.score:.6g}")
    if record is not None:
        from evorobot.viewer.record import record_trial as render_trial

        fresh = Episode(setup, source.genome[None, :], conds)
        frames = render_trial(fresh, record_trial, Path(record), dict(source.info), every=record_every)
        print(f"recorded {frames} frames of trial {record_trial} to {record}", file=sys.stderr)
    if stored is not None and not match:
        print(f"evorobot: warning: {target}: replayed fitness differs from the stored one", file=sys.stderr)
        return 1
    return 0
