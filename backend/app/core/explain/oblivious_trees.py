"""A CatBoost model's symmetric (oblivious) trees as arrays, read from its JSON export.

What SHAP needs of each tree: its leaf values and leaf weights (the training weight that reached each
leaf) and, for each split, its feature class: the original features the split reads, as CatBoost's own
SHAP groups them. A numeric split reads one feature; a one-hot split one categorical feature; a CTR split
the categorical features of its projection (binarized numbers and one-hot values inside a projection
are not credited, as in CatBoost), each credited an equal share. Splits are numbered by CatBoost's
binary features: every border of the numeric features, then the one-hot values, then every border of
the CTRs; each split's own fields are checked against the feature found that way.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

FeatureClass = tuple[int, ...]  # flat (model column) indexes of the features a split reads


class UnsupportedForest(Exception):
    """The model is not a single-output forest of symmetric trees this module can read exactly."""


@dataclass(frozen=True)
class ObliviousTree:
    """One tree: leaf values and weights (index = the leaf index CatBoost gives), a class per split
    in leaf-index bit order (split s decides bit s)."""

    leaf_values: np.ndarray
    leaf_weights: np.ndarray
    split_classes: tuple[FeatureClass, ...]

    @property
    def depth(self) -> int:
        return len(self.split_classes)


@dataclass(frozen=True)
class ObliviousForest:
    trees: list[ObliviousTree]
    bias: float
    feature_count: int


def read_forest(model: Any, feature_count: int) -> ObliviousForest:
    """The trees of a fitted CatBoost model; UnsupportedForest when they are not symmetric single-output trees."""
    with tempfile.TemporaryDirectory(prefix="catboost-json-") as directory:
        path = Path(directory) / "model.json"
        model.save_model(str(path), format="json")
        document = orjson.loads(path.read_bytes())
    return parse_forest(document, feature_count)


def parse_forest(document: dict[str, Any], feature_count: int) -> ObliviousForest:
    """The forest of a CatBoost JSON model document."""
    trees = document.get("oblivious_trees")
    if not isinstance(trees, list) or not trees:
        raise UnsupportedForest("the model has no symmetric (oblivious) trees")
    scale, bias = document.get("scale_and_bias", [1.0, [0.0]])
    bias_values = bias if isinstance(bias, list) else [bias]
    if len(bias_values) != 1:
        raise UnsupportedForest("the model has more than one output")
    classes = _binary_feature_classes(document.get("features_info") or {})
    parsed = [_tree(tree, classes, float(scale)) for tree in trees]
    return ObliviousForest(parsed, float(bias_values[0]), feature_count)


@dataclass(frozen=True)
class _BinaryFeature:
    """One of CatBoost's binary features: what a split with this split_index reads."""

    split_type: str
    feature_class: FeatureClass
    key: Any  # what the split itself must name: float or cat feature index, or the CTR's borders


def _binary_feature_classes(info: dict[str, Any]) -> list[_BinaryFeature]:
    cat_flat = {f["feature_index"]: f["flat_feature_index"] for f in info.get("categorical_features") or []}
    binary: list[_BinaryFeature] = []
    for feature in info.get("float_features") or []:
        entry = _BinaryFeature("FloatFeature", (feature["flat_feature_index"],), feature["feature_index"])
        binary += [entry] * len(feature.get("borders") or [])
    for feature in info.get("categorical_features") or []:
        entry = _BinaryFeature("OneHotFeature", (feature["flat_feature_index"],), feature["feature_index"])
        binary += [entry] * len(feature.get("values") or [])
    for ctr in info.get("ctrs") or []:
        projection = {
            cat_flat[e["cat_feature_index"]]
            for e in ctr.get("elements") or []
            if e.get("combination_element") == "cat_feature_value"
        }
        binary += [_BinaryFeature("OnlineCtr", tuple(sorted(projection)), tuple(ctr["borders"]))] * len(ctr["borders"])
    return binary


def _tree(tree: dict[str, Any], binary: list[_BinaryFeature], scale: float) -> ObliviousTree:
    splits = tree.get("splits") or []
    values = np.asarray(tree["leaf_values"], dtype=np.float64) * scale
    weights = np.asarray(tree.get("leaf_weights") or [], dtype=np.float64)
    if len(values) != 1 << len(splits) or len(weights) != len(values):
        raise UnsupportedForest("a tree's leaf values or weights do not match its depth (multi-output or no weights)")
    if np.any((weights <= 0) & (values != 0)):
        raise UnsupportedForest("a leaf no training row reached has a non-zero value")
    return ObliviousTree(values, weights, tuple(_split_class(split, binary) for split in splits))


def _split_class(split: dict[str, Any], binary: list[_BinaryFeature]) -> FeatureClass:
    index = split.get("split_index")
    if not isinstance(index, int) or not 0 <= index < len(binary):
        raise UnsupportedForest(f"split index {index!r} is out of range")
    feature = binary[index]
    own_key = {
        "FloatFeature": split.get("float_feature_index"),
        "OneHotFeature": split.get("cat_feature_index"),
        "OnlineCtr": split.get("border"),
    }.get(split.get("split_type", ""))
    matches = own_key in feature.key if feature.split_type == "OnlineCtr" else own_key == feature.key
    if split.get("split_type") != feature.split_type or not matches:
        raise UnsupportedForest(f"split index {index} does not name the feature its fields describe")
    return feature.feature_class
