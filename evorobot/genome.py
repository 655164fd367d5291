"""Gene layouts: genes in [-1, 1] mapped linearly onto parameter ranges.

Every gene lies in [-1, 1] and maps linearly onto its parameter's closed range [lo, hi]::

    p = lo + (g + 1) / 2 * (hi - lo)

(evaluated as ``lo * (1 - t) + hi * t`` with ``t = (g + 1) / 2``, so that -1 and 1 give ``lo`` and
``hi`` exactly), the convention of Beer's TSearch and of Beer (1995, 2003). A :class:`GeneLayout`
is built from named parameter blocks (:class:`Block`), each with a shape, a range (one for the
whole block, or one per entry: per-group ranges), and optionally

- a boolean ``mask``: masked-out entries (absent connections) take no gene and decode to exactly
  0.0;
- a ``mirror``: an involution on the block's flat entries (bilateral symmetry, Beer 2003). Each
  orbit ``{k, mirror[k]}`` shares one gene; an entry that maps onto itself has its own gene;
- a ``tie``: one label per entry; entries with equal labels share one gene (one time constant for
  a whole group of neurons, say). Ties and the mirror combine: an orbit is a connected set of
  entries under both, and all its entries must agree in mask and range.

An entry whose range is a single point (``lo == hi``) is constant: it takes no gene and decodes
to ``lo`` (0.0 where masked); a block whose ranges are all single points takes no genes. Genes are
numbered block by block, and within a block in the order of each orbit's first flat (C-order)
entry. Decoding is pure, vectorised numpy (one gather per block); values outside [-1, 1]
saturate at the range ends.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from evorobot._types import BoolArray, FloatArray, IntArray

__all__ = ["Block", "GeneLayout", "axis_mirror"]


@dataclass(frozen=True, eq=False)
class Block:
    """One named parameter block of a genome.

    Parameters
    ----------
    name : str
        Key of the decoded array.
    shape : tuple of int
        Shape of one network's parameter array (the decoded array is ``(B, *shape)``).
    lo, hi : float or float array broadcastable to ``shape``
        Closed range the genes map onto, for the whole block or per entry; an entry with
        ``lo == hi`` is constant (no gene).
    mask : bool array of ``shape``, optional
        False marks absent entries: no gene, decoded to exactly 0.0.
    mirror : int array of ``prod(shape)`` flat indices, optional
        Symmetry map ``entry -> mirrored entry``; must be an involution that respects ``mask``.
    tie : int array of ``prod(shape)`` labels, optional
        Entries with equal labels share one gene.
    """

    name: str
    shape: tuple[int, ...]
    lo: float | FloatArray
    hi: float | FloatArray
    mask: BoolArray | None = None
    mirror: IntArray | None = None
    tie: IntArray | None = None


def axis_mirror(*perms: npt.ArrayLike) -> IntArray:
    """Flat mirror map of an n-d block from one permutation per axis.

    Entry ``(i, j, ...)`` maps to ``(perms[0][i], perms[1][j], ...)``.

    Parameters
    ----------
    *perms : int arrays, one per axis
        ``perms[a]`` has the length of axis ``a``.

    Returns
    -------
    IntArray, shape (prod(lengths),)
        Flat C-order index of each entry's mirror.
    """
    ps = [np.asarray(p, dtype=np.int64) for p in perms]
    shape = tuple(len(p) for p in ps)
    grids = np.meshgrid(*ps, indexing="ij")
    return np.ravel_multi_index(tuple(grids), shape).reshape(-1).astype(np.int64)


def _orbit_representatives(block: Block, mirror: IntArray, size: int) -> IntArray:
    """Smallest flat entry of each entry's orbit under the mirror and the ties."""
    rep = np.arange(size, dtype=np.int64)
    labels = None
    if block.tie is not None:
        tie = np.asarray(block.tie, dtype=np.int64).reshape(-1)
        if tie.shape != (size,):
            raise ValueError(f"block `{block.name}`: tie must hold {size} labels")
        labels = np.unique(tie, return_inverse=True)[1].reshape(-1)
    while True:  # a few rounds: each joins orbits along mirror pairs, then along ties
        new = np.minimum(rep, rep[mirror])
        if labels is not None:
            least = np.full(int(labels.max()) + 1 if size else 0, size, dtype=np.int64)
            np.minimum.at(least, labels, new)
            new = least[labels]
        if np.array_equal(new, rep):
            return rep
        rep = new


class GeneLayout:
    """Maps genomes ``(B, G)`` in [-1, 1] to named parameter arrays and back.

    Parameters
    ----------
    blocks : sequence of Block
        Parameter blocks, in genome order; names must be unique.

    Attributes
    ----------
    genome_size : int
        Number of genes ``G``.
    """

    def __init__(self, blocks: Sequence[Block]) -> None:
        self.blocks: tuple[Block, ...] = tuple(blocks)
        names = [b.name for b in self.blocks]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate block names in {names}")
        lo: list[float] = []
        hi: list[float] = []
        self._gene_entry: list[tuple[str, tuple[int, ...]]] = []
        self._entry_gene: dict[str, IntArray] = {}
        self._fill: dict[str, FloatArray] = {}
        g = 0
        for block in self.blocks:
            shape = tuple(int(s) for s in block.shape)
            size = math.prod(shape)
            try:
                b_lo = np.broadcast_to(np.asarray(block.lo, dtype=np.float64), shape).reshape(-1)
                b_hi = np.broadcast_to(np.asarray(block.hi, dtype=np.float64), shape).reshape(-1)
            except ValueError:
                raise ValueError(f"block `{block.name}`: ranges do not broadcast to {shape}") from None
            if not np.all(b_lo <= b_hi):
                k = int(np.argmin(b_lo <= b_hi))
                raise ValueError(f"block `{block.name}`: range [{b_lo[k]}, {b_hi[k]}] is empty")
            mask = np.ones(size, dtype=bool)
            if block.mask is not None:
                m = np.asarray(block.mask, dtype=bool)
                if m.shape != shape:
                    raise ValueError(f"block `{block.name}`: mask shape {m.shape} != {shape}")
                mask = m.reshape(-1).copy()
            entries = np.arange(size, dtype=np.int64)
            mirror = entries
            if block.mirror is not None:
                mirror = np.asarray(block.mirror, dtype=np.int64).reshape(-1)
                if mirror.shape != (size,) or (size and (mirror.min() < 0 or mirror.max() >= size)):
                    raise ValueError(f"block `{block.name}`: mirror must hold {size} flat indices")
                if not np.array_equal(mirror[mirror], entries):
                    raise ValueError(f"block `{block.name}`: mirror is not an involution")
                if not np.array_equal(mask[mirror], mask):
                    raise ValueError(f"block `{block.name}`: mirror does not respect the mask")
            rep = _orbit_representatives(block, mirror, size)
            if not (np.array_equal(mask[rep], mask) and np.array_equal(b_lo[rep], b_lo)
                    and np.array_equal(b_hi[rep], b_hi)):
                raise ValueError(f"block `{block.name}`: entries that share a gene differ in mask or range")
            # fill: value of entries without a gene (masked -> 0.0, constant entry -> lo)
            self._fill[block.name] = np.where(mask, b_lo, 0.0).reshape(shape)
            has = mask & (b_lo < b_hi)
            reps = np.unique(rep[has])
            gene_of_rep = np.full(size, -1, dtype=np.int64)
            gene_of_rep[reps] = g + np.arange(len(reps))
            gene = np.where(has, gene_of_rep[rep], -1)
            for r in reps:
                self._gene_entry.append((block.name, tuple(int(v) for v in np.unravel_index(r, shape))))
            lo += b_lo[reps].tolist()
            hi += b_hi[reps].tolist()
            g += len(reps)
            self._entry_gene[block.name] = gene.reshape(shape)
        self.genome_size: int = g
        self._lo = np.array(lo, dtype=np.float64)
        self._hi = np.array(hi, dtype=np.float64)

    def entry_genes(self, name: str) -> IntArray:
        """Gene index of every entry of block ``name`` (shape of the block; -1 = no gene)."""
        return self._entry_gene[name].copy()

    def genes(self) -> list[tuple[str, tuple[int, ...]]]:
        """What each gene means: ``(block name, index of the orbit's first entry)``, in order."""
        return list(self._gene_entry)

    def groups(self, axes: Mapping[str, int | tuple[int, int] | None]) -> tuple[IntArray, ...]:
        """Partition the genes by unit (neuron): the gene groups of ESP (Gomez & Miikkulainen 1999).

        Parameters
        ----------
        axes : mapping of block name to axis, ``(axis, offset)`` or None
            A gene of block ``name`` belongs to unit ``offset + index[axis]``, where ``index`` is
            its orbit's first entry (:meth:`genes`; a gene that mirrored or tied entries share
            goes to the unit of the first of them). ``offset`` (default 0) numbers the units of
            several layers apart. Genes of blocks mapped to None or absent go to the rest.

        Returns
        -------
        tuple of IntArray
            One array of ascending gene indices per unit that has genes, units in ascending
            order, then the rest if it has genes: a partition of ``range(genome_size)``.

        Raises
        ------
        ValueError
            A name that is no block of this layout, or an axis the block does not have.
        """
        shapes = {b.name: len(tuple(b.shape)) for b in self.blocks}
        where: dict[str, tuple[int, int]] = {}
        for name, spec in axes.items():
            if name not in shapes:
                raise ValueError(f"no block `{name}` in this layout (blocks: {', '.join(shapes)})")
            if spec is None:
                continue
            axis, offset = (spec, 0) if isinstance(spec, int) else spec
            if not 0 <= axis < shapes[name]:
                raise ValueError(f"block `{name}` has no axis {axis}")
            where[name] = (int(axis), int(offset))
        unit = np.full(self.genome_size, -1, dtype=np.int64)
        for k, (name, idx) in enumerate(self._gene_entry):
            if name in where:
                axis, offset = where[name]
                unit[k] = offset + idx[axis]
        out = [np.flatnonzero(unit == u).astype(np.int64) for u in np.unique(unit[unit >= 0])]
        rest = np.flatnonzero(unit < 0).astype(np.int64)
        return tuple(out + ([rest] if rest.size else []))

    def labels(self) -> list[str]:
        """Readable gene names such as ``"w[3,1]"``, one per gene."""
        return [f"{n}[{','.join(str(i) for i in idx)}]" for n, idx in self._gene_entry]

    def _check(self, genomes: npt.ArrayLike) -> FloatArray:
        arr = np.asarray(genomes, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != self.genome_size:
            raise ValueError(f"genomes must have shape (B, {self.genome_size}), got {arr.shape}")
        return arr

    def decode(self, genomes: npt.ArrayLike) -> dict[str, FloatArray]:
        """Map genes to parameters.

        Parameters
        ----------
        genomes : array, shape (B, G)
            Genes in [-1, 1] (values outside saturate at the range ends).

        Returns
        -------
        dict of str to FloatArray
            For each block, a fresh C-contiguous ``(B, *shape)`` float64 array.
        """
        arr = self._check(genomes)
        t = (arr + 1.0) * 0.5
        p = np.clip(self._lo * (1.0 - t) + self._hi * t, self._lo, self._hi)
        n = arr.shape[0]
        out: dict[str, FloatArray] = {}
        for block in self.blocks:
            gene = self._entry_gene[block.name]
            fill = self._fill[block.name]
            has = gene >= 0
            if not has.any():
                out[block.name] = np.array(np.broadcast_to(fill, (n, *fill.shape)))
                continue
            vals = p[:, np.where(has, gene, 0).reshape(-1)].reshape(n, *gene.shape)
            out[block.name] = np.ascontiguousarray(np.where(has, vals, fill))
        return out

    def set_block(
        self, genomes: npt.ArrayLike, name: str, values: npt.ArrayLike, where: npt.ArrayLike | None = None
    ) -> FloatArray:
        """Copy of ``genomes`` with the genes of block ``name`` encoded from ``values``.

        Parameters
        ----------
        genomes : array, shape (B, G)
        name : str
            A block of this layout.
        values : array, shape (B, *shape)
            Parameter values; each gene reads its orbit's first entry and is clipped to [-1, 1].
        where : bool array of the block's shape, optional
            Only genes whose orbit's first entry is True here are set.

        Returns
        -------
        FloatArray, shape (B, G)
            Every other gene is copied bit for bit.
        """
        out = self._check(genomes).copy()
        vals = np.asarray(values, dtype=np.float64)
        sel = None if where is None else np.asarray(where, dtype=bool)
        for k, (block, idx) in enumerate(self._gene_entry):
            if block != name or (sel is not None and not sel[idx]):
                continue
            v = vals[(slice(None), *idx)]
            out[:, k] = np.clip(2.0 * (v - self._lo[k]) / (self._hi[k] - self._lo[k]) - 1.0, -1.0, 1.0)
        return out

    def encode(self, params: Mapping[str, npt.ArrayLike]) -> FloatArray:
        """Inverse of :meth:`decode`: genes from parameters (each orbit reads its first entry).

        Parameters
        ----------
        params : mapping of str to array, each ``(B, *shape)``
            Values for every block that has genes.

        Returns
        -------
        FloatArray, shape (B, G)
            Genes, clipped to [-1, 1].
        """
        cols: list[FloatArray] = []
        for name, idx in self._gene_entry:
            cols.append(np.asarray(params[name], dtype=np.float64)[(slice(None), *idx)])
        if not cols:
            return np.zeros((len(next(iter(params.values()), ())), 0))
        p = np.stack(cols, axis=1)
        g = 2.0 * (p - self._lo) / (self._hi - self._lo) - 1.0
        return np.clip(g, -1.0, 1.0)
