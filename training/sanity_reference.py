"""The reference applicants a release scores before it gets traffic (the deploy CLI's decision-sanity gate):
hold-out rows as the API takes them, with the probabilities and labels training computed for them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

SANITY_FILE = "sanity.json"
MAX_ROWS = 500


def _json_value(value: Any) -> Any:
    """A cell as the API takes it: integral numbers as ints, missing numbers as null, categories as text."""
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return int(value) if float(value).is_integer() else float(value)
    return value


def sanity_reference(x_test: pd.DataFrame, probabilities: np.ndarray, threshold: float) -> dict[str, Any]:
    """Up to MAX_ROWS hold-out applicants (records), training's P(default) for each, its labels at the threshold
    and their flagged share."""
    rows = x_test.head(MAX_ROWS)
    scores = np.asarray(probabilities, dtype=float)[: len(rows)]
    labels = (scores >= threshold).astype(int)
    return {
        "applicants": [
            {name: _json_value(value) for name, value in record.items()} for record in rows.to_dict("records")
        ],
        "probabilities": [round(float(p), 10) for p in scores],
        "threshold": threshold,
        "flagged_share": float(labels.mean()) if len(labels) else 0.0,
    }
