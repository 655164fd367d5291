"""Gene layouts: genes in [-1, 1] mapped linearly onto parameter ranges.

Every gene lies in [-1, 1] and maps linearly onto its parameter's closed range [lo, hi]::

    p = lo + (g + 1) / 2 * (hi - lo)

(evaluated as ``lo * (1 - t) + hi * t`` with ``t = (g + 1) / 2``, so that -1 and 1 give ``lo`` and
``hi`` exactly), the convention of Beer's TSearch and of Beer (1995, 2003). A :class:`GeneLayout`
is built from named parameter blocks (:class:`Block`), each with a shape, a range, and optionally

- a boolean ``mask``: masked-out entries (absent connections) take no gene and decode to exactly
  0.0;
- a ``mirror``: an involution on the block's flat entries (bilateral symmetry, Beer 2003). Each
  orbit ``{k, mirror[k]}`` shares one gene; an entry that maps onto itself has its own gene.

A block whose range is a single point (``lo == hi``) is constant: it takes no gene and decodes
to ``lo`` (0.0 where masked). Genes are numbered block by block, and within a block in the order
of each orbit's first flat (C-order) entry. Decoding is pure, vectorised numpy (one gather per
block); values outside [-1, 1] saturate at the range ends.
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
    lo, hi : float
        Closed range the genes map onto; ``lo == hi`` makes the block constant (no genes).
    mask : bool array of ``shape``, optional
        False marks absent entries: no gene, decoded to exactly 0.0.
    mirror : int array of ``prod(shape)`` flat indices, optional
        Symmetry map ``entry -> mirrored entry``; must be an involution that respects ``mask``.
    """

    name: str
    shape: tuple[int, ...]
    lo: float
    hi: float
    mask: BoolArray | None = None
    mirror: IntArray | None = None


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
            if not block.lo <= block.hi:
                raise ValueError(f"block `{block.name}`: range [{block.lo}, {block.hi}] is empty")
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
            # fill: value of entries without a gene (masked -> 0.0, constant block -> lo)
            self._fill[block.name] = np.where(mask, float(block.lo), 0.0).reshape(shape)
            gene = np.full(size, -1, dtype=np.int64)
            if block.lo < block.hi:
                rep = np.minimum(entries, mirror)
                reps = np.unique(rep[mask])
                gene_of_rep = np.full(size, -1, dtype=np.int64)
                gene_of_rep[reps] = g + np.arange(len(reps))
                gene = np.where(mask, gene_of_rep[rep], -1)
                for r in reps:
                    self._gene_entry.append((block.name, tuple(int(v) for v in np.unravel_index(r, shape))))
                lo += [float(block.lo)] * len(reps)
                hi += [float(block.hi)] * len(reps)
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
