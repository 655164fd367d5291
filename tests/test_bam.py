"""Bidirectional associative memory (Kosko 1988): plain-numpy references, recall through W and
W^T, the energy's descent, Hebbian storage and recall, the controller shell."""

from __future__ import annotations

import numpy as np
import pytest
from ctrlutil import make

from evorobot.controllers.bam import BAM, BAMParams, bam_energy, bam_recall
from evorobot.errors import ConfigError


def sgn_keep(h: np.ndarray, old: np.ndarray) -> np.ndarray:
    return np.where(h > 0, 1.0, np.where(h < 0, -1.0, old))


def reference_recall(w: np.ndarray, x: np.ndarray, y: np.ndarray, start: str,
                     tx: np.ndarray, ty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kosko's recall in plain numpy for one cue: alternate the layers until neither changes."""
    x, y = x.copy(), y.copy()
    turn = "y" if start == "x" else "x"
    quiet = 0
    while quiet < 2:
        if turn == "y":
            new = sgn_keep(w.T @ x - ty, y)
            changed, y = not np.array_equal(new, y), new
        else:
            new = sgn_keep(w @ y - tx, x)
            changed, x = not np.array_equal(new, x), new
        quiet = 0 if changed else quiet + 1
        turn = "x" if turn == "y" else "y"
    return x, y


def integer_problem(rng: np.random.Generator, b: int, n: int, p: int) -> tuple[np.ndarray, ...]:
    """Random small-integer weights and thresholds (so that ties, net input exactly 0, occur) and
    random bipolar layers."""
    w = rng.integers(-2, 3, (b, n, p)).astype(float)
    tx, ty = rng.integers(-1, 2, (b, n)).astype(float), rng.integers(-1, 2, (b, p)).astype(float)
    x = np.where(rng.random((b, n)) < 0.5, -1.0, 1.0)
    y = np.where(rng.random((b, p)) < 0.5, -1.0, 1.0)
    return w, tx, ty, x, y


def test_recall_matches_a_plain_numpy_reference_from_either_layer() -> None:
    rng = np.random.default_rng(1)
    w, tx, ty, x, y = integer_problem(rng, 200, 9, 6)
    for start in ("x", "y"):
        rx, ry, changes = bam_recall(w, x, y, start=start, theta_x=tx, theta_y=ty)
        for b in range(200):
            ex, ey = reference_recall(w[b], x[b], y[b], start, tx[b], ty[b])
            np.testing.assert_array_equal(rx[b], ex)
            np.testing.assert_array_equal(ry[b], ey)
        assert np.mean(changes > 0) > 0.5


def test_recall_from_a_y_cue_with_w_equals_recall_from_the_x_side_with_w_transposed() -> None:
    """Kosko's symmetry: the same matrix runs both ways, so swapping the layers and transposing W
    swaps the result; the start layer matters (an X start gives a different recall for some)."""
    rng = np.random.default_rng(2)
    w, tx, ty, x, y = integer_problem(rng, 500, 8, 5)
    fx, fy, _ = bam_recall(w, x, y, start="y", theta_x=tx, theta_y=ty)
    gy, gx, _ = bam_recall(w.transpose(0, 2, 1), y, x, start="x", theta_x=ty, theta_y=tx)
    np.testing.assert_array_equal(fx, gx)
    np.testing.assert_array_equal(fy, gy)
    hx, hy, _ = bam_recall(w, x, y, start="x", theta_x=tx, theta_y=ty)
    assert not (np.array_equal(hx, fx) and np.array_equal(hy, fy))


def test_hebbian_storage_equals_a_plain_numpy_reference() -> None:
    rng = np.random.default_rng(3)
    xs = np.where(rng.random((4, 7)) < 0.5, -1.0, 1.0)
    ys = np.where(rng.random((4, 3)) < 0.5, -1.0, 1.0)
    ref = np.zeros((7, 3))
    for k in range(4):
        ref += np.outer(xs[k], ys[k])
    ctrl = make(BAM, n_in=7, n_out=3)
    p = ctrl.decode(ctrl.hebbian_genome(xs, ys)[None])
    np.testing.assert_allclose(p.w[0], ref, rtol=0, atol=1e-12)
    assert np.all(p.theta_x == 0) and np.all(p.theta_y == 0)
    half = ctrl.decode(ctrl.hebbian_genome(xs, ys, scale=0.5)[None])
    np.testing.assert_allclose(half.w[0], ref / 2, rtol=0, atol=1e-12)


def reference_tick(p: BAMParams, b: int, x: np.ndarray, y: np.ndarray, s: np.ndarray, passes: int, coding: str,
                   threshold: float, gain: float) -> tuple[np.ndarray, np.ndarray]:
    ext = gain * s if coding == "field" else np.zeros_like(x)
    if coding == "threshold":
        x = np.where(s > threshold, 1.0, -1.0)
    for _ in range(passes):
        y = sgn_keep(p.w[b].T @ x - p.theta_y[b], y)
        x = sgn_keep(p.w[b] @ y + ext - p.theta_x[b], x)
    return x, y


@pytest.mark.parametrize(("coding", "passes"), [("threshold", 1), ("threshold", 3), ("field", 2)])
def test_controller_ticks_match_a_plain_numpy_reference(coding: str, passes: int) -> None:
    ctrl = make(BAM, n_in=6, n_out=3, passes=passes, coding=coding, input_threshold=0.4, input_gain=2.0,
                weight_range=(-1.0, 1.0), threshold_range=(-1.0, 1.0))
    p = ctrl.decode(np.random.default_rng(4).uniform(-1, 1, (4, ctrl.genome_size)))
    state = ctrl.init_state(p)
    assert np.all(state.x == -1) and np.all(state.y == -1)
    rx, ry = state.x.copy(), state.y.copy()
    out = np.empty((4, 3))
    rng = np.random.default_rng(5)
    moves = 0
    for _ in range(25):
        s = rng.uniform(0, 1, (4, 6))
        ctrl.step(p, state, s, 0.1, out)
        for b in range(4):
            nx, ny = reference_tick(p, b, rx[b], ry[b], s[b], passes, coding, 0.4, 2.0)
            moves += int(np.sum(ny != ry[b]) + np.sum(nx != rx[b]))
            rx[b], ry[b] = nx, ny
        np.testing.assert_array_equal(state.x, rx)
        np.testing.assert_array_equal(state.y, ry)
        np.testing.assert_array_equal(out, (ry + 1) / 2)
    assert moves > 20


def test_the_energy_never_increases_and_does_with_inconsistent_matrices() -> None:
    """Kosko's E = -X W Y^T + theta_x . X + theta_y . Y - e . X under each pass of the controller
    (field coding, constant sensors: each tick is one pass); the descent needs the same W both ways:
    a plain-numpy recall that updates X through another matrix raises E for some networks."""
    b = 1000
    ctrl = make(BAM, n_in=10, n_out=6, passes=1, coding="field", input_gain=1.5)
    rng = np.random.default_rng(6)
    p = ctrl.decode(rng.uniform(-1, 1, (b, ctrl.genome_size)))
    s = rng.uniform(0, 1, (b, 10))
    ext = 1.5 * s
    state = ctrl.init_state(p)
    state.x[:] = np.where(rng.random((b, 10)) < 0.5, -1.0, 1.0)
    state.y[:] = np.where(rng.random((b, 6)) < 0.5, -1.0, 1.0)
    out = np.empty((b, 6))
    e = [bam_energy(p, state.x, state.y, ext)]
    for _ in range(6):
        ctrl.step(p, state, s, 0.1, out)
        e.append(bam_energy(p, state.x, state.y, ext))
    steps = np.diff(np.array(e), axis=0)
    assert np.all(steps <= 1e-9) and np.mean(steps < -1e-9) > 0.1
    other = rng.normal(size=p.w.shape)
    x, y = state.x.copy(), state.y.copy()
    x[:] = np.where(rng.random((b, 10)) < 0.5, -1.0, 1.0)
    rises = 0
    for _ in range(4):
        e0 = bam_energy(p, x, y, ext)
        y = sgn_keep(np.einsum("bij,bi->bj", p.w, x) - p.theta_y, y)
        x = sgn_keep(np.einsum("bij,bj->bi", other, y) + ext - p.theta_x, x)
        rises += int(np.sum(bam_energy(p, x, y, ext) > e0 + 1e-9))
    assert rises > 0


def test_stored_pairs_are_fixed_points_and_noisy_cues_recall_them() -> None:
    """Kosko's experiment at a small size: 5 pairs of 100-unit random vectors, Hebbian W; every
    stored pair is a fixed point, and cues with 10 % of x flipped recall the pairs through the
    controller (threshold coding)."""
    n, count = 100, 5
    ctrl = make(BAM, n_in=n, n_out=n, passes=10)
    rng = np.random.default_rng(7)
    xs = np.where(rng.random((count, n)) < 0.5, -1.0, 1.0)
    ys = np.where(rng.random((count, n)) < 0.5, -1.0, 1.0)
    p = ctrl.decode(np.repeat(ctrl.hebbian_genome(xs, ys)[None], count, axis=0))
    fx, fy, changes = bam_recall(p.w, xs, ys, start="x")
    np.testing.assert_array_equal(fx, xs)
    np.testing.assert_array_equal(fy, ys)
    assert np.all(changes == 0)
    cues = xs.copy()
    for k in range(count):
        cues[k, rng.choice(n, 10, replace=False)] *= -1
    state = ctrl.init_state(p)
    out = np.empty((count, n))
    ctrl.step(p, state, (cues + 1) / 2, 0.1, out)
    np.testing.assert_array_equal(state.x, xs)
    np.testing.assert_array_equal(out, (ys + 1) / 2)


def test_bad_settings_and_pairs_raise_config_errors_naming_the_place() -> None:
    with pytest.raises(ConfigError, match=r"\[controller\]: a bam needs at least one input"):
        make(BAM, n_in=0, n_out=2)
    ctrl = make(BAM, n_in=3, n_out=2, weight_range=(-1.0, 1.0))
    with pytest.raises(ConfigError, match="bipolar"):
        ctrl.hebbian_genome([[1, 0, 1]], [[1, 1]])
    with pytest.raises(ConfigError, match="pairs must be"):
        ctrl.hebbian_genome([[1, 1, 1]], [[1, 1, 1]])
    with pytest.raises(ConfigError, match="`w`.*range"):
        ctrl.hebbian_genome([[1, 1, 1], [1, -1, 1]], [[1, 1], [1, 1]])
    ctrl.hebbian_genome([[1, 1, 1], [1, -1, 1]], [[1, 1], [1, 1]], scale=0.5)
    with pytest.raises(ConfigError, match="start"):
        bam_recall(np.zeros((3, 2)), np.ones((1, 3)), np.ones((1, 2)), start="z")
