"""``num_envs`` single-agent environments in one batched episode (:class:`EvorobotVectorEnv`).

A policy trainer steps many trials at once; evorobot steps them in one
:class:`~evorobot.episode.Episode`, one kernel call per stage and tick for all of them (sensors,
motors, score; one ``pymunk.batch`` read and write per Space). The result is bit for bit that of a
``gymnasium.vector.SyncVectorEnv`` over :class:`~evorobot.gym.single.EvorobotEnv` with the same
seeds (tests/test_gym.py), including its autoreset rule (``NEXT_STEP``: the step after an episode
ends resets that environment, returning its first observation with reward 0):

- each environment has its own ``np_random`` seeded as ``SyncVectorEnv`` seeds it (``seed + i``)
  and draws its trials exactly as a single environment does;
- each trial lives in its own Space, as in a single environment, so a trial computes the same
  bits whatever else is in the batch;
- environments that reset at the same step share an episode (a *cohort*, with one step count);
  an environment that ends leaves its cohort and joins the next one. Tasks whose trials all last
  the same time (the minimal-cognition tasks, a robot's fixed duration) keep one cohort; where
  trials end at different times (a pole that falls) a step costs one kernel call per live cohort.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from evorobot._types import BoolArray, FloatArray, IntArray
from evorobot.episode import Episode
from evorobot.gym import core


@dataclass
class _Cohort:
    """Environments that reset at the same step: one episode, one row each."""

    episode: Episode
    members: IntArray  # (m,) environment of each row
    progress: FloatArray  # (m,) each row's fitness so far
    live: BoolArray = field(init=False)  # (m,) rows whose environment is still in this cohort

    def __post_init__(self) -> None:
        self.live = np.ones(self.members.shape[0], dtype=bool)


class EvorobotVectorEnv(VectorEnv):
    """``num_envs`` trials of ``world``'s single-agent task, stepped as one batch."""

    metadata: dict[str, Any] = {  # noqa: RUF012 (Gymnasium's convention)
        "render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, world: str | Path, num_envs: int = 1, overrides: list[str] | None = None,
                 render_mode: str | None = None) -> None:
        self.world = str(world)
        if render_mode is not None:
            raise ValueError(f"{self.world}: the vector environment does not render; render a single "
                             "environment (evorobot.gym.single.EvorobotEnv)")
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"{self.world}: num_envs must be a positive integer, got {num_envs!r}")
        self.setup = core.env_setup(world, overrides)
        self.num_envs = num_envs
        self.render_mode = None
        n_in, self._n_out = core.io_sizes(self.setup)
        low, high = core.observation_bounds(self.setup)
        self.single_observation_space = spaces.Box(low, high, (n_in,), np.float64)
        self.single_action_space = spaces.Box(0.0, 1.0, (self._n_out,), np.float64)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._rngs: list[np.random.Generator | None] = [None] * num_envs
        self._cohorts: list[_Cohort] = []
        self._obs = np.zeros((num_envs, n_in))
        self._autoreset = np.zeros(num_envs, dtype=bool)

    def _rng(self, i: int) -> np.random.Generator:
        rng = self._rngs[i]
        if rng is None:
            rng, _ = seeding.np_random()
            self._rngs[i] = rng
        return rng

    def _start(self, envs: IntArray, options: dict[str, Any] | None) -> list[FloatArray]:
        """Draw a trial for each of ``envs`` (in order) and start them as one new cohort."""
        rows = [core.trial_conditions(self.setup, self._rng(int(i)), options, self.world) for i in envs]
        ep = core.new_episode(self.setup, np.array(rows))
        self._cohorts.append(_Cohort(ep, envs, np.zeros(envs.shape[0])))
        self._obs[envs] = ep.inputs
        return rows

    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[FloatArray, dict[str, Any]]:
        n = self.num_envs
        seeds = [None] * n if seed is None else [seed + i for i in range(n)] if isinstance(seed, int) else list(seed)
        if len(seeds) != n:
            raise ValueError(f"{self.world}: {len(seeds)} seeds for num_envs = {n}")
        for i, s in enumerate(seeds):
            if s is not None:
                self._rngs[i], _ = seeding.np_random(s)
        self._cohorts = []
        rows = self._start(np.arange(n), options)
        self._autoreset[:] = False
        infos: dict[str, Any] = {}
        for i, row in enumerate(rows):
            infos = self._add_info(infos, {"conditions": row.copy()}, i)
        return self._obs.copy(), infos

    def step(self, actions: FloatArray) -> tuple[FloatArray, FloatArray, BoolArray, BoolArray, dict[str, Any]]:
        if not self._cohorts:
            raise RuntimeError(f"{self.world}: call reset() before step()")
        acts = core.as_actions(actions, (self.num_envs, self._n_out), self.world)
        n = self.num_envs
        rewards, terminated, truncated = np.zeros(n), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        env_infos: list[dict[str, Any]] = [{} for _ in range(n)]
        restart = np.flatnonzero(self._autoreset)
        for cohort in self._cohorts:
            cohort.live &= ~self._autoreset[cohort.members]
            if not cohort.live.any():
                continue
            rows = np.flatnonzero(cohort.live)
            envs = cohort.members[rows]
            batch = np.zeros((cohort.members.shape[0], self._n_out))  # rows that left idle at 0
            batch[rows] = acts[envs]
            res = core.step_episode(cohort.episode, batch, cohort.progress)
            cohort.progress = res.progress
            rewards[envs], terminated[envs], truncated[envs] = res.reward[rows], res.terminated[rows], res.truncated[rows]
            self._obs[envs] = cohort.episode.inputs[rows]
            for r in rows[(res.terminated | res.truncated)[rows]]:  # only the rows that ended
                env_infos[int(cohort.members[r])] = {"fitness": float(res.fitness[r])}
        self._cohorts = [c for c in self._cohorts if c.live.any()]
        if restart.size:
            for i, row in zip(restart, self._start(restart, None)):
                env_infos[i] = {"conditions": row.copy()}
        infos: dict[str, Any] = {}
        for i, info in enumerate(env_infos):
            if info:  # an empty info adds nothing (as in SyncVectorEnv), so skip the call
                infos = self._add_info(infos, info, i)
        self._autoreset = terminated | truncated
        return self._obs.copy(), rewards, terminated, truncated, infos

    @property
    def cohorts(self) -> int:
        """Episodes currently stepped (1 while every environment started at the same step)."""
        return len(self._cohorts)

    def close_extras(self, **kwargs: Any) -> None:
        self._cohorts = []
