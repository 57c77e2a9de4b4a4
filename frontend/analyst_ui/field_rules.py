"""What a feature of GET /schema accepts, in an analyst's words: its label and unit, the business range (the
schema's bounds narrowed by the training config's `inputs` rules, e.g. ages from 18, amounts above 0), the codes
of a coded numeric field, the categories' meanings; and the message for a value it does not accept."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def label_of(name: str) -> str:
    """`duration_in_month` -> `Duration in month` (when the schema has no label)."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def rule_of(feature: Mapping[str, Any]) -> dict[str, Any]:
    """The feature's `input` rule of the training config ({} when the bundle has none)."""
    return dict(feature.get("input") or {})


def field_label(feature: Mapping[str, Any]) -> str:
    """The label shown above the field: the analyst's words and the unit, e.g. `Credit amount (DM)`."""
    unit = rule_of(feature).get("unit")
    label = feature.get("label") or label_of(feature["name"])
    return f"{label} ({unit})" if unit else label


def is_integer(feature: Mapping[str, Any]) -> bool:
    return feature.get("dtype") == "integer"


def bounds(feature: Mapping[str, Any]) -> tuple[int | float | None, int | float | None]:
    """The values an analyst may enter: the schema's bounds, narrowed by the rule's min and max."""
    rule = rule_of(feature)
    lows = [v for v in (feature.get("lower_bound"), rule.get("min")) if v is not None]
    highs = [v for v in (feature.get("upper_bound"), rule.get("max")) if v is not None]
    low, high = (max(lows) if lows else None), (min(highs) if highs else None)
    if is_integer(feature):
        return (None if low is None else math.ceil(low)), (None if high is None else math.floor(high))
    return (None if low is None else float(low)), (None if high is None else float(high))


def codes(feature: Mapping[str, Any]) -> dict[int, str]:
    """A coded numeric field's codes and their meanings ('' when none is documented); {} for other fields."""
    return {int(code): str(meaning) for code, meaning in (rule_of(feature).get("codes") or {}).items()}


def option_text(feature: Mapping[str, Any], option: Any) -> str:
    """How a choice reads: a category with its meaning (`... < 0 DM — Checking account is overdrawn`), a code
    with its meaning, or `(missing)`."""
    if option is None:
        return "(missing)"
    meaning = (feature.get("category_labels") or {}).get(option) or codes(feature).get(option)
    return f"{option} — {meaning}" if meaning and meaning != str(option) else str(option)


def number(value: int | float) -> str:
    """1000 -> `1,000`; 2.5 -> `2.5`."""
    return f"{value:,}" if isinstance(value, int) or float(value).is_integer() else f"{value:,g}"


def field_help(feature: Mapping[str, Any], value: Any = None) -> str:
    """One line under the field: the range and unit, what past applicants had, the rule's own help; for a
    category, the chosen one's meaning in full (the box cuts long texts)."""
    rule, parts = rule_of(feature), []
    if feature["type"] == "numeric" and not codes(feature):
        low, high = bounds(feature)
        unit = f" {rule['unit']}" if rule.get("unit") else ""
        kind = "Whole number" if is_integer(feature) else "Number"
        if low is not None and high is not None:
            parts.append(f"{kind} from {number(low)} to {number(high)}{unit}.")
        if feature.get("min") is not None and feature.get("max") is not None:
            parts.append(f"Past applicants: {number(feature['min'])} to {number(feature['max'])}.")
    elif feature["type"] == "categorical" and (feature.get("category_labels") or {}).get(value):
        parts.append(f"{value}: {feature['category_labels'][value]}.")
    if rule.get("help"):
        parts.append(str(rule["help"]))
    return " ".join(parts)


def problem_of(feature: Mapping[str, Any], value: Any) -> str | None:
    """Why `value` cannot be scored (None: it can), naming the field and what it accepts."""
    label = feature.get("label") or label_of(feature["name"])
    if value is None:
        return None if feature.get("nullable") else f"{label}: enter a value."
    if feature["type"] == "categorical" or codes(feature):
        return None  # a choice from the list
    low, high = bounds(feature)
    unit = f" {rule_of(feature)['unit']}" if rule_of(feature).get("unit") else ""
    if low is not None and value < low:
        return f"{label}: {number(value)}{unit} is too small: enter at least {number(low)}{unit}."
    if high is not None and value > high:
        return f"{label}: {number(value)}{unit} is too large: enter at most {number(high)}{unit}."
    if is_integer(feature) and not float(value).is_integer():
        return f"{label}: enter a whole number."
    return None


def problems(features: Sequence[Mapping[str, Any]], values: Mapping[str, Any]) -> dict[str, str]:
    """Feature name -> why its value cannot be scored, for every field that has one."""
    found = {f["name"]: problem_of(f, values.get(f["name"])) for f in features}
    return {name: message for name, message in found.items() if message}
