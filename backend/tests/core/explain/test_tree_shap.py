"""Per-leaf SHAP tables: equal to CatBoost's own ShapValues, and to the Shapley formula computed the slow way."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from catboost import CatBoostClassifier, Pool

from app.core.explain.oblivious_trees import (
    ObliviousForest,
    ObliviousTree,
    UnsupportedForest,
    parse_forest,
    read_forest,
)
from app.core.explain.tree_shap import shap_tables

CATEGORICAL = ["city", "plan", "channel"]


@pytest.fixture(scope="module")
def synthetic() -> tuple[pd.DataFrame, pd.Series]:
    """Numbers (one with missing values), a many-valued, a two-valued and a five-valued category."""
    rng = np.random.default_rng(0)
    n = 400
    x = pd.DataFrame(
        {
            "income": rng.normal(size=n),
            "tenure": rng.integers(0, 5, n).astype(float),
            "city": rng.choice(list("pqrstuvw"), n),
            "plan": rng.choice(["basic", "plus"], n),
            "channel": rng.choice(["web", "shop", "phone", "mail", "agent"], n),
        }
    )
    x.loc[rng.random(n) < 0.1, "income"] = np.nan
    signal = x["income"].fillna(0) + x["city"].isin(list("pqr")) + 0.5 * (x["plan"] == "plus")
    return x, ((signal + rng.normal(size=n)) > 0.8).astype(int)


def fit(synthetic: tuple[pd.DataFrame, pd.Series], **params: object) -> CatBoostClassifier:
    x, y = synthetic
    model = CatBoostClassifier(iterations=60, verbose=False, random_seed=1, cat_features=CATEGORICAL, **params)
    return model.fit(x, y)


@pytest.mark.parametrize(
    "params",
    [
        {"depth": 4},
        {"depth": 6, "one_hot_max_size": 2, "max_ctr_complexity": 3},  # one-hot splits, CTRs of combinations
        {"depth": 3, "one_hot_max_size": 10},  # every category one-hot
        {"depth": 5, "boost_from_average": True},  # a bias in the expected value
    ],
)
def test_tables_equal_catboosts_shap_values(synthetic: tuple[pd.DataFrame, pd.Series], params: dict) -> None:
    model = fit(synthetic, **params)
    x, _ = synthetic
    pool = Pool(x, cat_features=CATEGORICAL)
    reference = model.get_feature_importance(pool, type="ShapValues")
    tables = shap_tables(read_forest(model, x.shape[1]))
    contributions = tables.contributions(model.calc_leaf_indexes(pool))
    np.testing.assert_allclose(contributions, reference[:, :-1], rtol=0, atol=1e-9)
    assert tables.expected_value == pytest.approx(reference[0, -1], abs=1e-9)
    raw = model.predict(pool, prediction_type="RawFormulaVal")
    np.testing.assert_allclose(contributions.sum(axis=1) + tables.expected_value, raw, rtol=0, atol=1e-9)
    few = tables.contributions(model.calc_leaf_indexes(Pool(x.head(2), cat_features=CATEGORICAL)))
    np.testing.assert_allclose(few, contributions[:2], rtol=0, atol=1e-12)  # the direct gather path


def test_a_model_with_non_symmetric_trees_is_not_read(synthetic: tuple[pd.DataFrame, pd.Series]) -> None:
    with pytest.raises(UnsupportedForest, match="symmetric"):
        read_forest(fit(synthetic, grow_policy="Depthwise", depth=3), 5)


def test_a_split_whose_index_names_another_feature_is_refused() -> None:
    document = {
        "features_info": {"float_features": [{"feature_index": 0, "flat_feature_index": 0, "borders": [0.5]}]},
        "oblivious_trees": [
            {
                "leaf_values": [0.1, -0.1],
                "leaf_weights": [3, 4],
                "splits": [{"split_index": 0, "split_type": "FloatFeature", "float_feature_index": 1}],
            }
        ],
    }
    with pytest.raises(UnsupportedForest, match="split index 0"):
        parse_forest(document, 2)
    document["oblivious_trees"][0]["splits"][0]["float_feature_index"] = 0
    assert parse_forest(document, 2).trees[0].split_classes == ((0,),)
    document["oblivious_trees"][0]["leaf_weights"] = [0, 4]
    with pytest.raises(UnsupportedForest, match="non-zero value"):
        parse_forest(document, 2)


def slow_shapley(tree: ObliviousTree, leaf: int, features: int) -> np.ndarray:
    """TreeSHAP's definition evaluated coalition by coalition: E[f | the coalition's levels follow the leaf, the
    others split by training weight], leaves no training row reached left out, a class split equally."""
    levels = tree.split_classes[::-1]  # the root first: CatBoost's root is the last split
    depth = len(levels)
    weight = tree.leaf_weights

    def expected(members: list[int], level: int, coalition: set) -> float:
        if level == depth:
            return float(tree.leaf_values[members[0]]) if weight[members[0]] > 0 else 0.0
        bit = depth - 1 - level
        same = [m for m in members if (m >> bit & 1) == (leaf >> bit & 1)]
        if levels[level] in coalition:
            return expected(same, level + 1, coalition)
        other = [m for m in members if m not in same]
        total = weight[members].sum()
        return sum(
            weight[part].sum() / total * expected(part, level + 1, coalition)
            for part in (same, other)
            if weight[part].sum() > 0
        )

    classes = list(dict.fromkeys(levels))
    out = np.zeros(features)
    everyone = list(range(len(tree.leaf_values)))
    for target in classes:
        others = [c for c in classes if c != target]
        value = 0.0
        for size in range(len(others) + 1):
            share = math.factorial(size) * math.factorial(len(classes) - size - 1) / math.factorial(len(classes))
            for coalition in combinations(others, size):
                value += share * (expected(everyone, 0, {*coalition, target}) - expected(everyone, 0, set(coalition)))
        for feature in target:
            out[feature] += value / len(target)
    return out


def test_tables_follow_the_shapley_formula_with_repeated_and_shared_classes() -> None:
    """Random trees whose levels repeat a class, share one between two features, and leave leaves empty."""
    rng = np.random.default_rng(5)
    menu = [(0,), (1,), (2,), (1, 3), (4,)]
    trees = []
    for depth in (1, 2, 3, 4, 4, 5):
        classes = tuple(menu[i] for i in rng.integers(0, len(menu), depth))
        weights = rng.integers(0, 4, 1 << depth).astype(float)
        weights[0] = max(weights[0], 1.0)
        values = np.where(weights > 0, rng.normal(size=1 << depth), 0.0)
        trees.append(ObliviousTree(values, weights, classes))
    tables = shap_tables(ObliviousForest(trees, bias=0.25, feature_count=5))
    for index, tree in enumerate(trees):
        for leaf in range(len(tree.leaf_values)):
            expected = slow_shapley(tree, leaf, 5)
            np.testing.assert_allclose(tables.table[tables.offsets[index] + leaf], expected, rtol=0, atol=1e-12)
    means = sum(float(t.leaf_values @ t.leaf_weights / t.leaf_weights.sum()) for t in trees)
    assert tables.expected_value == pytest.approx(0.25 + means)
