"""Coordinated movement without communication: a clonal team moves off together, never touching.

Description
    Quinn's (2001) and Quinn, Smith, Mayley & Husbands' (2003) cooperation task: ``robots`` (2 or
    3, ...) Khepera-like robots, each running its own copy of one evolved network (a clonal team:
    the episode gives every robot of a trial world a copy of the individual's network), start in a
    tight random formation with random headings and must move the team's centroid as far as
    possible while staying together and never colliding. With IR proximity alone and no signalling
    channel, a successful team must settle who goes in front from the interaction itself: Quinn's
    teams showed role differentiation, one robot leading and the others following. That is measured
    here as a diagnostic (below), never rewarded.
Sensors
    The agent file's ``[ir]`` proximity sensors (required; the reference worlds use
    ``sensors = ["ir"]``: IR only, no signalling channel). Each robot sees its teammates as
    circles of the robot's radius (:mod:`evorobot.sim.sensors`).
Motors
    Differential drive (``[motor] type = "differential"``).
Fitness
    With ``D(t)`` the distance (cm) of the team's centroid from its starting centroid after tick
    ``t``, ``v`` the agent's maximum wheel speed, ``T`` = ``duration``, ``L`` the trial's ticks, a
    tick *apart* when some robot's nearest teammate is farther than ``separation_distance`` (centre
    to centre; 0 means the IR range + 2 radii: out of IR range) and ``A`` the number of such ticks::

        F = sum_t w(t) (D(t) - D(t-1)) / (v T) - separation_penalty * A / L  [- collision_penalty]
        w(t) = 1 - separation_discount * tanh(e(t) / separation_scale) on ticks apart, 1 otherwise
        D(0) = 0;  e(t): the largest nearest-teammate distance's excess over separation_distance

    (``separation_scale`` 0: ``w = 1 - separation_discount`` on every tick apart, a step.)

    (Quinn's form: the centroid's gain counts only while the team holds together.) A team that
    stays together scores ``D / (v T)`` with ``D`` its final displacement: 1 for driving straight at
    full speed the whole trial. A collision is a tick on which two robots' centres are within
    ``2 r + collision_margin``; the world-file setting ``collision`` picks what it does: ``"end"``
    stops the trial's scoring on that tick (the sums as they were then), ``"zero"`` stops it too and
    drops the gain (``F = -separation_penalty * A / L``), ``"penalty"`` lets the trial go on; in
    every mode a trial with a collision also loses ``collision_penalty`` once (0: Quinn's pure
    rule, the collision costs only the gain it forgoes). Diagnostics per trial:
    ``collided`` (0/1), ``displacement`` (``D`` when scoring stopped, in body diameters, also
    after a collision under ``"zero"``), ``apart`` (``A / L``),
    ``leader`` (the robot that led on most ticks, -1 if none) and ``lead_share`` (the share of the
    ticks with a leader on which it led) and ``together_moving`` (1 when the trial meets issue 21's
    per-trial goal: no collision, ``apart`` <= ``TOGETHER_MAX_APART`` (0.2: every robot within IR
    range of a teammate for >= 80 % of the ticks) and ``displacement`` >= ``MOVING_MIN_DIAMETERS``
    (5 body diameters); its mean over trials is the share of trials that are together and moving).
    On a tick, the leader is the robot in front along the
    team's direction of travel: the largest projection of its position relative to the centroid
    onto the unit vector from the starting centroid to the current one; ticks on which the centroid
    is less than ``lead_min_displacement`` from its start have no leader. ``replay --trace`` writes
    each tick's ``leader`` and ``displacement``.
Trials
    ``trials`` (12) per evaluation, fresh each generation. A trial's formation is drawn from its rng
    (condition columns ``x_k, y_k, heading_k`` per robot, then the noise seed): robot 0 at the
    origin; each further robot ``k`` attaches to an earlier robot ``j`` drawn uniformly, at centre
    distance ``2 r + g``, ``g ~ U(start_min_gap, start_max_gap)``, bearing ``~ U(-pi, pi)``; a
    draw closer than ``2 r + start_min_gap`` to any earlier robot is redrawn. So every robot starts
    within IR range of a teammate (``start_max_gap`` <= the IR range) and the team is connected.
    The formation is then shifted so that its centroid is at the arena's centre, and every robot
    gets a heading ``~ U(-pi, pi)`` (drawn after the positions).
Termination
    After ``duration`` seconds (20 s), or at a collision under ``collision = "end"`` / ``"zero"``
    (the robots keep moving but no longer score). The arena's walls are far away (1000 cm square):
    the task refuses an arena whose walls a robot could reach within ``duration`` (IR would see
    nothing else, so walls out of reach make it an open plane).
References
    Quinn, M. (2001). Evolving communication without dedicated communication channels. ECAL 2001,
    LNAI 2159, 357-366. Quinn, M., Smith, L., Mayley, G. & Husbands, P. (2003). Evolving controllers
    for a homogeneous system of physical robots: structured cooperation with minimal sensors.
    Phil. Trans. R. Soc. Lond. A 361, 2321-2343.
    Adapted: Quinn rewarded each tick's gain in the centroid's distance from its start, discounted
    while the robots were beyond sensor range of each other, and ended a trial at a collision, on
    real and simulated Kheperas with short-range IR. Here the discount is
    ``separation_discount`` (1: no gain while far apart) times ``tanh`` of the excess separation
    over ``separation_scale`` (a step when 0), an optional additive ``separation_penalty`` can charge time spent apart even when
    standing still, and the collision rule is a setting (the reference worlds use ``"zero"``).
    A first run with the additive penalty alone (1.0, no discount) stalled: any team that moved
    drifted apart and scored below a team standing still, so standing still took over. The
    reference worlds charge a collision 0.3 and start from an obstacle-avoiding population
    (``evorobot evolve ... --init-from``, incremental evolution as in Harvey et al.'s vision
    work): without the charge the evolved teams stayed closer and collided more often; from random
    genomes a charge of 1.0 made standing still win and one of 0.25 left 16 % collisions. Trial length and counts are shorter than Quinn's (tens of trials of 20 s
    rather than of ~60 s), so that a run takes minutes on two cores. The Khepera's IR model is
    evorobot's (~10 cm range), longer than Quinn's robots' (a few cm).
Version
    2: ``collision_penalty`` applies in every collision mode (in 1, under ``"penalty"`` only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from evorobot._types import BoolArray, FloatArray, IntArray
from evorobot.agent import AgentSpec
from evorobot.errors import ConfigError
from evorobot.spec import setting
from evorobot.tasks.base import Frame, Scores
from evorobot.tasks.robot import NOISE_SEEDS, ArenaSpec, RobotTask

END, ZERO, PENALTY = 0, 1, 2
_MODES = {"end": END, "zero": ZERO, "penalty": PENALTY}
D, GAIN, COLLIDED, APART, LEAD_TICKS, LEADS = 0, 1, 2, 3, 4, 5
"""Columns of ``scores.values``: displacement (cm), discounted gain (cm), collided flag, ticks
apart, ticks with a leader, then each robot's count of ticks in the lead."""
TOGETHER_MAX_APART = 0.2
"""A trial is *together* when some robot is out of range of every teammate on at most this share of ticks."""
MOVING_MIN_DIAMETERS = 5.0
"""A trial is *moving* when the centroid ends at least this many body diameters from its start."""


@dataclass(frozen=True)
class CoordinatedMovementSpec(ArenaSpec):
    """Settings of the coordinated-movement task."""

    arena_width: float = setting(1000.0, gt=0, doc="arena width (cm): walls far out of reach")
    arena_height: float = setting(1000.0, gt=0, doc="arena height (cm)")
    robots: int = setting(2, ge=2, le=8, doc="robots in the team (clonal: each runs a copy of the network)")
    trials: int = setting(12, ge=1, doc="trials per evaluation, each from a fresh random formation")
    duration: float = setting(20.0, gt=0, doc="trial length in seconds")
    start_min_gap: float = setting(3.0, ge=0, doc="least start gap between robot perimeters (cm)")
    start_max_gap: float = setting(8.0, gt=0, doc="largest gap from a robot to the teammate it starts beside (cm)")
    collision: str = setting("zero", choices=tuple(_MODES), doc="what a collision does: end | zero | penalty")
    collision_margin: float = setting(0.25, ge=0, doc="centre distance <= 2 r + this counts as a collision (cm)")
    collision_penalty: float = setting(0.0, ge=0, doc="subtracted once from a trial with a collision (every mode)")
    separation_discount: float = setting(1.0, ge=0, le=1, doc="share of the centroid's gain lost on ticks apart")
    separation_scale: float = setting(0.0, ge=0, doc="excess separation (cm) over which the discount grows (0: a step)")
    separation_penalty: float = setting(0.0, ge=0, doc="times the share of ticks with a robot out of range")
    separation_distance: float = setting(0.0, ge=0, doc="centre distance beyond which a robot is apart (0: IR range + 2 r)")
    lead_min_displacement: float = setting(2.75, ge=0, doc="no leader while the centroid is nearer its start (cm)")


@njit(cache=True)
def _leader(poses: FloatArray, team: IntArray, origins: FloatArray, conditions: FloatArray, w: int,
            min_disp: float) -> tuple[int, float]:
    """(leader, displacement) of world ``w``: the robot in front along the centroid's displacement
    from its start (-1 while that is under ``min_disp``), and the displacement's length."""
    n = team.shape[1]
    cx, cy, sx, sy = 0.0, 0.0, 0.0, 0.0
    for k in range(n):
        a = team[w, k]
        cx += poses[a, 0] - origins[w, 0]
        cy += poses[a, 1] - origins[w, 1]
        sx += conditions[w, 3 * k]
        sy += conditions[w, 3 * k + 1]
    cx, cy, sx, sy = cx / n, cy / n, sx / n, sy / n
    ux, uy = cx - sx, cy - sy
    d = math.hypot(ux, uy)
    if not d >= min_disp or d == 0.0:
        return -1, d
    best, lead = -math.inf, -1
    for k in range(n):
        a = team[w, k]
        p = (poses[a, 0] - origins[w, 0] - cx) * ux + (poses[a, 1] - origins[w, 1] - cy) * uy
        if p > best:
            best, lead = p, k
    return lead, d


@njit(cache=True)
def _team(poses: FloatArray, team: IntArray, origins: FloatArray, conditions: FloatArray, contact: float,
          apart: float, discount: float, scale: float, min_disp: float, mode: int, step: int, last: int, done: BoolArray,
          failed: BoolArray, values: FloatArray) -> None:
    """One tick of every trial world (see the module docstring; columns D, COLLIDED, ...)."""
    n = team.shape[1]
    for w in range(team.shape[0]):
        if done[w] or failed[w]:
            continue
        lead, d = _leader(poses, team, origins, conditions, w, min_disp)
        if not math.isfinite(d):
            failed[w] = True
            continue
        touching, excess = False, -math.inf
        for k in range(n):
            a = team[w, k]
            nearest = math.inf
            for j in range(n):
                if j != k:
                    b = team[w, j]
                    nearest = min(nearest, math.hypot(poses[a, 0] - poses[b, 0], poses[a, 1] - poses[b, 1]))
            touching = touching or nearest <= contact
            excess = max(excess, nearest - apart)
        gain = d - values[w, D]
        values[w, D] = d
        if excess > 0.0:
            values[w, APART] += 1.0
            gain *= 1.0 - discount * (math.tanh(excess / scale) if scale > 0.0 else 1.0)
        values[w, GAIN] += gain
        if lead >= 0:
            values[w, LEAD_TICKS] += 1.0
            values[w, LEADS + lead] += 1.0
        if touching:
            values[w, COLLIDED] = 1.0
            if mode != PENALTY:
                if mode == ZERO:
                    values[w, GAIN] = 0.0
                done[w] = True
        if step + 1 >= last:
            done[w] = True


@njit(cache=True)
def _leaders(poses: FloatArray, team: IntArray, origins: FloatArray, conditions: FloatArray, min_disp: float,
             leader: FloatArray, displacement: FloatArray) -> None:
    """Each world's leader and centroid displacement now (for ``replay --trace``)."""
    for w in range(team.shape[0]):
        lead, d = _leader(poses, team, origins, conditions, w, min_disp)
        leader[w], displacement[w] = lead, d


class CoordinatedMovement(RobotTask):
    """Quinn's coordinated movement of a clonal team (see the module docstring)."""

    view_follow = 40.0  # the viewer follows the team: the arena is far larger than the formation

    name = "coordinated_movement"
    Spec = CoordinatedMovementSpec
    version = 2

    def __init__(self, spec: Any, agent: AgentSpec, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        if agent.ir is None:
            raise ConfigError(f"{where}: coordinated movement needs IR sensors (an [ir] table in the agent)")
        r = self.radius
        self.n_robots = spec.robots
        self.contact = 2 * r + spec.collision_margin
        self.apart = spec.separation_distance or agent.ir.range + 2 * r
        if spec.start_min_gap >= spec.start_max_gap:
            raise ConfigError(f"{where}: `start_min_gap` {spec.start_min_gap:g} must be below `start_max_gap` "
                              f"{spec.start_max_gap:g}")
        if 2 * r + spec.start_max_gap > self.apart:
            raise ConfigError(f"{where}: `start_max_gap` {spec.start_max_gap:g} would start robots apart (beyond "
                              f"`separation_distance` {self.apart:g} centre to centre)")
        if spec.start_min_gap <= spec.collision_margin:
            raise ConfigError(f"{where}: `start_min_gap` {spec.start_min_gap:g} must exceed `collision_margin` "
                              f"{spec.collision_margin:g} (robots would start in collision)")
        reach = agent.motor.max_speed * spec.duration + spec.robots * (2 * r + spec.start_max_gap) + r
        if reach >= min(spec.arena_width, spec.arena_height) / 2:
            raise ConfigError(f"{where}: `arena_width`/`arena_height` {spec.arena_width:g} x {spec.arena_height:g} "
                              f"puts walls within reach of the team in `duration` {spec.duration:g} s (needs a "
                              f"half-size above {reach:.0f} cm)")
        self.worst = -(1.0 + spec.separation_penalty + spec.collision_penalty)  # the gain >= -(v T)
        self.condition_names = tuple(f"{c}{k}" for k in range(spec.robots) for c in ("x", "y", "heading"))
        self.condition_names += ("noise_seed",)

    def formation(self, rng: np.random.Generator) -> FloatArray:
        """(robots, 3) start poses of one trial, centroid at the origin (module docstring, Trials)."""
        sp, r = self.spec, self.radius
        xy = np.zeros((sp.robots, 2))
        for k in range(1, sp.robots):
            for _ in range(10_000):
                j = int(rng.integers(k))
                dist = 2 * r + rng.uniform(sp.start_min_gap, sp.start_max_gap)
                phi = rng.uniform(-math.pi, math.pi)
                p = xy[j] + dist * np.array([math.cos(phi), math.sin(phi)])
                if np.all(np.hypot(*(xy[:k] - p).T) >= 2 * r + sp.start_min_gap):
                    xy[k] = p
                    break
            else:
                raise ConfigError(f"task {self.name}: no room to place robot {k} of the formation")
        xy -= xy.mean(axis=0)
        return np.column_stack([xy, rng.uniform(-math.pi, math.pi, sp.robots)])

    def conditions(self, rng: np.random.Generator) -> FloatArray:
        rows = [[*self.formation(rng).ravel(), float(rng.integers(NOISE_SEEDS))] for _ in range(self.spec.trials)]
        return np.array(rows, dtype=np.float64)

    def agent_starts(self, cond: FloatArray) -> list[tuple[float, float, float]]:
        return [(float(cond[3 * k]), float(cond[3 * k + 1]), float(cond[3 * k + 2])) for k in range(self.n_robots)]

    def new_scores(self, n: int) -> Scores:
        return Scores(np.zeros(n, np.bool_), np.zeros(n, np.bool_), np.zeros((n, LEADS + self.n_robots)))

    def score(self, frame: Frame, step: int, scores: Scores) -> None:
        sp = self.spec
        _team(frame.poses, frame.team, frame.origins, frame.conditions, self.contact, self.apart,
              sp.separation_discount, sp.separation_scale, sp.lead_min_displacement, _MODES[sp.collision], step, self.max_steps, scores.done, scores.failed,
              scores.values)

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        sp, v = self.spec, scores.values
        fit = v[:, GAIN] / (self.agent.motor.max_speed * sp.duration) - sp.separation_penalty * v[:, APART] / self.max_steps
        fit = fit - sp.collision_penalty * v[:, COLLIDED]
        return np.where(scores.failed | ~scores.done, self.worst, fit)

    def diagnostics(self, scores: Scores, conditions: FloatArray) -> dict[str, FloatArray]:
        v = scores.values
        leads = v[:, LEADS:]
        ticks = v[:, LEAD_TICKS]
        displacement, apart = v[:, D] / (2 * self.radius), v[:, APART] / self.max_steps
        goal = (v[:, COLLIDED] == 0.0) & (apart <= TOGETHER_MAX_APART) & (displacement >= MOVING_MIN_DIAMETERS)
        return {"collided": v[:, COLLIDED].copy(), "displacement": displacement, "apart": apart,
                "leader": np.where(ticks > 0, np.argmax(leads, axis=1), -1).astype(np.float64),
                "lead_share": np.where(ticks > 0, leads.max(axis=1) / np.maximum(ticks, 1.0), 0.0),
                "together_moving": (goal & ~scores.failed).astype(np.float64)}

    def trace(self, frame: Frame) -> dict[str, FloatArray]:
        n = frame.team.shape[0]
        leader, displacement = np.empty(n), np.empty(n)
        _leaders(frame.poses, frame.team, frame.origins, frame.conditions, self.spec.lead_min_displacement,
                 leader, displacement)
        return {"leader": leader, "displacement": displacement / (2 * self.radius)}
