"""Per-leaf SHAP tables of symmetric trees: exact TreeSHAP values, computed once, gathered per row.

In a symmetric tree every split of a level is the same, so the path-dependent TreeSHAP value of a feature
class for an applicant depends only on the leaf the applicant reaches: a table of leaves x features per
tree holds every answer. The table is built from the Shapley formula over the tree's feature classes
(at most its depth, so at most 2^6 coalitions), with the conditional expectation TreeSHAP uses: a split
whose class is in the coalition follows the applicant, any other split weighs both children by the
training weight that reached them. CatBoost's conventions, checked against its `ShapValues` by the
tests: the root is the tree's last split; leaves no training row reached are left out; a class shared
by several features (a CTR on a combination) is split equally among them; the expected value is the
weight-averaged leaf value of every tree plus the model's bias.

All trees of one depth are computed together (numpy over trees, leaves and coalitions); trees whose
splits repeat a class in the same pattern share one coalition-weight matrix.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.sparse import csr_matrix

from app.core.explain.oblivious_trees import FeatureClass, ObliviousForest, ObliviousTree

SPARSE_FROM_ROWS = 4  # fewer rows: gather and add their table rows directly


@dataclass(frozen=True)
class ShapTables:
    """One row per (tree, leaf) of every tree, stacked; `offsets[t]` is the first row of tree t."""

    table: np.ndarray  # (total leaves, features), float64
    offsets: np.ndarray  # (trees,), int64
    expected_value: float

    def contributions(self, leaf_indexes: np.ndarray) -> np.ndarray:
        """SHAP values (rows x features) of rows given CatBoost's leaf index per tree (rows x trees): the
        sum of the table rows they pick, for many rows as a product of a sparse one-hot matrix of the
        picked rows with the table (no rows x trees x features temporary)."""
        picked = np.asarray(leaf_indexes, dtype=np.int64) + self.offsets
        count, trees = picked.shape
        if count < SPARSE_FROM_ROWS:
            return self.table[picked].sum(axis=1)
        one_hot = csr_matrix(
            (np.ones(count * trees), picked.ravel(), np.arange(0, count * trees + 1, trees)),
            shape=(count, len(self.table)),
        )
        return np.asarray(one_hot @ self.table)


def shap_tables(forest: ObliviousForest) -> ShapTables:
    """The per-leaf SHAP tables of every tree of `forest`."""
    sizes = [len(tree.leaf_values) for tree in forest.trees]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    table = np.zeros((sum(sizes), forest.feature_count))
    expected = forest.bias
    by_depth: dict[int, list[int]] = defaultdict(list)
    for index, tree in enumerate(forest.trees):
        by_depth[tree.depth].append(index)
    for depth, indexes in by_depth.items():
        trees = [forest.trees[i] for i in indexes]
        values = np.array([t.leaf_values for t in trees])
        weights = np.array([t.leaf_weights for t in trees])
        expected += float(np.sum((values * weights).sum(axis=1) / weights.sum(axis=1)))
        if depth == 0:
            continue
        coalition_values = _coalition_values(values, weights, depth)
        by_pattern: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for position, tree in enumerate(trees):
            by_pattern[_pattern(tree)].append(position)
        for pattern, positions in by_pattern.items():
            phi = np.einsum("cl,tlm->tcm", _shapley_weights(pattern), coalition_values[positions])
            shares = _feature_shares([trees[p] for p in positions], len(set(pattern)), forest.feature_count)
            rows = offsets[[indexes[p] for p in positions]][:, None] + np.arange(1 << depth)
            table[rows] = np.einsum("tcm,tcf->tmf", phi, shares)
    return ShapTables(table, offsets, expected)


def _coalition_values(values: np.ndarray, weights: np.ndarray, depth: int) -> np.ndarray:
    """F[t, L, leaf]: the expected leaf value of tree t for an applicant in `leaf` when the levels in
    the bit mask L follow the applicant and the others split by training weight (levels from the root:
    level d decides leaf bit depth-1-d)."""
    trees, leaves = values.shape
    reached = np.where(weights > 0, values, 0.0)
    leaf = np.arange(leaves)
    fraction = np.ones((trees, depth, leaves))  # weight of the child on the leaf's path / weight of the node
    for level in range(depth):
        parent = weights.reshape(trees, 1 << level, -1).sum(axis=2)[:, leaf >> (depth - level)]
        child = weights.reshape(trees, 1 << (level + 1), -1).sum(axis=2)[:, leaf >> (depth - level - 1)]
        fraction[:, level] = np.divide(child, parent, out=np.zeros_like(child), where=parent > 0)
    full = (1 << depth) - 1
    free_product = np.empty((1 << depth, trees, leaves))  # product of the fractions of the levels not in the mask
    free_product[full] = 1.0
    for mask in range(full - 1, -1, -1):
        level = (~mask & full & -(~mask & full)).bit_length() - 1  # the lowest level not in the mask
        free_product[mask] = free_product[mask | 1 << level] * fraction[:, level]
    out = np.empty((trees, 1 << depth, leaves))
    binary_shape = (trees,) + (2,) * depth  # axis 1 + d: the bit of level d (the root's bit first)
    for mask in range(1 << depth):
        free = tuple(1 + level for level in range(depth) if not mask >> level & 1)
        summed = (reached * free_product[mask]).reshape(binary_shape).sum(axis=free, keepdims=True)
        out[:, mask] = np.broadcast_to(summed, binary_shape).reshape(trees, leaves)
    return out


def _levels_from_root(tree: ObliviousTree) -> tuple[FeatureClass, ...]:
    """The class of each level, the root first (CatBoost's root is the tree's last split)."""
    return tree.split_classes[::-1]


def _pattern(tree: ObliviousTree) -> tuple[int, ...]:
    """Which levels share a class: a label per level, numbered by first appearance."""
    labels: dict[FeatureClass, int] = {}
    return tuple(labels.setdefault(c, len(labels)) for c in _levels_from_root(tree))


@lru_cache(maxsize=None)
def _shapley_weights(pattern: tuple[int, ...]) -> np.ndarray:
    """Q[c, L]: phi_c = sum over L of Q[c, L] F[L], the Shapley value of class c over the coalitions S of
    the tree's classes: sum over S without c of |S|! (k-|S|-1)! / k! (F[levels of S and c] - F[levels of S])."""
    count = max(pattern) + 1
    class_levels = np.zeros(count, dtype=np.int64)  # the bit mask of the levels of each class
    for level, label in enumerate(pattern):
        class_levels[label] |= 1 << level
    coalitions = np.arange(1 << count)
    members = (coalitions[:, None] >> np.arange(count)) & 1
    levels = (members * class_levels).sum(axis=1)  # the level mask of each coalition
    sizes = members.sum(axis=1)
    share = np.array([math.factorial(s) * math.factorial(count - s - 1) / math.factorial(count) for s in range(count)])
    weights = np.zeros((count, 1 << len(pattern)))
    for label in range(count):
        without = coalitions[members[:, label] == 0]
        np.add.at(weights[label], levels[without] | class_levels[label], share[sizes[without]])
        np.add.at(weights[label], levels[without], -share[sizes[without]])
    return weights


def _feature_shares(trees: list[ObliviousTree], classes: int, features: int) -> np.ndarray:
    """S[t, c, f]: the share of class c of tree t credited to feature f (1 / the features of the class)."""
    shares = np.zeros((len(trees), classes, features))
    for position, tree in enumerate(trees):
        for label, members in enumerate(dict.fromkeys(_levels_from_root(tree))):
            shares[position, label, list(members)] = 1.0 / max(len(members), 1)
    return shares
