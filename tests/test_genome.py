"""Gene layouts: linear range mapping, masks, symmetric orbits, gene names."""

from __future__ import annotations

import numpy as np
import pytest

from evorobot.genome import Block, GeneLayout, axis_mirror


def test_ends_of_the_gene_range_decode_to_the_ends_of_the_parameter_range_exactly() -> None:
    ranges = [(-5.0, 5.0), (1.0, 2.0), (-0.7, 0.3), (1.1, 5.3), (-3.3, 2.9)]  # lo + (hi - lo) != hi
    layout = GeneLayout([Block(f"p{i}", (3,), lo, hi) for i, (lo, hi) in enumerate(ranges)])
    assert layout.genome_size == 15
    lo_hi = layout.decode(np.stack([-np.ones(15), np.ones(15)]))
    for i, (lo, hi) in enumerate(ranges):
        assert np.all(lo_hi[f"p{i}"][0] == lo)
        assert np.all(lo_hi[f"p{i}"][1] == hi)


def test_decode_is_linear_and_stays_in_range() -> None:
    layout = GeneLayout([Block("a", (2, 3), -4.0, 6.0)])
    g = np.random.default_rng(1).uniform(-1, 1, (100, 6))
    a = layout.decode(g)["a"]
    assert a.shape == (100, 2, 3) and a.flags.c_contiguous and a.flags.writeable
    np.testing.assert_allclose(a.reshape(100, 6), -4.0 + (g + 1) / 2 * 10.0, rtol=0, atol=1e-14)
    assert a.min() >= -4.0 and a.max() <= 6.0
    np.testing.assert_allclose(layout.decode(np.zeros((1, 6)))["a"], 1.0, atol=1e-15)
    # out-of-range genes saturate rather than leave the range
    assert np.all(layout.decode(np.full((1, 6), 3.0))["a"] == 6.0)


def test_masked_entries_take_no_gene_and_decode_to_zero() -> None:
    mask = np.array([[True, False, True], [False, False, True]])
    layout = GeneLayout([Block("t", (2,), 1.0, 2.0), Block("w", (2, 3), 1.0, 3.0, mask=mask)])
    assert layout.genome_size == 2 + 3
    w = layout.decode(np.ones((4, 5)))["w"]
    assert np.all(w[:, ~mask] == 0.0)  # exactly zero although the range excludes 0
    assert np.all(w[:, mask] == 3.0)
    assert layout.genes() == [("t", (0,)), ("t", (1,)), ("w", (0, 0)), ("w", (0, 2)), ("w", (1, 2))]
    assert layout.labels()[2:] == ["w[0,0]", "w[0,2]", "w[1,2]"]


def test_constant_range_takes_no_gene() -> None:
    layout = GeneLayout([Block("g", (3,), 1.0, 1.0), Block("b", (2,), -1.0, 1.0)])
    assert layout.genome_size == 2
    out = layout.decode(np.zeros((2, 2)))
    assert np.all(out["g"] == 1.0) and out["g"].flags.writeable


def _orbits(n: int, mirror: np.ndarray, mask: np.ndarray) -> int:
    seen = set()
    for k in range(n):
        if mask[k]:
            seen.add(frozenset((k, int(mirror[k]))))
    return len(seen)


@pytest.mark.parametrize("n", [4, 5, 1, 0])
def test_symmetric_orbits_share_one_gene(n: int) -> None:
    rev = np.arange(n)[::-1]
    layout = GeneLayout(
        [Block("v", (n,), -1.0, 1.0, mirror=rev), Block("m", (n, n), 0.0, 1.0, mirror=axis_mirror(rev, rev))]
    )
    assert layout.genome_size == (n + 1) // 2 + (n * n + n % 2) // 2
    g = np.random.default_rng(n).uniform(-1, 1, (3, layout.genome_size))
    out = layout.decode(g)
    np.testing.assert_array_equal(out["v"], out["v"][:, ::-1])
    np.testing.assert_array_equal(out["m"], out["m"][:, ::-1, ::-1])
    # each gene moves exactly its orbit {e, mirror(e)}, and orbits do not share genes
    for name, mirror in (("v", rev), ("m", axis_mirror(rev, rev))):
        gene = layout.entry_genes(name).reshape(-1)
        np.testing.assert_array_equal(gene, gene[mirror])
        assert len(set(gene.tolist())) == _orbits(len(gene), mirror, np.ones(len(gene), bool))
    for k in range(layout.genome_size):
        g2 = g.copy()
        g2[:, k] = -g2[:, k] - 0.5
        for name, arr in layout.decode(g2).items():
            moved = np.any(arr != out[name], axis=0)
            np.testing.assert_array_equal(moved, layout.entry_genes(name) == k)


def test_symmetric_with_mask_matches_brute_force_orbit_count() -> None:
    rng = np.random.default_rng(3)
    n_rows, n_cols = 5, 7
    m = axis_mirror(np.arange(n_rows)[::-1], np.arange(n_cols)[::-1])
    mask = rng.random(n_rows * n_cols) < 0.6
    mask = mask & mask[m]  # symmetric mask
    layout = GeneLayout([Block("w", (n_rows, n_cols), -2.0, 2.0, 
                                mask=mask.reshape(n_rows, n_cols), mirror=m)])
    assert layout.genome_size == _orbits(n_rows * n_cols, m, mask)
    w = layout.decode(rng.uniform(-1, 1, (2, layout.genome_size)))["w"].reshape(2, -1)
    np.testing.assert_array_equal(w, w[:, m])
    assert np.all(w[:, ~mask] == 0.0)


def test_encode_inverts_decode() -> None:
    rev = np.arange(3)[::-1]
    eye = np.eye(2, dtype=bool)
    layout = GeneLayout([Block("a", (3,), 1.0, 2.0, mirror=rev), Block("b", (2, 2), -5.0, 5.0, mask=eye)])
    g = np.random.default_rng(0).uniform(-1, 1, (4, layout.genome_size))
    np.testing.assert_allclose(layout.encode(layout.decode(g)), g, atol=1e-14)


def test_bad_input_is_rejected() -> None:
    layout = GeneLayout([Block("a", (3,), 0.0, 1.0)])
    with pytest.raises(ValueError, match=r"\(B, 3\)"):
        layout.decode(np.zeros(3))
    with pytest.raises(ValueError, match=r"\(B, 3\)"):
        layout.decode(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="involution"):
        GeneLayout([Block("a", (3,), 0.0, 1.0, mirror=np.array([1, 2, 0]))])
    with pytest.raises(ValueError, match="mask"):
        GeneLayout([Block("a", (2,), 0.0, 1.0, mask=np.array([True, False]), mirror=np.array([1, 0]))])
    with pytest.raises(ValueError, match="duplicate"):
        GeneLayout([Block("a", (1,), 0.0, 1.0), Block("a", (1,), 0.0, 1.0)])


def test_per_entry_ranges() -> None:
    lo, hi = np.array([1.0, 2.0, 5.0, 0.0]), np.array([2.0, 2.0, 70.0, 1.0])
    layout = GeneLayout([Block("tau", (4,), lo, hi)])
    assert layout.genome_size == 3 and layout.genes() == [("tau", (0,)), ("tau", (2,)), ("tau", (3,))]
    out = layout.decode(np.array([[-1.0, 1.0, 0.0], [1.0, -1.0, 1.0]]))["tau"]
    np.testing.assert_array_equal(out, [[1.0, 2.0, 70.0, 0.5], [2.0, 2.0, 5.0, 1.0]])  # entry 1 is fixed
    np.testing.assert_allclose(layout.encode({"tau": out}), [[-1.0, 1.0, 0.0], [1.0, -1.0, 1.0]], atol=1e-15)
    with pytest.raises(ValueError, match="broadcast"):
        GeneLayout([Block("a", (3,), np.zeros(2), 1.0)])
    with pytest.raises(ValueError, match=r"range \[3.0, 2.0\] is empty"):
        GeneLayout([Block("a", (2,), np.array([0.0, 3.0]), 2.0)])


def test_tied_entries_share_one_gene_and_combine_with_the_mirror() -> None:
    # entries 0..2 tied (a shared group), 3..6 free; mirror reverses 0..2 and 3..6 separately
    mirror = np.array([2, 1, 0, 6, 5, 4, 3])
    tie = np.array([0, 0, 0, 3, 4, 5, 6])
    layout = GeneLayout([Block("v", (7,), -1.0, 1.0, tie=tie)])
    assert layout.genome_size == 5
    both = GeneLayout([Block("v", (7,), -1.0, 1.0, mirror=mirror, tie=tie)])
    assert both.genome_size == 1 + 2 and both.genes() == [("v", (0,)), ("v", (3,)), ("v", (4,))]
    v = both.decode(np.array([[0.2, -0.4, 0.6]]))["v"][0]
    np.testing.assert_allclose(v, [0.2, 0.2, 0.2, -0.4, 0.6, 0.6, -0.4], atol=1e-15)
    chain = GeneLayout([Block("v", (4,), -1.0, 1.0, mirror=np.array([1, 0, 3, 2]), tie=np.array([0, 1, 1, 3]))])
    assert chain.genome_size == 1  # 0~1 by the mirror, 1~2 by the tie, 2~3 by the mirror
    with pytest.raises(ValueError, match="share a gene differ"):
        GeneLayout([Block("v", (2,), np.array([0.0, 1.0]), 2.0, tie=np.array([0, 0]))])
    with pytest.raises(ValueError, match="share a gene differ"):
        GeneLayout([Block("v", (2,), 0.0, 1.0, mask=np.array([True, False]), tie=np.array([5, 5]))])
    with pytest.raises(ValueError, match="2 labels"):
        GeneLayout([Block("v", (2,), 0.0, 1.0, tie=np.array([0, 0, 0]))])


def test_set_block_rewrites_one_block_and_copies_the_rest_bit_for_bit() -> None:
    rev = np.arange(3)[::-1]
    layout = GeneLayout([Block("a", (3,), -5.0, 5.0, mirror=rev), Block("b", (2,), 1.0, 2.0)])
    g = np.random.default_rng(1).uniform(-1, 1, (4, layout.genome_size))
    target = np.array([[1.0, -2.0, 1.0]] * 4)
    out = layout.set_block(g, "a", target)
    np.testing.assert_allclose(layout.decode(out)["a"], target, atol=1e-14)
    np.testing.assert_array_equal(out[:, 2:], g[:, 2:])
    some = layout.set_block(g, "a", target, where=np.array([False, True, False]))
    np.testing.assert_array_equal(some[:, 0], g[:, 0])  # orbit {0, 2} not selected
    np.testing.assert_allclose(layout.decode(some)["a"][:, 1], -2.0, atol=1e-14)
    assert np.all(layout.set_block(g, "a", np.full((4, 3), 99.0))[:, :2] == 1.0)  # clipped into [-1, 1]
    assert not np.shares_memory(out, g)
