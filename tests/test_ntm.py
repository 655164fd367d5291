"""Neural Turing machine: a plain-loop reference, addressing as Graves et al. define it, the shell."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from netutil import random_params

from evorobot.controllers import CONTROLLERS
from evorobot.controllers._ntm_kernels import EPS, address
from evorobot.controllers.ntm import NTM, NTMParams, NTMSpec, NTMState
from evorobot.errors import ConfigError
from evorobot.spec import parse


def make(n_in: int = 7, n_out: int = 2, **kw: object) -> NTM:
    return NTM(NTMSpec(**kw), n_in, n_out, 0.1)  # type: ignore[arg-type]


def sig(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


def softplus(a: float) -> float:
    return max(a, 0.0) + math.log1p(math.exp(-abs(a)))


def affine(bias: float, w: np.ndarray, z: list[float]) -> float:
    """bias + sum_k w[k] z[k], summed in order."""
    acc = bias
    for k in range(len(z)):
        acc += w[k] * z[k]
    return acc


def ref_address(mem: list[list[float]], raw: list[float], w_prev: list[float]) -> list[float]:
    """Graves et al. (2014) eqs. 5-9 from a head's raw outputs (key, beta, g, shift x 3, gamma)."""
    n, m = len(mem), len(mem[0])
    key = [math.tanh(v) for v in raw[:m]]
    beta, g, gamma = softplus(raw[m]), sig(raw[m + 1]), 1.0 + softplus(raw[m + 5])
    e = [math.exp(v - max(raw[m + 2:m + 5])) for v in raw[m + 2:m + 5]]
    s = {-1: e[0] / sum(e), 0: e[1] / sum(e), 1: e[2] / sum(e)}
    norm = math.sqrt(sum(k * k for k in key))
    sim = [beta * sum(k * r for k, r in zip(key, row)) / (norm * math.sqrt(sum(r * r for r in row)) + EPS)
           for row in mem]
    top = max(sim)  # the softmax and the power of the largest entry at 1, as usual
    z = sum(math.exp(v - top) for v in sim)
    wg = [g * (math.exp(sim[i] - top) / z) + (1 - g) * w_prev[i] for i in range(n)]
    ws = [sum(wg[(i - d) % n] * s[d] for d in (-1, 0, 1)) for i in range(n)]
    ws = [(v / max(ws)) ** gamma for v in ws]
    return [v / sum(ws) for v in ws]


def reference_step(ctrl: NTM, p: NTMParams, b: int, st: dict, x: list[float]) -> list[float]:
    """One NTM tick in plain loops on ``st`` (h, mem, reads, weights as lists); returns the motors."""
    spec, n_out = ctrl.spec, ctrl.n_outputs
    m, n_w = spec.memory_width, spec.write_heads
    z = list(x) + [v for r in st["reads"] for v in r] + (list(st["h"]) if spec.recurrent else [])
    h = [math.tanh(affine(p.b_h[b, i], p.w_h[b, i], z)) for i in range(spec.hidden)]
    o = [affine(p.b_o[b, r], p.w_o[b, r], h) for r in range(p.b_o.shape[1])]
    mem, weights = st["mem"], st["weights"]
    write = [o[n_out + q * (3 * m + 6):n_out + (q + 1) * (3 * m + 6)] for q in range(n_w)]
    for q in range(n_w):
        weights[q] = ref_address(mem, write[q], weights[q])
    for q in range(n_w):
        erase = [sig(v) for v in write[q][m + 6:2 * m + 6]]
        mem = [[mem[i][j] * (1 - weights[q][i] * erase[j]) for j in range(m)] for i in range(len(mem))]
    for q in range(n_w):
        add = [math.tanh(v) for v in write[q][2 * m + 6:]]
        mem = [[mem[i][j] + weights[q][i] * add[j] for j in range(m)] for i in range(len(mem))]
    for r in range(spec.read_heads):
        base = n_out + n_w * (3 * m + 6) + r * (m + 6)
        weights[n_w + r] = ref_address(mem, o[base:base + m + 6], weights[n_w + r])
        st["reads"][r] = [sum(weights[n_w + r][i] * mem[i][j] for i in range(len(mem))) for j in range(m)]
    st["h"], st["mem"] = h, mem
    return [sig(v) for v in o[:n_out]]


@pytest.mark.parametrize("options", [
    {}, {"recurrent": True, "read_heads": 2, "write_heads": 2, "memory_rows": 5, "memory_width": 3},
    {"hidden": 3, "memory_rows": 1, "memory_width": 1},
])
def test_steps_match_a_plain_loop_reference(options) -> None:
    ctrl = make(n_in=3, weight_range=(-2.0, 2.0), bias_range=(-2.0, 2.0), **options)
    p = random_params(ctrl, 3, seed=1)
    rng = np.random.default_rng(2)
    state = ctrl.init_state(p)
    ref = [{k: v[b].tolist() for k, v in state._asdict().items()} for b in range(3)]
    out = np.empty((3, 2))
    for _ in range(50):
        x = rng.uniform(-1, 1, (3, 3))
        ctrl.step(p, state, x, 0.1, out)
        ref_out = [reference_step(ctrl, p, b, ref[b], list(x[b])) for b in range(3)]
        for name in NTMState._fields:
            np.testing.assert_allclose(getattr(state, name), [r[name] for r in ref], rtol=0, atol=1e-12)
        np.testing.assert_allclose(out, ref_out, rtol=0, atol=1e-12)
    assert np.ptp(state.mem) > 0.1 and np.ptp(state.reads) > 0.01  # the memory was used


def head(m: int, key: np.ndarray, beta: float, g: float, shift: tuple[float, float, float], gamma: float,
         erase: float | None = None, add: np.ndarray | None = None) -> list[float]:
    """Raw output rows that the kernel squashes into the given head parameters."""
    rows = [*np.arctanh(key), math.log(math.expm1(beta)), math.log(g / (1 - g)), *np.log(shift),
            math.log(math.expm1(gamma - 1))]
    if erase is not None:
        rows += [math.log(erase / (1 - erase))] * m + list(np.arctanh(add))
    return rows


def test_content_addressing_reads_back_the_row_it_wrote() -> None:
    n, m = 6, 4
    ctrl = make(n_in=1, n_out=1, hidden=1, memory_rows=n, memory_width=m)
    rng = np.random.default_rng(7)
    rows = np.linalg.qr(rng.normal(size=(m, m)))[0] * 0.8  # orthogonal rows: unambiguous keys
    mem = np.concatenate([rows, -rows[:2]])
    v = np.array([0.5, -0.3, 0.7, 0.1])
    # the write head finds row 3 by content and replaces it by v; the read head then looks v up
    b_o = [0.0] + head(m, mem[3] / 0.9, 200.0, 1 - 1e-12, (1e-12, 1.0, 1e-12), 2.0, 1 - 1e-12, v)
    b_o += head(m, v, 200.0, 1 - 1e-12, (1e-12, 1.0, 1e-12), 2.0)
    p = NTMParams(np.zeros((1, 1, 1 + m)), np.zeros((1, 1)), np.zeros((1, len(b_o), 1)), np.array([b_o]))
    state = ctrl.init_state(p)
    state.mem[0] = mem
    ctrl.step(p, state, np.zeros((1, 1)), 0.1, np.empty((1, 1)))
    assert np.argmax(state.weights[0, 0]) == 3 and state.weights[0, 0, 3] > 1 - 1e-6
    np.testing.assert_allclose(state.mem[0, 3], v, atol=1e-6)
    np.testing.assert_allclose(np.delete(state.mem[0], 3, axis=0), np.delete(mem, 3, axis=0), atol=1e-6)
    np.testing.assert_allclose(state.reads[0, 0], v, atol=1e-6)
    assert np.max(np.abs(mem[3] - v)) > 0.5  # what is read is what was written, not what was there


def test_content_weighting_is_a_softmax_of_cosine_similarity() -> None:
    rng = np.random.default_rng(3)
    mem, key, w_prev = rng.normal(size=(7, 5)), rng.uniform(-1, 1, 5), rng.dirichlet(np.ones(7))
    cos = mem @ key / (np.linalg.norm(mem, axis=1) * np.linalg.norm(key) + EPS)
    w = np.empty(7)
    for beta in (0.0, 1.0, 5.0):
        address(mem, key, beta, 1.0, np.array([0.0, 1.0, 0.0]), 1.0, w_prev, w, np.empty(7))
        want = np.exp(beta * cos) / np.sum(np.exp(beta * cos))
        np.testing.assert_allclose(w, want, rtol=1e-13)
    address(mem, key, 2.0, 0.3, np.array([0.0, 1.0, 0.0]), 1.0, w_prev, w, np.empty(7))  # interpolation
    c2 = np.exp(2.0 * cos) / np.sum(np.exp(2.0 * cos))
    np.testing.assert_allclose(w, 0.3 * c2 + 0.7 * w_prev, rtol=1e-13)
    address(np.zeros((7, 5)), key, 50.0, 1.0, np.array([0.0, 1.0, 0.0]), 1.0, w_prev, w, np.empty(7))
    np.testing.assert_allclose(w, np.full(7, 1 / 7), rtol=1e-14)  # an empty memory matches nothing


@pytest.mark.parametrize(("shift", "moved"), [((0.0, 0.0, 1.0), 1), ((1.0, 0.0, 0.0), -1), ((0.0, 1.0, 0.0), 0)])
def test_location_shift_rotates_the_focus_circularly(shift, moved) -> None:
    n = 5
    w = np.empty(n)
    for start in range(n):
        w_prev = np.eye(n)[start]
        address(np.ones((n, 2)), np.ones(2), 1.0, 0.0, np.array(shift), 1.0, w_prev, w, np.empty(n))
        np.testing.assert_array_equal(w, np.eye(n)[(start + moved) % n])
    w_prev = np.array([0.1, 0.6, 0.0, 0.0, 0.3])
    address(np.ones((n, 2)), np.ones(2), 1.0, 0.0, np.array([0.2, 0.5, 0.3]), 1.0, w_prev, w, np.empty(n))
    want = [sum(w_prev[(i - d) % n] * s for d, s in zip((-1, 0, 1), (0.2, 0.5, 0.3))) for i in range(n)]
    np.testing.assert_allclose(w, want, rtol=1e-14)


def test_sharpening_raises_to_gamma_and_renormalises() -> None:
    w_prev = np.array([0.1, 0.45, 0.05, 0.4])
    w = np.empty(4)
    for gamma in (1.0, 2.5, 7.0):
        address(np.ones((4, 1)), np.ones(1), 0.0, 0.0, np.array([0.0, 1.0, 0.0]), gamma, w_prev, w, np.empty(4))
        np.testing.assert_allclose(w, w_prev**gamma / np.sum(w_prev**gamma), rtol=1e-13)
    address(np.ones((4, 1)), np.ones(1), 0.0, 0.0, np.array([0.0, 1.0, 0.0]), 2000.0, w_prev, w, np.empty(4))
    assert w[1] == 1.0 and np.all(w[[0, 2, 3]] < 1e-90)  # 0.45**2000 underflows: no 0 / 0 here


def test_genome_describe_trace_and_registry() -> None:
    ctrl = make(hidden=5, memory_rows=8, memory_width=4)
    rows = 2 + (3 * 4 + 6) + (4 + 6)
    assert ctrl.genome_size == 5 * (7 + 4) + 5 + rows * 5 + rows
    assert make(recurrent=True).genome_size == ctrl.genome_size + 25
    p = random_params(ctrl, 2, seed=0)
    d = ctrl.describe(p, 1)
    json.dumps(d, allow_nan=False)
    assert len(d["outputs"]) == rows and d["outputs"][2] == "write0.key0" and d["outputs"][-1] == "read0.gamma"
    assert d["sources"][7:] == ["read0.0", "read0.1", "read0.2", "read0.3"]
    assert d["w_o"][4][3] == p.w_o[1, 4, 3]
    state = ctrl.init_state(p)  # every trial: empty memory, every head on row 0
    assert np.all(state.mem == 0.0) and np.all(state.reads == 0.0) and np.all(state.h == 0.0)
    np.testing.assert_array_equal(state.weights, np.broadcast_to(np.eye(8)[0], (2, 2, 8)))
    tr = ctrl.trace(state)
    assert {k: v.shape for k, v in tr.items()} == {"h": (2, 5), "read": (2, 4), "head": (2, 16), "mem": (2, 32)}
    assert CONTROLLERS["ntm"] is NTM
    spec = parse(NTMSpec, {"type": "ntm", "memory_rows": 3, "recurrent": True}, "w [controller]", ignore=("type",))
    assert spec.memory_rows == 3 and spec.recurrent
    with pytest.raises(ConfigError, match="`read_heads` must be >= 1"):
        parse(NTMSpec, {"read_heads": 0}, "w [controller]")
