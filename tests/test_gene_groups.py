"""Neuron gene groups (controller contract item 9; ESP's subpopulations) for every controller type.

Each registered type is built as in ``test_controller_contract.py`` (7 inputs, 2 motors, default
settings). Its groups must partition the genome, one group per neuron (unit) with genes, then the
rest when the type has genes of no neuron. Two small networks are checked by hand.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from ctrlutil import make

from evorobot.controllers import CONTROLLERS
from evorobot.controllers.ctrnn import CTRNN
from evorobot.controllers.elman import Elman
from evorobot.evolution.base import GenomeLayout
from evorobot.genome import Block, GeneLayout
from evorobot.spec import parse

N_IN, N_OUT, DT = 7, 2, 0.1

#: (units, has a rest group) of each type at its default settings for 7 inputs and 2 motors;
#: None: the type declares no groups.
EXPECTED: dict[str, tuple[int, bool] | None] = {
    "ctrnn": (5 + 2, False),  # hidden + motor neurons
    "mtrnn": (7 + 10 + 4 + 2, False),  # sensory IO + fast + slow + motor IO
    "hierarchical": (5 + 2 + 3 + 2, False),  # lower + bottleneck + upper + motor
    "fully_recurrent": (5 + 2, False),  # hidden + output units
    "elman": (5, True), "jordan": (5, True), "narx": (5, True),  # hidden units; output biases
    "rmlp": (6 + 4, True),  # both hidden layers; the output layer's r3 and b3
    "second_order": (2 + 3, False),  # response + hidden state units
    "lstm": (4, True),  # cells; readout biases
    "ntm": (5, True),  # controller's hidden units; output biases
    "esn": (2, False),  # one readout unit per motor (evolve = "readout": no scaling genes, the rest)
    "lsm": (2, True),  # one readout unit per motor; the sensors' input gains (the liquid has no genes)
    "hopfield": (2 + 4, False),  # motor + hidden units (a symmetric weight goes to the lower unit)
    "bam": (7 + 2, False),  # X units (thresholds) + Y units (thresholds, columns of W)
    "brnn": (4 + 4, True),  # forward + backward units; output biases
    "cascaded": (2 + 3, False),  # accept (motor) + hidden state units
    "braitenberg": None,  # no genes
}


def build(name: str) -> Any:
    cls = CONTROLLERS[name]
    where = f"test [{name}]"
    return cls(parse(cls.Spec, {}, where), N_IN, N_OUT, DT, where)  # type: ignore[call-arg]


def assert_partition(groups: tuple[np.ndarray, ...], size: int) -> None:
    for g in groups:
        assert g.dtype == np.int64 and g.ndim == 1 and g.size > 0
        assert np.all(np.diff(g) > 0), "ascending gene indices"
    np.testing.assert_array_equal(np.sort(np.concatenate(groups)), np.arange(size))
    GenomeLayout(size, groups)  # what setup.genome_layout builds: accepted


@pytest.mark.parametrize("name", sorted(CONTROLLERS))
def test_groups_partition_the_genome_one_per_unit(name: str) -> None:
    assert name in EXPECTED, f"add the expected unit count of `{name}` to EXPECTED"
    ctrl = build(name)
    groups = ctrl.gene_groups()
    if EXPECTED[name] is None:
        assert groups is None
        return
    units, rest = EXPECTED[name]
    assert groups is not None
    assert_partition(groups, ctrl.genome_size)
    assert len(groups) == units + rest


def test_ctrnn_neuron_holds_its_own_parameters_and_incoming_weights() -> None:
    # 1 interneuron h0, 1 motor m0, 1 input, layered: genes tau[0], tau[1], bias[0], bias[1]
    # (gain fixed), w[0,0] (h0 -> h0), w[1,0] (h0 -> m0), w_in[0,0] (x0 -> h0).
    ctrl = make(CTRNN, n_in=1, n_out=1, hidden=1)
    assert ctrl.layout.labels() == ["tau[0]", "tau[1]", "bias[0]", "bias[1]", "w[0,0]", "w[1,0]", "w_in[0,0]"]
    h0, m0 = ctrl.gene_groups()
    np.testing.assert_array_equal(h0, [0, 2, 4, 6])  # its weight to m0, w[1,0], is m0's (incoming)
    np.testing.assert_array_equal(m0, [1, 3, 5])


def test_ctrnn_with_evolved_initial_states_and_gains() -> None:
    ctrl = make(CTRNN, n_in=1, n_out=1, hidden=1, gain_range=[1.0, 5.0], initial_state="evolved")
    labels = ctrl.layout.labels()
    h0, m0 = ctrl.gene_groups()
    assert [labels[k] for k in h0] == ["tau[0]", "bias[0]", "gain[0]", "w[0,0]", "w_in[0,0]", "y0[0]"]
    assert [labels[k] for k in m0] == ["tau[1]", "bias[1]", "gain[1]", "w[1,0]", "y0[1]"]


def test_elman_hidden_unit_holds_its_outgoing_weights_and_output_biases_are_the_rest() -> None:
    # 2 hidden units, 1 input, 1 output: w_in (2,1) genes 0-1, w_rec (2,2) 2-5, b_h 6-7,
    # w_out (1,2) 8-9, b_o 10.
    ctrl = make(Elman, n_in=1, n_out=1, hidden=2)
    h0, h1, rest = ctrl.gene_groups()
    np.testing.assert_array_equal(h0, [0, 2, 3, 6, 8])  # w_in[0,0], w_rec[0,:], b_h[0], w_out[0,0]
    np.testing.assert_array_equal(h1, [1, 4, 5, 7, 9])
    np.testing.assert_array_equal(rest, [10])
    assert ctrl.layout.labels()[8] == "w_out[0,0]"


@pytest.mark.parametrize("hidden", [3, 4])
def test_symmetric_ctrnn_still_partitions_one_group_per_mirrored_pair(hidden: int) -> None:
    ctrl = make(CTRNN, n_in=3, n_out=2, hidden=hidden, symmetric=True)
    groups = ctrl.gene_groups()
    assert_partition(groups, ctrl.genome_size)
    # mirrored pairs share genes and go to their first neuron; an odd group's middle neuron
    # is its own mirror
    assert len(groups) == (hidden + 1) // 2 + 1


def test_shared_sensory_neurons_leave_their_genes_to_the_first() -> None:
    ctrl = make(CTRNN, n_in=3, n_out=2, hidden=2, sensor_neurons=True)
    groups = ctrl.gene_groups()
    assert_partition(groups, ctrl.genome_size)
    labels = ctrl.layout.labels()
    assert len(groups) == 1 + 2 + 2  # s0 (the shared tau, bias), h0, h1, m0, m1
    assert [labels[k] for k in groups[0]] == ["tau[0]", "bias[0]"]


def test_layout_groups_axes_offsets_and_rest() -> None:
    layout = GeneLayout([Block("a", (2, 3), -1.0, 1.0), Block("b", (3, 2), -1.0, 1.0), Block("c", (2,), -1.0, 1.0),
                         Block("d", (2,), -1.0, 1.0)])
    # a: genes 0-5 by row; b (3, 2): genes 6-11, units by column at offset 2; c: rest; d: None
    groups = layout.groups({"a": 0, "b": (1, 2), "d": None})
    expected = [[0, 1, 2], [3, 4, 5], [6, 8, 10], [7, 9, 11], [12, 13, 14, 15]]
    assert [g.tolist() for g in groups] == expected
    assert [g.tolist() for g in layout.groups({"a": 1})] == [[0, 3], [1, 4], [2, 5], list(range(6, 16))]
    assert [g.tolist() for g in layout.groups({})] == [list(range(16))]
    with pytest.raises(ValueError, match="no block `e`"):
        layout.groups({"e": 0})
    with pytest.raises(ValueError, match="no axis 2"):
        layout.groups({"a": 2})
