"""``evorobot replay``: re-run every trial of a champion and compare with its stored fitness.

The champion is evaluated alone, in the same step loop evolution used; because each individual's
trials live in a Space of their own, the per-trial fitness must match the stored one bit for bit.
It also runs a world file's random or hand-wired controller, and any of them on fresh trials.
``--json`` prints the same numbers as the text: mean fitness, per-trial fitness, and ``per_trial``
with each trial's conditions, fitness, failure flag and task diagnostics.

``--trace FILE.csv`` (:class:`TraceRecorder`) writes the analysis input: one row per robot per
running trial per tick, plus a row at ``time = 0``; every float as its ``repr`` (reads back
exactly with ``float``); the rows are kept in memory until the run ends, so their estimated size
is checked against the budget first (:func:`evorobot.budget.check_trace`). Columns, named as
:mod:`evorobot.labels` names them:

- ``trial``, ``robot`` (a team only), ``time``; ``cond_NAME`` for each of the task's
  ``condition_names`` (the trial's conditions row, constant per trial; ``cond_noise_seed`` where the
  task has one);
- a body task: ``agent_x``, ``agent_y``, ``agent_heading`` and ``object{k}_x``, ``object{k}_y``
  (relative to the trial world's origin; empty where a world has fewer objects);
- the inputs (``ray0..``, ``ir0..``, ``light0..`` ...; a dynamics task's own names);
- raw distances beside them: Beer's eye ``ray{i}_distance``; a robot's IR ``ir{s}_distance`` (or
  ``ir{s}_ray{j}_distance`` for a sensor of several rays) and camera ``pixel{p}_distance``;
- every traced controller quantity by :func:`~evorobot.labels.unit_labels` (a CTRNN: states
  ``y_h0..``, outputs ``h0.. m0..``);
- the motor commands (``motor0..``; a dynamics task's names); a body's ``vx``, ``vy``; a robot's
  ``wheel_left``, ``wheel_right``;
- the task's per-tick quantities (:meth:`~evorobot.tasks.base.Task.trace`: a plant's state, a
  sequence's output and target, a team's leader), ``task_NAME`` where ``NAME`` is already a column
  (the double pole's plant state ``task_x``, ``task_theta1`` ... beside its inputs ``x``, ``theta1``).

When each value was taken (:meth:`Episode.tick`). Tick ``k`` (``k = 0, 1, ...``) senses at its start
from the poses after tick ``k - 1`` (a dynamics task observes its plant), steps the controller,
turns its outputs into motor commands, then steps the physics (or the plant) and scores. The row
written after tick ``k`` holds ``time = (k + 1) * dt``; the poses after that physics step (and the
task's quantities computed from them); the inputs, and the distances, sensed at the start of the
tick, i.e. from the poses of the previous row; the controller's state and outputs after its step;
the motor commands of the tick, and ``vx``, ``vy``, ``wheel_*`` the velocities and wheel speeds
they commanded before the physics step (pymunk's contact solver may then have changed the motion).
The row at ``time = 0`` is the episode after reset, before the first tick: the initial poses
(``vx``, ``vy`` the bodies' initial velocities); inputs 0, motor commands 0 and wheel speeds 0
(nothing sensed or commanded yet); distances at the sensor's range (nothing seen yet); the
controller's state and outputs from ``init_state``; the task's quantities of the initial state.
A trial that ends at tick ``k`` (done or failed) has its row for tick ``k`` and no later one.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from evorobot.episode import Episode
from evorobot.errors import ChampionFileError
from evorobot.heldout import held_out
from evorobot.labels import input_labels, output_labels, unit_labels
from evorobot.source import open_source, with_fresh_trials
from evorobot.store import encode_float, write_text


def condition_columns(episode: Episode) -> list[str]:
    """``cond_NAME`` for each of the task's conditions (``cond_{i}`` if the task names none)."""
    names = list(episode.task.condition_names)
    if len(names) != episode.conditions.shape[1]:
        names = [str(i) for i in range(episode.conditions.shape[1])]
    return [f"cond_{n}" for n in names]


def distance_columns(episode: Episode) -> list[str]:
    """Raw sensor distances of a body task's agents, in the order of :func:`sensor_distances`."""
    robots = episode.robots
    if robots is None:
        return [f"ray{i}_distance" for i in range(episode.distances.shape[1])]
    if robots.ir_rays == 1:
        cols = [f"ir{s}_distance" for s in range(robots.n_ir)]
    else:
        cols = [f"ir{s}_ray{j}_distance" for s in range(robots.n_ir) for j in range(robots.ir_rays)]
    return cols + [f"pixel{p}_distance" for p in range(robots.n_pixels)]


def sensor_distances(episode: Episode) -> np.ndarray:
    """(B, k) each agent's distances of this tick: eye rays, or IR rays then camera pixels."""
    robots = episode.robots
    if robots is None or robots.n_pixels == 0:
        return episode.distances
    cam = robots.cam_dist
    if cam.shape[0] != episode.n_agents:  # before the first tick: nothing seen yet
        cam = np.full((episode.n_agents, robots.n_pixels), robots.cam_range)
    return np.hstack([episode.distances, cam])


def trace_columns(ep: Episode, inner: dict[str, np.ndarray], extra: dict[str, np.ndarray]) -> list[str]:
    """The trace file's header (see the module docstring)."""
    bodies = ep.plant_task is None
    cols = ["trial"] + (["robot"] if ep.n_robots > 1 else []) + ["time"] + condition_columns(ep)
    if bodies:
        cols += ["agent_x", "agent_y", "agent_heading"]
        for k in range(ep.objects.shape[1]):
            cols += [f"object{k}_x", f"object{k}_y"]
    cols += input_labels(ep) + (distance_columns(ep) if bodies else [])
    for key, arr in inner.items():
        cols += unit_labels(ep.controller, key, arr.shape[1])
    cols += output_labels(ep)
    if bodies:
        cols += ["vx", "vy"] + (["wheel_left", "wheel_right"] if ep.robots is not None else [])
    taken = set(cols)  # the double pole's plant state shares its names with the observed inputs
    return cols + [f"task_{name}" if name in taken else name for name in extra]


class TraceRecorder:
    """Observer of :meth:`Episode.run` that collects one row per running trial (per robot) per tick.

    Call it once on the fresh episode for the row at ``time = 0``, then pass it to
    :meth:`Episode.run`.
    """

    def __init__(self, episode: Episode) -> None:
        self.rows: list[list[Any]] = []
        self.header: list[str] | None = None
        self._live = ~(episode.scores.done | episode.scores.failed)

    def __call__(self, ep: Episode) -> None:
        inner = ep.controller.trace(ep.state)
        extra = ep.task.trace(ep.frame)  # per-world task quantities (a team's leader, ...)
        if self.header is None:
            self.header = trace_columns(ep, inner, extra)
        distances = sensor_distances(ep) if ep.plant_task is None else None
        for w in np.flatnonzero(self._live):
            conds = list(ep.conditions[w])
            if distances is None:  # a task with its own dynamics: no bodies to report
                row = [int(w), ep.time, *conds, *ep.inputs[w]]
                for arr in inner.values():
                    row += list(arr[w])
                self.rows.append(row + list(ep.outputs[w]) + [arr[w] for arr in extra.values()])
                continue
            ox, oy = ep.origins[w]
            for k in range(ep.n_robots):
                b = w * ep.n_robots + k
                a = ep.agent_body[b]
                row: list[Any] = [int(w)] + ([k] if ep.n_robots > 1 else [])
                row += [ep.time, *conds, ep.poses[a, 0] - ox, ep.poses[a, 1] - oy, ep.poses[a, 2]]
                for o in ep.objects[w]:
                    row += [ep.poses[o, 0] - ox, ep.poses[o, 1] - oy] if o >= 0 else ["", ""]
                row += list(ep.inputs[b]) + list(distances[b])
                for arr in inner.values():
                    row += list(arr[b])
                row += list(ep.outputs[b]) + list(ep.velocities[a, :2])
                if ep.robots is not None:
                    row += list(ep.wheels[b])
                row += [arr[w] for arr in extra.values()]
                self.rows.append(row)
        self._live = ~(ep.scores.done | ep.scores.failed)

    def write(self, path: str | Path) -> None:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.header or [])
        w.writerows([[repr(float(v)) if isinstance(v, float) else v for v in r] for r in self.rows])
        write_text(path, buf.getvalue())


def _condition(v: float) -> str:
    """A condition value as printed: whole numbers in full (a reset seed), others in %g."""
    return str(int(v)) if float(v).is_integer() and abs(v) < 2**53 else f"{v:g}"


def per_trial_json(names: tuple[str, ...], conditions: np.ndarray, fitness: np.ndarray, failed: np.ndarray,
                   diagnostics: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """One strict-JSON record per trial: its conditions by name, fitness, failure and diagnostics."""
    return [{"trial": t, "conditions": {n: encode_float(v) for n, v in zip(names, conditions[t])},
             "fitness": encode_float(fitness[t]), "failed": bool(failed[t]),
             "diagnostics": {k: encode_float(v[t]) for k, v in diagnostics.items()}}
            for t in range(len(fitness))]


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
    if recorder is not None:
        recorder(episode)  # the row at time 0
        from evorobot.budget import check_trace, ticks_per_trial

        width = len(recorder.rows[0]) if recorder.rows else 0
        check_trace(setup, width, len(recorder.rows) * (ticks_per_trial(setup) + 1))  # before the run
    result = episode.run(recorder)
    fit_trials, failed = result.fitness[0], result.failed[0]
    fitness = setup.task.individual_fitness(fit_trials)
    diags = setup.task.diagnostics(episode.scores, episode.conditions)
    test = held_out(setup, source.genome)
    stored = source.stored_trials
    match = stored is not None and bool(np.array_equal(fit_trials, stored)) and fitness == source.stored_fitness
    if recorder is not None and trace:
        recorder.write(trace)
    if as_json:
        doc: dict[str, Any] = {"fitness": encode_float(fitness), "trials": [encode_float(x) for x in fit_trials],
                               "failed_trials": int(failed.sum()),
                               "diagnostics": {k: encode_float(float(np.mean(v))) for k, v in diags.items()},
                               "per_trial": per_trial_json(setup.task.condition_names, conds, fit_trials, failed, diags)}
        if test is not None:
            doc["held_out"] = {"metric": test.metric, "score": encode_float(test.score)}
        if stored is not None:
            doc.update(stored_fitness=encode_float(source.stored_fitness), matches_stored=match)
        print(json.dumps(doc, allow_nan=False))
    else:
        names = setup.task.condition_names
        for t, (f, c) in enumerate(zip(fit_trials, conds)):
            desc = "  ".join(f"{n}={_condition(v)}" for n, v in zip(names, c) if n != "noise_seed")
            extra = "".join(f"  {k}={v[t]:g}" for k, v in diags.items())
            print(f"trial {t:3d}  {desc}  fitness {f:.6f}{extra}{'  FAILED' if failed[t] else ''}")
        summary = "".join(f"; mean {k} {np.mean(v):.4f}" for k, v in diags.items())
        if stored is not None:
            verdict = "identical bit for bit" if match else "DIFFERS from the stored fitness"
            print(f"{setup.task.fitness_name} {fitness:.6f}{summary}  (stored {source.stored_fitness:.6f}; {verdict})")
        else:
            print(f"{setup.task.fitness_name} {fitness:.6f}{summary}  ({len(conds)} trials, {source.info.get('trials', 'no stored fitness')})")
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
