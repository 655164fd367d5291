"""The batch-minor layout of small continuous-time networks (issue 20) computes the bits of the
plain target-major loop.

Below SOURCE_MAJOR_N neurons, decode stores every parameter and init_state every state as the
transpose of a C-contiguous array with the networks on its last axis, and the step kernels take
a loop vectorised across networks (one network per SIMD lane). These tests hold it to the plain
target-major kernel (C-contiguous copies of the same arrays) bit for bit, over many random
networks and steps, batches that are not a multiple of the SIMD width, every integrator.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from evorobot.controllers._ctrnn_kernels import KERNELS, SOURCE_MAJOR_N, _batch_minor
from evorobot.controllers.ctrnn import CTRNN, CTRNNParams, CTRNNSpec, CTRNNState

INTEGRATORS = ("euler", "rk4", "exp_euler")


def make(integrator: str, hidden: int, topology: str = "full", n_in: int = 7) -> CTRNN:
    return CTRNN(CTRNNSpec(hidden=hidden, topology=topology, integrator=integrator, gain_range=(0.5, 3.0),  # type: ignore[arg-type]
                           tau_range=(0.1, 3.0) if integrator == "euler" else (0.05, 3.0),
                           initial_state="evolved"), n_in, 2, 0.1)


def c_copy(a: np.ndarray) -> np.ndarray:
    return np.array(a, order="C")  # always a copy (a (1, N) array is both C- and F-contiguous)


@njit
def takes_batch_minor(tau, bias, gain, w, w_in, y, o):  # type: ignore[no-untyped-def]
    return _batch_minor(tau, bias, gain, w, w_in, y, o)


@pytest.mark.parametrize("integrator", INTEGRATORS)
@pytest.mark.parametrize("topology", ["layered", "full"])
@pytest.mark.parametrize("hidden", [1, 5, 8])  # N = 3, 7, 10
@pytest.mark.parametrize("batch", [13, 37])
def test_batch_minor_steps_bit_for_bit_like_the_target_major_kernel(integrator: str, topology: str, hidden: int,
                                                                    batch: int) -> None:
    ctrl = make(integrator, hidden, topology)
    assert ctrl.n_neurons < SOURCE_MAJOR_N
    rng = np.random.default_rng(1000 * hidden + batch)
    kernel = KERNELS[integrator]
    for net in range(4):  # 4 x batch random networks, each run 40 steps
        p = ctrl.decode(rng.uniform(-1, 1, (batch, ctrl.genome_size)))
        state = ctrl.init_state(p)
        assert all(a.flags.f_contiguous and not a.flags.c_contiguous for a in (*p, *state))
        assert takes_batch_minor(*p[:5], *state)  # the batch-minor loop, not the fallback
        pc, yc, oc = CTRNNParams(*(c_copy(a) for a in p)), c_copy(state.y), c_copy(state.o)
        assert not takes_batch_minor(*pc[:5], yc, oc)
        np.testing.assert_array_equal(state.o, oc)
        out, out_c = np.empty((batch, 2)), np.empty((batch, 2))
        for _ in range(40):
            x = rng.uniform(-1.0, 10.0, (batch, 7))
            ctrl.step(p, state, x, 0.1, out)
            kernel(*pc[:5], yc, oc, x, 0.1, out_c, ctrl._first_out, False)
            np.testing.assert_array_equal(state.y, yc)
            np.testing.assert_array_equal(state.o, oc)
            np.testing.assert_array_equal(out, out_c)
        np.testing.assert_array_equal(out, state.o[:, hidden:])
        assert np.isfinite(state.y).all() and (state.y != p.y0).all()


@pytest.mark.parametrize("integrator", INTEGRATORS)
def test_a_network_alone_equals_its_row_of_the_batch(integrator: str) -> None:
    ctrl = make(integrator, 5)  # N = 7, the categorical-perception agent
    genomes = np.random.default_rng(5).uniform(-1, 1, (13, ctrl.genome_size))
    x = np.random.default_rng(6).uniform(0, 10, (30, 13, 7))
    batch = ctrl.decode(genomes)
    state, out = ctrl.init_state(batch), np.empty((13, 2))
    alone = ctrl.decode(genomes[5:6])  # one network: its arrays are C-contiguous too, the plain loop
    s1, o1 = ctrl.init_state(alone), np.empty((1, 2))
    for t in range(30):
        ctrl.step(batch, state, x[t], 0.1, out)
        ctrl.step(alone, s1, x[t, 5:6], 0.1, o1)
        np.testing.assert_array_equal(s1.y[0], state.y[5])
        np.testing.assert_array_equal(s1.o[0], state.o[5])
        np.testing.assert_array_equal(o1[0], out[5])


@pytest.mark.parametrize("integrator", INTEGRATORS)
def test_a_copy_in_another_layout_takes_the_plain_loop_with_the_same_bits(integrator: str) -> None:
    """A lesion's copy of one array (C-contiguous) or a state made elsewhere: the target-major loop
    over the mixed layouts, the same bits."""
    ctrl = make(integrator, 5)
    p = ctrl.decode(np.random.default_rng(8).uniform(-1, 1, (37, ctrl.genome_size)))
    runs = [(p, ctrl.init_state(p)),
            (p._replace(gain=p.gain.copy()), ctrl.init_state(p)),  # ndarray.copy(): C order
            (p, CTRNNState(*(c_copy(a) for a in ctrl.init_state(p))))]
    assert takes_batch_minor(*runs[0][0][:5], *runs[0][1])
    assert not any(takes_batch_minor(*params[:5], *state) for params, state in runs[1:])
    outs = [np.empty((37, 2)) for _ in runs]
    rng = np.random.default_rng(9)
    for _ in range(30):
        x = rng.uniform(0, 10, (37, 7))
        for (params, state), out in zip(runs, outs):
            ctrl.step(params, state, x, 0.1, out)
        for (_, state), out in zip(runs[1:], outs[1:]):
            np.testing.assert_array_equal(state.y, runs[0][1].y)
            np.testing.assert_array_equal(state.o, runs[0][1].o)
            np.testing.assert_array_equal(out, outs[0])
