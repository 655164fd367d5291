"""Task ``gymnasium``: a Gymnasium environment run as an evorobot task returns exactly what a plain
Gymnasium loop with the same controller returns, is deterministic alone and in a batch, evolves and
resumes bit for bit, and refuses what it cannot drive in one line."""

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from conftest import ROOT, assert_alone_equals_batch, history

gym = pytest.importorskip("gymnasium")

from evorobot.cli import main
from evorobot.config import load_world
from evorobot.episode import Episode
from evorobot.errors import ConfigError, DependencyNotInstalled, EvorobotError
from evorobot.evolution.backends import make_backend
from evorobot.evolution.runner import evolve, resume
from evorobot.setup import Setup, build
from evorobot.tasks.gymnasium_task import SEED_LIMIT, Gymnasium, GymnasiumSpec

WORLD = ROOT / "worlds" / "gymnasium_cartpole.toml"


def setup_of(*overrides: str) -> Setup:
    return build(load_world(WORLD, list(overrides)))


class Probe(gym.Env):
    """A tiny environment: observation (t, 2t) / 10, reward 0.5 per step; ``nan_at``: the step whose
    observation is NaN."""

    metadata: ClassVar[dict] = {"render_modes": []}

    def __init__(self, action_space=None, nan_at: int = -1) -> None:
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float64)
        self.action_space = action_space if action_space is not None else gym.spaces.Discrete(2)
        self.nan_at, self.t = nan_at, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2), {}

    def step(self, action):
        self.t += 1
        obs = np.array([self.t, 2 * self.t], dtype=np.float64) / 10
        if self.t == self.nan_at:
            obs[1] = np.nan
        return obs, 0.5, False, False, {}


PROBES = {
    "EvorobotTest/Unbounded-v0": ({"action_space": gym.spaces.Box(-np.inf, np.inf, (1,))}, 20),
    "EvorobotTest/MultiBinary-v0": ({"action_space": gym.spaces.MultiBinary(3)}, 20),
    "EvorobotTest/NanObs-v0": ({"nan_at": 3}, 20),
    "EvorobotTest/NoLimit-v0": ({}, None),
}
for _id, (_kw, _limit) in PROBES.items():
    if _id not in gym.registry:
        gym.register(_id, entry_point=lambda _kw=_kw, **kw: Probe(**_kw, **kw), max_episode_steps=_limit,
                     disable_env_checker=True)


def hand_written_returns(setup: Setup, genome: np.ndarray, seeds: np.ndarray) -> list[float]:
    """Plain Gymnasium: make the env, reset with each seed, step it with the controller's outputs
    (argmax for Discrete, [0, 1] onto [low, high] for Box), sum the rewards."""
    ctrl, task = setup.controller, setup.task
    returns = []
    for seed in seeds:
        env = gym.make(task.spec.id)
        obs, _ = env.reset(seed=int(seed))
        params = ctrl.decode(genome[None, :])
        state = ctrl.init_state(params)
        out = np.zeros((1, ctrl.n_outputs))
        ret, over = 0.0, False
        while not over:
            ctrl.step(params, state, np.asarray(obs, dtype=np.float64).reshape(1, -1), setup.experiment.simulation.dt,
                      out)
            space = env.action_space
            if isinstance(space, gym.spaces.Discrete):
                action = int(np.argmax(out[0]))
            else:
                low, high = space.low.astype(np.float64), space.high.astype(np.float64)
                action = (low + np.clip(out[0], 0, 1) * (high - low)).astype(space.dtype)
            obs, reward, terminated, truncated, _ = env.step(action)
            ret += float(reward)
            over = terminated or truncated
        env.close()
        returns.append(ret)
    return returns


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_the_return_equals_a_hand_written_gymnasium_loop_bit_for_bit(env_id: str) -> None:
    setup = setup_of(f'task.id="{env_id}"', "task.trials=3")
    genomes = np.random.default_rng(3).uniform(-1, 1, (2, setup.genome_size))
    cond = setup.task.conditions(np.random.default_rng(4))
    got = Episode(setup, genomes, cond).run()
    for i, genome in enumerate(genomes):
        expected = hand_written_returns(setup, genome, cond[:, 0])
        assert got.fitness[i].tolist() == expected
    assert not got.failed.any()
    assert len(set(got.fitness.ravel().tolist())) > 1  # different seeds and genomes, different returns


def test_trials_are_reset_seeds_and_alone_equals_batch() -> None:
    setup = setup_of("task.trials=4")
    task = setup.task
    a = task.conditions(np.random.default_rng(9))
    assert a.shape == (4, 1) and np.all(a == np.floor(a)) and np.all((a >= 0) & (a < SEED_LIMIT))
    np.testing.assert_array_equal(a, task.conditions(np.random.default_rng(9)))
    assert not np.array_equal(a, task.conditions(np.random.default_rng(10)))
    genomes = np.random.default_rng(0).uniform(-1, 1, (3, setup.genome_size))
    assert_alone_equals_batch(setup, genomes, a)
    # the same seed twice is the same episode: a trial depends on its row only
    twice = Episode(setup, genomes[:1], np.vstack([a[:1], a[:1]])).run().fitness[0]
    assert twice[0] == twice[1]


SMALL = ["task.trials=2", "task.max_steps=60", "optimizer.population=6", "evolution.chunk_size=4",
         "evolution.validation_trials=0"]


def test_two_workers_and_a_resumed_run_equal_the_straight_run(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    straight = tmp_path / "straight"
    evolve(load_world(WORLD, [*SMALL, "evolution.generations=4"]), straight, stream=None)
    backend = make_backend(workers=2)
    try:
        evolve(load_world(WORLD, [*SMALL, "evolution.generations=4"]), tmp_path / "two", stream=None, backend=backend)
    finally:
        backend.close()
    assert history(tmp_path / "two") == history(straight)
    assert (tmp_path / "two" / "champion.json").read_bytes() == (straight / "champion.json").read_bytes()
    half = tmp_path / "half"
    evolve(load_world(WORLD, [*SMALL, "evolution.generations=2"]), half, stream=None)
    resume(half, overrides=["evolution.generations=4"], stream=None)
    assert history(half) == history(straight) and len(history(straight)) == 4
    a, b = (json.loads((d / "champion.json").read_text()) for d in (half, straight))
    assert {k: a[k] for k in ("genome", "trials", "fitness", "generation")} == \
        {k: b[k] for k in ("genome", "trials", "fitness", "generation")}
    assert main(["replay", str(straight / "champion.json"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["matches_stored"] is True and doc["trials"] == b["trials"]
    gym = pytest.importorskip("gymnasium")  # the environment's dynamics are gymnasium's: its version is recorded
    assert json.loads((straight / "manifest.json").read_text())["gymnasium"] == gym.__version__


def one_line_error(capsys: pytest.CaptureFixture[str], *sets: str) -> str:
    args = ["replay", str(WORLD)]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("evorobot: error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_an_unknown_id_is_one_line_listing_close_matches(capsys: pytest.CaptureFixture[str]) -> None:
    err = one_line_error(capsys, 'task.id="CartPole-v9"')
    assert "gymnasium_cartpole.toml [task]" in err and '`id` = "CartPole-v9"' in err
    assert "`CartPole-v1`" in err and "`CartPole-v0`" in err


@pytest.mark.parametrize("env_id, fragment", [("EvorobotTest/Unbounded-v0", "unbounded Box action space"),
                                              ("EvorobotTest/MultiBinary-v0", "Discrete or bounded Box"),
                                              ("EvorobotTest/NoLimit-v0", "give `max_steps`")])
def test_what_the_task_cannot_drive_is_refused_in_one_line(env_id: str, fragment: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    err = one_line_error(capsys, f'task.id="{env_id}"')
    assert f'`id` = "{env_id}"' in err and fragment in err


def test_a_bounded_box_maps_outputs_onto_its_range_and_a_time_limit_ends_trials() -> None:
    task = setup_of('task.id="Pendulum-v1"').task
    assert task.interface.outputs == ("action0",) and task.interface.inputs == ("obs0", "obs1", "obs2")
    acts = task.actions(np.array([[0.0], [1.0], [0.5], [0.75], [-3.0], [7.0]]))
    assert [float(a[0]) for a in acts] == [-2.0, 2.0, 0.0, 1.0, -2.0, 2.0]
    assert all(a.dtype == np.float32 and a.shape == (1,) for a in acts)
    # an environment with no time limit of its own runs with the task's
    limited = setup_of('task.id="EvorobotTest/NoLimit-v0"', "task.max_steps=7", "task.trials=2")
    res = Episode(limited, np.zeros((1, limited.genome_size)), np.array([[1.0], [2.0]])).run()
    assert res.steps == 7 and res.fitness.tolist() == [[3.5, 3.5]] and not res.failed.any()


def test_a_nan_observation_or_output_fails_the_trial_with_the_worst_fitness() -> None:
    setup = setup_of('task.id="EvorobotTest/NanObs-v0"', "task.trials=2")
    res = Episode(setup, np.zeros((1, setup.genome_size)), np.array([[1.0], [2.0]])).run()
    assert res.fitness.tolist() == [[-math.inf, -math.inf]] and res.failed.all() and res.steps == 3
    task = setup.task
    state, scores = task.new_state(np.array([[1.0], [2.0]])), task.new_scores(2)
    task.advance(state, np.array([[np.nan, 0.0], [0.0, 1.0]]), 0, scores)
    assert scores.failed.tolist() == [True, False] and state.envs[0] is None and state.envs[1] is not None
    assert scores.values[:, 0].tolist() == [0.0, 0.5]
    assert task.fitness(scores, np.zeros((2, 1))).tolist() == [-math.inf, 0.5]


def test_without_gymnasium_the_task_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gymnasium", None)
    with pytest.raises(DependencyNotInstalled) as info:
        Gymnasium(GymnasiumSpec(id="CartPole-v1"), None, 0.02, "w.toml [task]")
    assert str(info.value) == ("w.toml [task]: task type \"gymnasium\" needs the gym extra: "
                               "pip install 'evorobot[gym]'")
    assert isinstance(info.value, EvorobotError)


def test_importing_evorobot_s_tasks_does_not_import_gymnasium() -> None:
    code = "import sys, evorobot.tasks; print('gymnasium' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_shipped_world_loads_and_builds() -> None:
    setup = build(load_world(WORLD))
    task = setup.task
    assert isinstance(task, Gymnasium) and setup.experiment.agent is None
    assert task.spec.id == "CartPole-v1" and task.max_steps == 500 == gym.spec("CartPole-v1").max_episode_steps
    assert task.interface.inputs == ("obs0", "obs1", "obs2", "obs3")
    assert task.interface.outputs == ("action0", "action1")
    assert (setup.controller.n_inputs, setup.controller.n_outputs) == (4, 2)
    with pytest.raises(ConfigError, match="trials"):
        load_world(WORLD, ["task.trials=0"])


def test_list_prints_the_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "task", "gymnasium"]) == 0
    out = capsys.readouterr().out
    rows = {line.split("=")[0].strip(): line for line in out.splitlines() if "=" in line and not line.startswith("[")}
    assert set(rows) == {"id", "trials", "max_steps", "obs_scale"}
    assert "(required)" in rows["id"] and ">= 1" in rows["trials"]
