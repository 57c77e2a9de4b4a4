"""Exact explanations at prediction speed: what can be precomputed once per bundle load, then gathered per row.

`oblivious_trees` reads a CatBoost model's symmetric trees (leaf values, leaf weights and the feature
class of every split) from its JSON export; `tree_shap` turns them into per-tree, per-leaf SHAP tables,
so that an applicant's contributions are the sum over trees of one table row per tree, picked by the
leaf the applicant falls into (`calc_leaf_indexes`).
"""
