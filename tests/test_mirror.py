"""Mirror exactness (issue 21): with ``[simulation] mirror_exact`` a symmetric genome's trial and its
mirror image (object at -o for +o) compute mirrored values bit for bit; every piece is an option,
off by default (the default bits are pinned by tests/test_exactness.py's digest and the C reference)."""

import math

import numpy as np
import pytest

from evorobot.config import experiment_from_dict, load_world
from evorobot.controllers._ctrnn_kernels import KERNELS
from evorobot.controllers._ctrnn_paired import PAIRED, mirror_pairs
from evorobot.episode import Episode
from evorobot.errors import ConfigError
from evorobot.seeding import conditions_rng
from evorobot.setup import build
from evorobot.sim import rays
from evorobot.tasks.falling import grid, skip_grid

from conftest import CP_WORLD, ROOT, assert_alone_equals_batch

CIRCLE_LINE = ROOT / "worlds" / "circle_line.toml"
SIZES = ROOT / "worlds" / "size_categorisation.toml"
IZQUIERDO = ROOT / "worlds" / "categorical_perception_izquierdo.toml"
ON = ["simulation.mirror_exact=true"]
# every piece of mirror_exact but one (each is needed: dropping it breaks exactness somewhere)
PIECES = {"placement": "simulation.placement=\"per_trial\"", "axes": "agent.eye.exact_axes=true",
          "edges": "agent.eye.midpoint_edges=true", "sums": "controller.paired_sums=true",
          "offsets": "task.mirrored_offsets=true"}


# -- the trial grid ----------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 26))
@pytest.mark.parametrize("skip", [0.0, 2.0])
def test_mirrored_grid_is_exactly_antisymmetric(n, skip):
    if skip and n % 2:
        return
    g = skip_grid(n, -50.0, 50.0, 0.0, skip, mirrored=True)
    plain = skip_grid(n, -50.0, 50.0, 0.0, skip)
    assert np.array_equal(g, -g[::-1])
    assert np.array_equal(g[n - n // 2:], plain[n - n // 2:])  # the upper half is the plain grid's, bit for bit
    assert np.allclose(g, plain, rtol=0, atol=1e-12)


def test_plain_linspace_is_not_antisymmetric():
    g = grid(12, -50.0, 50.0)  # what the default grid is, and why mirrored_offsets exists
    assert not np.array_equal(g, -g[::-1])


def test_mirrored_offsets_needs_a_symmetric_range():
    with pytest.raises(ConfigError, match=r"\[task\]: `mirrored_offsets` needs `offset_range` symmetric"):
        load_world(IZQUIERDO, ["task.mirrored_offsets=true"])


# -- the network: mirror-paired sums -----------------------------------------------------------


def test_mirror_pairs_orders():
    assert mirror_pairs(np.arange(7)[::-1], True).tolist() == [[3, -1], [0, 6], [1, 5], [2, 4]]
    assert mirror_pairs(np.arange(6)[::-1], True).tolist() == [[0, 5], [1, 4], [2, 3]]
    nm = [4, 3, 2, 1, 0, 6, 5]  # a group of 5 reversed, a group of 2 reversed
    assert mirror_pairs(nm, False).tolist() == [[0, 4], [1, 3], [2, -1], [5, 6]]


def _paired(terms, pairs):
    """The paired sum in plain Python floats, in the documented order."""
    return _continue(0.0, terms, pairs)


def _reference_step(kind, p, y, o, x, dt, in_pairs, rec_pairs):
    """One step of integrator ``kind`` of one network, Python floats, sums in mirror pairs."""
    tau, bias, gain, w, w_in = p
    n = len(y)

    def sigma(v):
        return [1.0 / (1.0 + math.exp(-gain[i] * (v[i] + bias[i]))) for i in range(n)]

    def ext(i):
        return _paired([w_in[i][k] * x[k] for k in range(len(x))], in_pairs)

    def drive(i, outs):  # the input part, then the recurrent part continuing the same sum
        return _continue(ext(i), [w[i][j] * outs[j] for j in range(n)], rec_pairs)

    if kind == "euler":
        y = [y[i] + dt / tau[i] * (drive(i, o) - y[i]) for i in range(n)]
    elif kind == "exp_euler":
        y = [drive(i, o) + (y[i] - drive(i, o)) * math.exp(-dt / tau[i]) for i in range(n)]
    else:
        rt = [1.0 / tau[i] for i in range(n)]
        k = [(drive(i, o) - y[i]) * rt[i] for i in range(n)]
        ksum, ys = list(k), [y[i] + 0.5 * dt * k[i] for i in range(n)]
        for stage in range(3):
            os_ = sigma(ys)
            k = [(drive(i, os_) - ys[i]) * rt[i] for i in range(n)]
            for i in range(n):
                if stage < 2:
                    ksum[i] += 2.0 * k[i]
                    ys[i] = y[i] + (0.5 * dt if stage == 0 else dt) * k[i]
                else:
                    ksum[i] += k[i]
        y = [y[i] + dt / 6.0 * ksum[i] for i in range(n)]
    return y, sigma(y)


def _continue(s, terms, pairs):
    """``s`` plus the paired sum of ``terms``, pair after pair (the recurrent part after the input part)."""
    for j, m in pairs:
        s = s + (terms[j] + terms[m] if m >= 0 else terms[j])
    return s


def _ctrnn(*sets):
    return build(load_world(CP_WORLD, list(sets))).controller


@pytest.mark.parametrize("kind", ["euler", "exp_euler", "rk4"])
def test_paired_kernel_equals_a_python_loop_in_that_order(kind):
    net = _ctrnn("controller.paired_sums=true", f'controller.integrator="{kind}"')
    rng = np.random.default_rng(7)
    genomes = rng.uniform(-1, 1, (5, net.genome_size))
    params = net.decode(genomes)
    state = net.init_state(params)
    in_pairs, rec_pairs = net._pairs
    ys = [list(state.y[b]) for b in range(5)]
    os_ = [list(state.o[b]) for b in range(5)]
    out = np.empty((5, 2))
    for _ in range(20):
        x = rng.uniform(0, 10, (5, net.n_inputs))
        net.step(params, state, x, 0.1, out)
        for b in range(5):
            p = [params.tau[b], params.bias[b], params.gain[b], params.w[b], params.w_in[b]]
            p = [a.tolist() for a in p]
            ys[b], os_[b] = _reference_step(kind, p, ys[b], os_[b], x[b].tolist(), 0.1,
                                            in_pairs.tolist(), rec_pairs.tolist())
        assert np.array_equal(state.y, np.array(ys)) and np.array_equal(state.o, np.array(os_))
        assert np.array_equal(out, state.o[:, 5:7])


@pytest.mark.parametrize("kind", ["euler", "exp_euler", "rk4"])
def test_paired_kernel_gives_the_same_bits_in_every_layout(kind):
    net = _ctrnn("controller.paired_sums=true", f'controller.integrator="{kind}"')
    rng = np.random.default_rng(8)
    params = net.decode(rng.uniform(-1, 1, (6, net.genome_size)))  # batch-minor (F-contiguous)
    plain = type(params)(*(np.ascontiguousarray(a) for a in params))  # target-major C arrays
    a, b = net.init_state(params), net.init_state(plain)
    b = type(b)(np.ascontiguousarray(b.y), np.ascontiguousarray(b.o))
    assert a.y.flags.f_contiguous and not b.y.flags.f_contiguous
    oa, ob = np.empty((6, 2)), np.empty((6, 2))
    for _ in range(30):
        x = rng.uniform(0, 10, (6, net.n_inputs))
        net.step(params, a, x, 0.1, oa)
        net.step(plain, b, x, 0.1, ob)
        assert np.array_equal(a.y, b.y) and np.array_equal(oa, ob)


def _mirror_run(net, seed, steps=60):
    """Step a batch and its mirror image (inputs reversed); return (states, mirrored states re-indexed)."""
    rng = np.random.default_rng(seed)
    params = net.decode(rng.uniform(-1, 1, (8, net.genome_size)))
    a, b = net.init_state(params), net.init_state(params)
    oa, ob = np.empty((8, 2)), np.empty((8, 2))
    nm = np.concatenate([np.arange(5)[::-1], 5 + np.arange(2)[::-1]])
    same = True
    for _ in range(steps):
        x = rng.uniform(0, 10, (8, net.n_inputs))
        net.step(params, a, x, 0.1, oa)
        net.step(params, b, np.ascontiguousarray(x[:, ::-1]), 0.1, ob)
        same &= np.array_equal(a.y, b.y[:, nm]) and np.array_equal(oa, ob[:, ::-1])
    return same


@pytest.mark.parametrize("kind", ["euler", "exp_euler", "rk4"])
def test_paired_sums_make_the_network_mirror_exact(kind):
    paired = _ctrnn("controller.paired_sums=true", f'controller.integrator="{kind}"')
    assert all(_mirror_run(paired, seed) for seed in range(4))
    plain = _ctrnn(f'controller.integrator="{kind}"')  # the default order: mirrored only to rounding
    assert not all(_mirror_run(plain, seed) for seed in range(4))


def test_paired_sums_need_a_symmetric_genome():
    with pytest.raises(ConfigError, match=r"categorical_perception\.toml \[controller\]: `paired_sums` needs "
                                          r"symmetric = true"):
        _ctrnn("controller.paired_sums=true", "controller.symmetric=false")


def test_default_kernels_are_untouched_by_the_option():
    assert _ctrnn()._kernel is KERNELS["euler"]
    assert _ctrnn("controller.paired_sums=true")._kernel is PAIRED["euler"]


# -- the eye: the midpoint edge test -----------------------------------------------------------


def _random_rays_and_edges(rng, n):
    o = rng.uniform(-100, 100, (n, 2))
    ang = rng.uniform(0, 2 * np.pi, n)
    u = np.stack([np.cos(ang), np.sin(ang)], axis=1)
    a = rng.uniform(-100, 100, (n, 2))
    q = rng.uniform(-100, 100, (n, 2))
    return o, u, a, q


def test_midpoint_edge_test_agrees_with_the_default():
    rng = np.random.default_rng(1)
    o, u, a, q = _random_rays_and_edges(rng, 20000)
    hits = 0
    for k in range(len(o)):
        args = (*o[k], *u[k], *a[k], *q[k])
        t0, t1 = rays._edge_hit(*args), rays._edge_hit_mid(*args)
        # where the ray passes within 1e-9 of an end the two may disagree on hit or miss
        e = q[k] - a[k]
        den = u[k, 0] * e[1] - u[k, 1] * e[0]
        s = ((a[k, 0] - o[k, 0]) * u[k, 1] - (a[k, 1] - o[k, 1]) * u[k, 0]) / den if den else 0.5
        if min(abs(s), abs(s - 1.0)) < 1e-9:
            continue
        if math.isinf(t0):
            assert math.isinf(t1)
        else:
            hits += 1
            assert abs(t1 - t0) <= 1e-12 * max(1.0, t0)
    assert hits > 2000


def _mirror(v):
    return -v[0], v[1]


def test_midpoint_edge_test_is_exactly_mirror_invariant():
    rng = np.random.default_rng(2)
    o, u, a, q = _random_rays_and_edges(rng, 20000)
    hits = default_differs = 0
    for k in range(len(o)):
        args = (*o[k], *u[k], *a[k], *q[k])
        # the mirror image: ray (M o, M u), edge traversed M(q) -> M(a) (a mirrored polygon's winding)
        mirrored = (*_mirror(o[k]), *_mirror(u[k]), *_mirror(q[k]), *_mirror(a[k]))
        t, tm = rays._edge_hit_mid(*args), rays._edge_hit_mid(*mirrored)
        assert t == tm or (math.isinf(t) and math.isinf(tm))
        hits += not math.isinf(t)
        d0, d1 = rays._edge_hit(*args), rays._edge_hit(*mirrored)
        default_differs += d0 != d1 and not (math.isinf(d0) and math.isinf(d1))
    assert hits > 2000
    assert default_differs > 0  # what the option fixes


# -- whole trials ------------------------------------------------------------------------------


def _trials(world, sets, n_genomes=5):
    """Fitness (G, T) and per-tick agent x (G, ticks, T) of random symmetric genomes."""
    setup = build(load_world(world, sets))
    conditions = setup.task.conditions(conditions_rng(1, 0))
    genomes = np.random.default_rng(11).uniform(-1, 1, (n_genomes, setup.genome_size))
    ep = Episode(setup, genomes, conditions)
    xs = []
    ep.run(lambda e: xs.append(e.poses[e.agent_body, 0] - e.origins[:, 0]))
    n_t = conditions.shape[0]
    x = np.array(xs).reshape(len(xs), n_genomes, n_t).transpose(1, 0, 2)
    return ep.result().fitness, x, conditions, setup


def _mirror_index(conditions):
    """Trial index of each trial's mirror (same object, offset negated)."""
    key = {(float(c[0]), *map(float, c[1:])): i for i, c in enumerate(conditions)}
    return np.array([key[(-float(c[0]), *map(float, c[1:]))] for c in conditions])


WORLDS = {
    "circles_diamonds": (CP_WORLD, []),
    "circle_line": (CIRCLE_LINE, []),
    "izquierdo_two_sided": (IZQUIERDO, ['task.offset_range=[-24.0, 24.0]', "task.offset_skip=2.0",
                                        'task.avoid_shape="diamond"', 'agent.eye.inside="far_side"']),
    "size_categorisation_two_sided": (SIZES, ['task.offset_range=[-24.0, 24.0]', "task.offset_skip=2.0"]),
    "mtrnn": (ROOT / "worlds" / "categorical_perception_mtrnn.toml", []),
}


@pytest.mark.parametrize("name", WORLDS)
def test_mirror_trials_of_a_symmetric_genome_give_identical_fitness_bit_for_bit(name):
    world, sets = WORLDS[name]
    fit, x, conditions, setup = _trials(world, sets + ON)
    assert setup.experiment.controller.symmetric
    mirror = _mirror_index(conditions)
    assert (mirror != np.arange(len(mirror))).all()
    assert np.array_equal(fit, fit[:, mirror])
    assert np.array_equal(x, -x[:, :, mirror])  # agent x of the mirror trial is -x at every tick
    assert len(np.unique(fit)) > 10  # the genomes behave, not all pinned at a wall


def test_without_the_option_mirror_trials_differ():
    fit, x, conditions, _ = _trials(CP_WORLD, [])
    mirror = np.concatenate([np.arange(12)[::-1], 12 + np.arange(12)[::-1]])
    assert not np.array_equal(fit, fit[:, mirror])
    assert np.abs(fit - fit[:, mirror]).max() < 1e-9  # ... by rounding only


@pytest.mark.parametrize("dropped", list(PIECES))
def test_each_piece_is_needed(dropped):
    sets = [v for k, v in PIECES.items() if k != dropped]
    fit, x, conditions, _ = _trials(CP_WORLD, sets)
    mirror = np.concatenate([np.arange(12)[::-1], 12 + np.arange(12)[::-1]])
    assert not np.array_equal(x, -x[:, :, mirror])
    fit_all, *_ = _trials(CP_WORLD, list(PIECES.values()))
    fit_on, *_ = _trials(CP_WORLD, ON)
    assert np.array_equal(fit_all, fit_on)  # the umbrella is exactly its pieces


def test_mirror_exact_alone_equals_batch():
    setup = build(load_world(CP_WORLD, ON))
    conditions = setup.task.conditions(conditions_rng(1, 0))
    assert_alone_equals_batch(setup, np.random.default_rng(3).uniform(-1, 1, (3, setup.genome_size)), conditions)


# -- the switch in the loader ------------------------------------------------------------------


def test_mirror_exact_resolves_its_pieces_and_round_trips():
    exp = load_world(CP_WORLD, ON)
    assert exp.simulation.placement == "per_trial"
    assert exp.agent.eye.exact_axes and exp.agent.eye.midpoint_edges
    assert exp.controller.paired_sums and exp.task.mirrored_offsets
    again = experiment_from_dict(exp.to_dict(), str(CP_WORLD))  # as a champion file replays it
    assert again == exp
    plain = load_world(CP_WORLD)  # off: nothing implied
    assert plain.simulation.placement == "tiled" and not plain.agent.eye.midpoint_edges
    assert not plain.controller.paired_sums and not plain.task.mirrored_offsets


def test_mirror_exact_leaves_a_one_sided_grid_alone():
    exp = load_world(IZQUIERDO, ON)  # offsets 2 .. 24: no mirror pairs in the grid
    assert not exp.task.mirrored_offsets and exp.controller.paired_sums


@pytest.mark.parametrize("sets, match", [
    (['simulation.placement="tiled"'], r"\[simulation\]: `placement` = 'tiled' contradicts \[simulation\] mirror_exact"),
    (["controller.paired_sums=false"], r"\[controller\]: `paired_sums` = False contradicts"),
    (["agent.eye.midpoint_edges=false"], r"\[agent.eye\]: `midpoint_edges` = False contradicts"),
    (["controller.symmetric=false"], r"\[simulation\]: `mirror_exact` needs a continuous-time network .* symmetric"),
])
def test_mirror_exact_refuses_contradictions(sets, match):
    with pytest.raises(ConfigError, match=match):
        load_world(CP_WORLD, ON + sets)
    with pytest.raises(ConfigError, match=r"\[simulation\]: `mirror_exact` needs a continuous-time network"):
        load_world(CP_WORLD, ON, controller="elman")
