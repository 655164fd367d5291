"""evorobot's tasks as Gymnasium and PettingZoo environments (evorobot.gym)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")

import evorobot.gym as eg
from evorobot.config import SHIPPED_WORLDS
from evorobot.episode import evaluate_individuals
from evorobot.seeding import conditions_rng
from evorobot.setup import load_setup


@pytest.mark.parametrize("task_type", sorted(eg.ENV_IDS))
def test_check_env_passes_with_no_warning(task_type: str) -> None:
    from gymnasium.utils.env_checker import check_env

    env = gymnasium.make(eg.ENV_IDS[task_type])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        check_env(env.unwrapped, skip_render_check=True)


def test_every_single_agent_task_type_is_registered() -> None:
    from evorobot.tasks import TASKS

    single = {name for name in TASKS if name not in eg.TEAM_WORLDS and name != "gymnasium"}
    assert set(eg.ENV_IDS) == single
    assert eg.ENV_IDS["phototaxis"] == "evorobot/Phototaxis-v2"
    for task_type, world in eg.SINGLE_AGENT_WORLDS.items():  # each default world holds its task
        assert load_setup(SHIPPED_WORLDS / world).task.name == task_type


@pytest.mark.parametrize("env_id", ["evorobot/CategoricalPerception-v1", "evorobot/Phototaxis-v2",
                                    "evorobot/CartPole-v1", "evorobot/Tomita-v1"])
def test_reset_with_a_seed_twice_gives_the_same_first_100_steps(env_id: str) -> None:
    env = gymnasium.make(env_id)
    actions = np.random.default_rng(5).uniform(0, 1, (100, env.action_space.shape[0]))

    def rollout(seed: int) -> list[np.ndarray]:
        obs, info = env.reset(seed=seed)
        rows = [np.concatenate([obs, info["conditions"]])]
        for a in actions:
            obs, reward, term, trunc, _ = env.step(a)
            rows.append(np.concatenate([obs, [reward, term, trunc]]))
            if term or trunc:
                obs, _ = env.reset()
        return rows

    first, second, other = rollout(11), rollout(11), rollout(12)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize("world", ["categorical_perception.toml", "phototaxis.toml", "cartpole.toml",
                                   "vision_small_target.toml"])
def test_a_network_driven_through_the_environment_scores_its_evolution_fitness_bit_for_bit(world: str) -> None:
    """The world's own controller, stepped by hand on the environment's observations, against the
    episode evolution runs: the trial's fitness alone, to the bit (in a batch, trial k sits at
    x = 2000 k of its Space, which moves the last bits), and the return adds up to it."""
    setup = load_setup(SHIPPED_WORLDS / world)
    genome = np.random.default_rng(3).uniform(-1, 1, setup.genome_size)
    genome[setup.controller.genome_size:] = 0.0  # the environment's camera fields sit at their zero genes
    conditions = setup.task.conditions(conditions_rng(setup.experiment.experiment.seed, 0))[:3]
    batch = evaluate_individuals(setup, genome[None, :], conditions).fitness[0]
    expected = [evaluate_individuals(setup, genome[None, :], row[None, :]).fitness[0, 0] for row in conditions]
    assert np.allclose(expected, batch, rtol=0, atol=1e-12)
    env = gymnasium.make(f"evorobot/{type(setup.task).__name__}-v{setup.task.version}")
    ctrl = setup.controller
    params = ctrl.decode(genome[None, : ctrl.genome_size])
    for k, row in enumerate(conditions):
        obs, _ = env.reset(options={"conditions": row})
        state, out = ctrl.init_state(params), np.zeros((1, env.action_space.shape[0]))
        total, done, info = 0.0, False, {}
        while not done:
            ctrl.step(params, state, obs[None, :], setup.experiment.simulation.dt, out)
            obs, reward, term, trunc, info = env.step(out[0])
            total += reward
            done = term or trunc
        assert info["fitness"] == expected[k]
        assert total == pytest.approx(expected[k], abs=1e-9)


def test_trial_option_takes_the_world_file_s_own_trial() -> None:
    env = gymnasium.make("evorobot/CategoricalPerception-v1")
    setup = load_setup(SHIPPED_WORLDS / "categorical_perception.toml")
    rows = setup.task.conditions(conditions_rng(setup.experiment.experiment.seed, 0))
    _, info = env.reset(options={"trial": 5})
    assert np.array_equal(info["conditions"], rows[5])
    with pytest.raises(Exception, match=r"options\['trial'\] must be an integer in \[0, "):
        env.reset(options={"trial": rows.shape[0]})


@pytest.mark.parametrize("env_id,steps", [("evorobot/CartPole-v1", 700), ("evorobot/CategoricalPerception-v1", 900),
                                          ("evorobot/Phototaxis-v2", 400)])
def test_vector_env_equals_sync_vector_env_bit_for_bit(env_id: str, steps: int) -> None:
    """Including autoresets at different steps (a pole that falls) and the infos."""
    n = 5
    vec = gymnasium.make_vec(env_id, num_envs=n)
    assert type(vec).__name__ == "EvorobotVectorEnv"
    sync = gymnasium.vector.SyncVectorEnv([lambda: gymnasium.make(env_id) for _ in range(n)])
    o1, i1 = vec.reset(seed=3)
    o2, i2 = sync.reset(seed=3)
    assert np.array_equal(o1, o2) and np.array_equal(i1["conditions"], i2["conditions"])
    rng = np.random.default_rng(0)
    ends, cohorts = 0, set()
    for _ in range(steps):
        a = rng.uniform(0, 1, (n, vec.single_action_space.shape[0]))
        got, want = vec.step(a), sync.step(a)
        for x, y in zip(got[:4], want[:4]):
            assert np.array_equal(x, y)
        assert got[4].keys() == want[4].keys()
        assert all(np.array_equal(got[4][k], want[4][k]) for k in got[4])
        ends += int(got[2].sum() + got[3].sum())
        cohorts.add(vec.cohorts)
    assert ends >= n  # every environment finished at least one trial and was reset
    if "CartPole" in env_id:
        assert max(cohorts) > 1  # trials that end at different steps


@pytest.mark.parametrize("world,robots", [("coordinated_movement.toml", 2), ("coordinated_movement_3.toml", 3)])
def test_team_tasks_pass_pettingzoo_s_parallel_api_test(world: str, robots: int) -> None:
    pytest.importorskip("pettingzoo")
    from pettingzoo.test import parallel_api_test

    from evorobot.gym.team import parallel_env

    env = parallel_env(SHIPPED_WORLDS / world)
    assert env.possible_agents == [f"robot_{k}" for k in range(robots)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(env, num_cycles=1000)


def test_team_env_reproduces_the_clonal_team_s_fitness() -> None:
    pytest.importorskip("pettingzoo")
    from evorobot.gym.team import parallel_env

    world = SHIPPED_WORLDS / "coordinated_movement_3.toml"
    setup = load_setup(world)
    genome = np.random.default_rng(4).uniform(-1, 1, setup.genome_size)
    row = setup.task.conditions(conditions_rng(setup.experiment.experiment.seed, 0))[:1]
    expected = evaluate_individuals(setup, genome[None, :], row).fitness[0, 0]
    env = parallel_env(world)
    obs, _ = env.reset(options={"conditions": row[0]})
    ctrl = setup.controller
    params = ctrl.decode(np.repeat(genome[None, :], 3, axis=0))
    state, out = ctrl.init_state(params), np.zeros((3, 2))
    info: dict = {}
    while env.agents:
        ctrl.step(params, state, np.stack([obs[a] for a in env.possible_agents]), setup.experiment.simulation.dt, out)
        obs, _rewards, _, _, infos = env.step({a: out[k] for k, a in enumerate(env.possible_agents)})
        info = infos["robot_0"]
    assert info["fitness"] == expected


def test_rgb_array_frames_show_the_trial_moving() -> None:
    env = gymnasium.make("evorobot/Phototaxis-v2", render_mode="rgb_array")
    env.reset(seed=1)
    first = env.render()
    for _ in range(20):
        env.step(np.array([1.0, 0.8]))
    later = env.render()
    assert first.shape == later.shape and first.shape[2] == 3 and first.dtype == np.uint8
    assert len(np.unique(first.reshape(-1, 3), axis=0)) > 5  # a drawn world, not a blank frame
    assert not np.array_equal(first, later)
    env.close()


def test_environment_errors_name_the_world_and_value() -> None:
    env = gymnasium.make("evorobot/Phototaxis-v2")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"phototaxis.toml: an action has 2 motor commands"):
        env.step(np.zeros(3))
    with pytest.raises(Exception, match=r"options\['conditions'\] must be"):
        env.reset(options={"conditions": [1.0]})
    with pytest.raises(ValueError, match="render_mode must be one of"):
        gymnasium.make("evorobot/Phototaxis-v2", render_mode="ansi")
    with pytest.raises(Exception, match="team of 2 robots; use the PettingZoo environment"):
        gymnasium.make("evorobot/Phototaxis-v2", world=SHIPPED_WORLDS / "coordinated_movement.toml")


def test_without_the_gym_extra_the_import_names_it(tmp_path) -> None:
    import subprocess
    import sys

    code = "import sys; sys.modules['gymnasium'] = None\nimport evorobot.gym"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "evorobot.gym needs the gym extra: pip install 'evorobot[gym]'" in out.stderr.splitlines()[-1]


def test_check_env_with_its_render_checks_for_both_render_modes(monkeypatch: pytest.MonkeyPatch) -> None:
    """rgb_array and human (a window under SDL's dummy driver), as Gymnasium's checker drives them."""
    from gymnasium.utils.env_checker import check_env

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    env = gymnasium.make("evorobot/Phototaxis-v2", render_mode="human")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    assert env.unwrapped.metadata["render_fps"] == 10  # real time: dt = 0.1 s
    env.close()
