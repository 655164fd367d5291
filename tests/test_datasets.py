"""The sequence data generators (evorobot/tasks/datasets.py) against things that are true: plain
Python loops of the published recurrences, a closed-form solution of the delay equation on its
first delay interval, regular expressions of the Tomita languages, and seeded determinism."""

import itertools
import math
import re

import numpy as np
import pytest

from evorobot.tasks import datasets as ds


def narma_reference(u: list[float]) -> list[float]:
    """y(t+1) = 0.3 y(t) + 0.05 y(t) sum_{i=0..9} y(t-i) + 1.5 u(t-9) u(t) + 0.1, terms of t < 0 are 0."""
    y = [0.0] * (len(u) + 1)
    for t in range(len(u)):
        s = sum(y[t - i] for i in range(10) if t - i >= 0)
        lagged = u[t - 9] if t >= 9 else 0.0
        y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * s + 1.5 * lagged * u[t] + 0.1
    return y


def test_narma10_response_equals_a_plain_loop_of_the_recurrence() -> None:
    u = np.random.default_rng(3).uniform(0, 0.5, (3, 400))
    y = ds.narma10_response(u)
    assert y.shape == (3, 401)
    for k in range(3):
        np.testing.assert_allclose(y[k], narma_reference(list(u[k])), rtol=0, atol=1e-12)


def test_narma10_redraws_diverging_sequences_from_the_same_generator() -> None:
    n, length = 200, 2000
    first = np.random.default_rng(0).uniform(0, 0.5, (n, length))
    y0 = ds.narma10_response(first)
    bad = ~np.all(np.isfinite(y0) & (np.abs(y0) <= 10), axis=1)
    assert bad.any() and not bad.all()  # this seed's first draw has diverging rows
    u, y = ds.narma10(n, length, np.random.default_rng(0))
    np.testing.assert_array_equal(u[~bad], first[~bad])
    assert not np.any(u[bad] == first[bad])
    assert np.all(np.isfinite(y)) and np.abs(y).max() <= 10 and u.min() >= 0 and u.max() <= 0.5
    np.testing.assert_array_equal(y, ds.narma10_response(u))
    assert not np.all(np.isfinite(ds.narma10_response(np.full((1, 300), 0.5))))  # no fixed point: diverges


def mg_reference(x0: float, n_steps: int, h: float, delay: int) -> list[float]:
    """The same RK4 scheme as a plain loop (delayed value at the half step: mean of the neighbours)."""
    def f(x: float, xt: float) -> float:
        return 0.2 * xt / (1.0 + xt ** 10.0) - 0.1 * x

    x = [x0]
    for k in range(n_steps):
        lo = x[k - delay] if k - delay >= 0 else x0
        hi = x[k - delay + 1] if k - delay + 1 >= 0 else x0
        mid = 0.5 * (lo + hi)
        k1 = f(x[k], lo)
        k2 = f(x[k] + 0.5 * h * k1, mid)
        k3 = f(x[k] + 0.5 * h * k2, mid)
        k4 = f(x[k] + h * k3, hi)
        x.append(x[k] + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4))
    return x


def test_mackey_glass_rk4_equals_a_plain_loop_of_the_same_scheme() -> None:
    got = ds.mackey_glass_rk4(0.9, 3000, 0.1, 170, 0.2, 0.1, 10.0)
    np.testing.assert_allclose(got, mg_reference(0.9, 3000, 0.1, 170), rtol=0, atol=1e-12)


def test_mackey_glass_first_delay_interval_matches_the_closed_form() -> None:
    # for t < tau the delayed term is the constant history: dx/dt = c - 0.1 x, solved exactly
    x0 = 0.7
    c = 0.2 * x0 / (1 + x0 ** 10)
    got = ds.mackey_glass_rk4(x0, 170, 0.1, 170, 0.2, 0.1, 10.0)
    t = np.arange(171) * 0.1
    np.testing.assert_allclose(got, c / 0.1 + (x0 - c / 0.1) * np.exp(-0.1 * t), rtol=0, atol=1e-9)
    # x = 1 is a fixed point of the equation: a constant history of 1 stays there
    np.testing.assert_array_equal(ds.mackey_glass_rk4(1.0, 500, 0.1, 170, 0.2, 0.1, 10.0), 1.0)


def test_mackey_glass_series_lies_on_the_chaotic_attractor() -> None:
    x = ds.mackey_glass(3000, np.random.default_rng(0))
    assert x.shape == (3000,)
    assert 0.2 < x.min() < 0.5 and 1.2 < x.max() < 1.4  # the tau = 17 attractor spans about [0.4, 1.35]
    assert np.abs(np.diff(x)).max() < 0.2  # one-unit samples of a smooth series
    a, b = x[:1000], x[1000:2000]  # not periodic with a short period: distant windows differ
    assert np.abs(a - b).max() > 0.3
    with pytest.raises(ValueError, match="integer"):
        ds.mackey_glass(10, np.random.default_rng(0), tau=17.05, substeps=10)


TOMITA_RE = {1: r"1*", 2: r"(10)*", 4: r"(?!.*000)[01]*", 7: r"0*1*0*1*"}


def tomita_3(s: str) -> bool:
    runs = [(k, len(list(g))) for k, g in itertools.groupby(s)]
    odd_one_seen = False
    for symbol, n in runs:
        if symbol == "0" and n % 2 == 1 and odd_one_seen:
            return False
        if symbol == "1" and n % 2 == 1:
            odd_one_seen = True
    return True


PREDICATES = {
    3: tomita_3,
    5: lambda s: s.count("0") % 2 == 0 and s.count("1") % 2 == 0,
    6: lambda s: (s.count("0") - s.count("1")) % 3 == 0,
}


@pytest.mark.parametrize("grammar", range(1, 8))
def test_tomita_dfa_agrees_with_the_definition_on_every_string_up_to_length_12(grammar: int) -> None:
    strings, lengths = ds.all_strings(0, 12)
    assert strings.shape == (2 ** 13 - 1, 12)
    got = ds.tomita_accepts(grammar, strings, lengths)
    text = ["".join(map(str, row[:n])) for row, n in zip(strings, lengths)]
    if grammar in TOMITA_RE:
        want = [re.fullmatch(TOMITA_RE[grammar], s) is not None for s in text]
    else:
        want = [PREDICATES[grammar](s) for s in text]
    np.testing.assert_array_equal(got, want)
    assert 0 < got.sum() < got.size


def test_tomita_3_reproduces_known_examples() -> None:
    pos = ["", "1", "0", "01", "11", "00", "100", "110", "111", "000", "100100", "110000011100001"]
    neg = ["10", "101", "010", "1010", "1110", "1011", "10001", "111010", "1001000", "11111000", "0111001101"]
    for s, label in [(s, True) for s in pos] + [(s, False) for s in neg]:
        row = np.array([[int(c) for c in s] + [-1] * (20 - len(s))])
        assert ds.tomita_accepts(3, row, np.array([len(s)]))[0] == label, s


def test_tomita_sample_is_distinct_balanced_where_possible_and_seeded() -> None:
    s, n, lab = ds.tomita_sample(4, 11, 14, 400, np.random.default_rng(1))
    assert s.shape == (400, 14) and n.min() >= 11 and n.max() <= 14 and lab.sum() == 200
    assert len({tuple(r) for r in s}) == 400
    np.testing.assert_array_equal(ds.tomita_accepts(4, s, n), lab)
    _s1, _n1, lab1 = ds.tomita_sample(1, 11, 14, 400, np.random.default_rng(1))
    assert lab1.sum() == 4 and lab1.size == 400  # 1^11 .. 1^14 are the only members: all taken
    again = ds.tomita_sample(4, 11, 14, 400, np.random.default_rng(1))
    np.testing.assert_array_equal(again[0], s)
    assert not np.array_equal(ds.tomita_sample(4, 11, 14, 400, np.random.default_rng(2))[0], s)


def test_temporal_xor_third_bits_are_the_xor_of_the_two_before() -> None:
    bits = ds.temporal_xor(5, 40, np.random.default_rng(0)).reshape(5, 40, 3)
    np.testing.assert_array_equal(bits[:, :, 2], np.logical_xor(bits[:, :, 0], bits[:, :, 1]))
    assert 0.3 < bits[:, :, :2].mean() < 0.7


def test_adding_sequences_follow_hochreiter_and_schmidhuber() -> None:
    t = 50
    pairs, lengths, targets = ds.adding(500, t, np.random.default_rng(0))
    assert pairs.shape == (500, t + t // 10, 2)
    assert lengths.min() == t and lengths.max() == t + t // 10
    for k in range(500):
        v, m, n = pairs[k, :, 0], pairs[k, :, 1], lengths[k]
        marked = np.flatnonzero(m == 1)
        assert marked.size == 2 and marked[0] < 10 and marked[1] < t // 2
        assert np.all(v[n:] == 0) and np.all(m[n:] == 0) and np.all(np.abs(v[:n]) <= 1)
        assert m[n - 1] == -1 and (m[0] == -1 or 0 in marked)
        assert np.count_nonzero(m == -1) == (1 if 0 in marked else 2)
        if 0 in marked:
            assert v[0] == 0
        assert targets[k] == 0.5 + (v[marked[0]] + v[marked[1]]) / 4
    assert np.any(pairs[:, 0, 1] == 1)  # the first pair does get marked sometimes (1 in 10)
    with pytest.raises(ValueError, match="22"):
        ds.adding(3, 20, np.random.default_rng(0))


def test_framewise_labels_are_the_sign_of_the_centred_window_sum() -> None:
    x, labels = ds.framewise(3, 100, np.random.default_rng(0), tail=4)
    assert x.shape == (3, 114) and labels.shape == (3, 100)
    for k in range(3):
        for j in range(100):
            assert labels[k, j] == float(sum(x[k, j + i] for i in range(11)) > 0)


def test_corrupted_patterns_flip_exactly_the_requested_number_of_units() -> None:
    rng = np.random.default_rng(0)
    patterns = np.where(rng.random((4, 20)) < 0.5, -1.0, 1.0)
    cues = ds.corrupted_patterns(patterns, 6, 3, rng)
    assert cues.shape == (4, 6, 20)
    np.testing.assert_array_equal((cues != patterns[:, None, :]).sum(axis=2), 3)
    assert len({tuple(c) for c in cues.reshape(-1, 20)}) > 20  # the flips differ between cues


GENERATORS = {
    "narma10": lambda rng: ds.narma10(3, 100, rng)[0],
    "mackey_glass": lambda rng: ds.mackey_glass(200, rng, transient=100),
    "temporal_xor": lambda rng: ds.temporal_xor(3, 30, rng),
    "adding": lambda rng: ds.adding(5, 30, rng)[0],
    "tomita": lambda rng: ds.tomita_sample(5, 0, 10, 50, rng)[0],
    "framewise": lambda rng: ds.framewise(2, 50, rng)[0],
    "patterns": lambda rng: ds.corrupted_patterns(np.ones((2, 10)), 3, 2, rng),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_are_fixed_by_their_seed(name: str) -> None:
    make = GENERATORS[name]
    a = make(np.random.default_rng(11))
    np.testing.assert_array_equal(a, make(np.random.default_rng(11)))
    assert not np.array_equal(a, make(np.random.default_rng(12)))


def test_framewise_causal_ceiling_formula() -> None:
    # P(sign of 6 of 11 i.i.d. Gaussian terms = sign of all 11) = 1/2 + arcsin(sqrt(6/11)) / pi
    assert math.isclose(0.5 + math.atan(math.sqrt(6 / 5)) / math.pi, 0.5 + math.asin(math.sqrt(6 / 11)) / math.pi)
    assert round(0.5 + math.atan(math.sqrt(6 / 5)) / math.pi, 3) == 0.764
