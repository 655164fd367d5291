"""Pole balancing physics against things that are true: Gymnasium's own CartPole-v1, a first
Runge-Kutta step derived by hand from the Lagrangian, energy conservation without friction, and
the benchmark's generalisation grid."""

import math
import tomllib

import numpy as np
import pytest
from conftest import ROOT

from evorobot.config import experiment_from_dict
from evorobot.episode import Episode
from evorobot.errors import ConfigError
from evorobot.setup import build
from evorobot.tasks.cartpole import CartPole, CartPoleSpec, cartpole_step
from evorobot.tasks.double_pole import DoublePole, DoublePoleSpec, energy, rk4_step


def double_pole(**kw: object) -> DoublePole:
    return DoublePole(DoublePoleSpec(**kw), None, 0.02, "test")  # type: ignore[arg-type]


def lagrange_derivatives(s: np.ndarray, force: float, g: float = 9.8, big_m: float = 1.0,
                         m: tuple[float, float] = (0.1, 0.01), ll: tuple[float, float] = (0.5, 0.05),
                         mu_c: float = 5e-4, mu_p: float = 2e-6) -> np.ndarray:
    """ds/dt of two uniform rods (half-lengths l_i) on a cart, from the Euler-Lagrange equations
    solved as one linear system for (xddot, thetaddot_1, thetaddot_2): independent of Wieland's
    effective-mass form that the task implements.

    T = 1/2 M xd^2 + sum_i [1/2 m_i xd^2 + m_i l_i xd thd_i cos th_i + 2/3 m_i l_i^2 thd_i^2],
    V = sum_i m_i g l_i cos th_i; generalized forces F - mu_c sgn(xd) and -mu_p thd_i.
    """
    _, xd, t1, t1d, t2, t2d = s
    th, thd = (t1, t2), (t1d, t2d)
    a = np.zeros((3, 3))
    b = np.zeros(3)
    a[0, 0] = big_m + sum(m)
    b[0] = force - mu_c * np.sign(xd)
    for i in range(2):
        c, sn = math.cos(th[i]), math.sin(th[i])
        a[0, i + 1] = m[i] * ll[i] * c
        b[0] += m[i] * ll[i] * thd[i] ** 2 * sn
        a[i + 1, 0] = m[i] * ll[i] * c
        a[i + 1, i + 1] = 4.0 / 3.0 * m[i] * ll[i] ** 2
        b[i + 1] = m[i] * g * ll[i] * sn - mu_p * thd[i]
    xdd, t1dd, t2dd = np.linalg.solve(a, b)
    return np.array([xd, xdd, t1d, t1dd, t2d, t2dd])


def test_double_pole_first_rk4_step_equals_the_hand_derived_value() -> None:
    task = double_pole()
    s0 = np.array([0.1, -0.2, math.radians(4.5), 0.3, -0.02, 0.1])
    force, h = 3.7, 0.01
    k1 = lagrange_derivatives(s0, force)
    k2 = lagrange_derivatives(s0 + h / 2 * k1, force)
    k3 = lagrange_derivatives(s0 + h / 2 * k2, force)
    k4 = lagrange_derivatives(s0 + h * k3, force)
    expected = s0 + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    got = s0.copy()
    rk4_step(got, force, task.params, h, np.empty((5, 6)))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert np.max(np.abs(got - s0)) > 1e-4  # the step moved the state


def test_double_pole_conserves_energy_without_friction_and_force_until_failure() -> None:
    task = double_pole(cart_friction=0.0, pole_friction=0.0)
    s = np.array([0.0, 0.3, math.radians(4.5), 0.0, math.radians(-2.0), 0.5])
    e0 = energy(s, task.params)
    k = np.empty((5, 6))
    steps, worst = 0, 0.0
    while abs(s[2]) <= math.radians(36) and abs(s[4]) <= math.radians(36) and abs(s[0]) <= 2.4:
        rk4_step(s, 0.0, task.params, 0.01, k)
        worst = max(worst, abs(energy(s, task.params) - e0) / abs(e0))
        steps += 1
    assert steps > 20  # the poles fell, after a while
    assert worst < 1e-6
    # and friction does dissipate energy: the same start with the benchmark's friction loses some
    rub = double_pole(cart_friction=0.5, pole_friction=0.0)
    s = np.array([0.0, 0.3, 0.0, 0.0, 0.0, 0.0])
    for _ in range(20):
        rk4_step(s, 0.0, rub.params, 0.01, k)
    assert energy(s, rub.params) < energy(np.array([0.0, 0.3, 0, 0, 0, 0]), rub.params) - 1e-4


def test_cartpole_reproduces_gymnasium_for_500_steps_of_a_fixed_action_sequence() -> None:
    gym = pytest.importorskip("gymnasium")
    env = gym.make("CartPole-v1").unwrapped
    env.reset(seed=3)
    start = np.array(env.state, dtype=np.float64)
    actions = np.random.default_rng(7).integers(0, 2, size=500)
    task = CartPole(CartPoleSpec(), None, 0.02, "test")
    s = start.copy()
    worst = 0.0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Gymnasium warns about stepping past termination
        for a in actions:
            env.step(int(a))
            cartpole_step(s, bool(a == 1), task.params)
            worst = max(worst, float(np.max(np.abs(s - np.asarray(env.state)))))
    assert worst <= 1e-12
    env.close()


def test_cartpole_episode_counts_gymnasium_s_return() -> None:
    """Driven through the task's own advance kernel, a trial ends on the step Gymnasium terminates
    and scores Gymnasium's return (reward 1 per step, the terminating one included)."""
    gym = pytest.importorskip("gymnasium")
    env = gym.make("CartPole-v1")
    env.reset(seed=11)
    task = CartPole(CartPoleSpec(trials=1), None, 0.02, "test")
    state = task.new_state(np.array([env.unwrapped.state], dtype=np.float64))
    scores = task.new_scores(1)
    out = np.zeros((1, 1))
    ret, step = 0.0, 0
    while True:
        action = step % 3 == 0  # a poor fixed policy: push right every third step
        _, r, term, trunc, _ = env.step(int(action))
        ret += r
        out[0, 0] = 1.0 if action else 0.0
        task.advance(state, out, step, scores)
        step += 1
        assert bool(scores.done[0]) == (term or trunc)
        if term or trunc:
            break
    assert task.fitness(scores, np.zeros((1, 4)))[0] == ret
    env.close()


def test_generalisation_grid_is_gomez_et_al_s_625_starts() -> None:
    task = double_pole()
    rows = task.held_out_conditions()
    assert rows is not None and rows.shape == (625, 7)
    np.testing.assert_allclose(np.unique(rows[:, 0]), [-1.944, -1.08, 0.0, 1.08, 1.944])
    np.testing.assert_allclose(np.unique(rows[:, 3]), np.radians([-7.74, -4.3, 0.0, 4.3, 7.74]))
    assert np.all(rows[:, 4:6] == 0) and np.all(rows[:, 6] == 1000)
    assert len({tuple(r) for r in rows}) == 625


def test_damping_fitness_follows_gruau_s_formula() -> None:
    """Unpushed and frictionless, a cart sliding under upright poles runs off the track after
    ~950 steps; the fitness is 0.1 t / 1000 + 0.9 * 0.75 / (motion of the last 100 steps), recomputed here from a
    plain re-integration."""
    task = DoublePole(DoublePoleSpec(velocities=False, fitness="damping", steps=1000,
                                     start=(0.5, 0.1, 0.0, 0.0, 0.0, 0.0), cart_friction=0.0), None, 0.02, "t")
    cond = task.conditions(np.random.default_rng(0))
    state, scores = task.new_state(cond), task.new_scores(1)
    out = np.full((1, 1), 0.5)  # no force: the poles fall by themselves
    s = cond[0, :6].copy()
    k = np.empty((5, 6))
    motion = []
    for step in range(1000):
        task.advance(state, out, step, scores)
        rk4_step(s, 0.0, task.params, 0.01, k)
        rk4_step(s, 0.0, task.params, 0.01, k)
        if abs(s[0]) > 2.4 or abs(s[2]) > math.radians(36) or abs(s[4]) > math.radians(36):
            break
        motion.append(abs(s[0]) + abs(s[1]) + abs(s[2]) + abs(s[3]))
    assert scores.done[0]
    t = len(motion)
    assert scores.values[0, 0] == t and 100 <= t < 1000
    expected = 0.1 * t / 1000 + 0.9 * 0.75 / math.fsum(motion[-100:])
    assert task.fitness(scores, cond)[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("world", ["double_pole.toml", "double_pole_nv.toml", "cartpole.toml"])
def test_a_random_network_rarely_balances_and_replays_identically(world: str) -> None:
    raw = tomllib.loads((ROOT / "worlds" / world).read_text())
    raw["task"]["steps"] = min(raw["task"].get("steps", 500), 1000)
    setup = build(experiment_from_dict(raw, world))
    genomes = np.random.default_rng(0).uniform(-1, 1, (8, setup.genome_size))
    cond = setup.task.conditions(np.random.default_rng(1))
    first = Episode(setup, genomes, cond).run()
    again = Episode(setup, genomes, cond).run()
    np.testing.assert_array_equal(first.fitness, again.fitness)
    assert not first.failed.any()
    assert first.fitness.min() < raw["task"]["steps"] / 2  # most random networks drop the poles


def test_double_pole_rejects_inconsistent_settings() -> None:
    with pytest.raises(ConfigError, match="dt"):
        DoublePole(DoublePoleSpec(), None, 0.01, "w.toml [task]")
    with pytest.raises(ConfigError, match="pole_mass"):
        DoublePole(DoublePoleSpec(pole_mass=(0.1,)), None, 0.02, "w.toml [task]")
    with pytest.raises(ConfigError, match="damping"):
        DoublePole(DoublePoleSpec(fitness="damping", steps=50), None, 0.02, "w.toml [task]")


def test_the_solution_test_runs_its_100000_steps_in_an_episode() -> None:
    """A trial ends at the step count of its conditions row, not at the evaluation's length: an
    uncontrolled but perfectly balanced plant (upright, at rest, no force) lasts all 100,000."""
    task = DoublePole(DoublePoleSpec(velocities=False, fitness="damping", steps=1000,
                                     start=(0.0,) * 6), None, 0.02, "t")
    raw = tomllib.loads((ROOT / "worlds" / "double_pole_nv.toml").read_text())
    raw["task"]["start"] = [0.0] * 6
    setup = build(experiment_from_dict(raw, "nv"))
    genome = np.zeros((1, setup.genome_size))  # every weight and bias 0: output 0.5, no force
    ep = Episode(setup, genome, task.solution_test())
    ep.run()
    assert ep.step_count == 100_000 and ep.scores.values[0, 0] == 100_000
