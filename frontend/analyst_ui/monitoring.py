"""The monitoring summary made readable: drift statuses with colors, the drift table, volume and headline facts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from pandas.io.formats.style import Styler

from analyst_ui.charts import tint

WINDOWS = ("15m", "1h", "6h", "24h", "7d")
DEFAULT_WINDOW = "1h"
STATUS_COLORS = {"ok": "#2e7d32", "warn": "#f9a825", "alert": "#c62828", "insufficient_data": "#9e9e9e"}
STATUS_BADGE_COLORS = {"ok": "green", "warn": "orange", "alert": "red", "insufficient_data": "gray"}
STATUS_LABELS = {"ok": "ok", "warn": "warn", "alert": "alert", "insufficient_data": "insufficient data"}
STATUS_ICONS = {
    "ok": ":material/check_circle:",
    "warn": ":material/warning:",
    "alert": ":material/error:",
    "insufficient_data": ":material/hourglass_empty:",
}
DRIFT_COLUMNS = ("feature", "kind", "psi", "p_value", "rows", "status")
UNKNOWN = "insufficient_data"


def status_of(value: str | None) -> str:
    """A known status; anything else (a newer backend's word, None) counts as insufficient data."""
    return value if value in STATUS_COLORS else UNKNOWN


def status_label(status: str | None) -> str:
    return STATUS_LABELS[status_of(status)]


def status_from_label(label: str) -> str:
    return next((status for status, text in STATUS_LABELS.items() if text == label), UNKNOWN)


def status_cell_style(label: str) -> str:
    """CSS of a status cell in the drift table: a light tint of the status color behind dark text."""
    return f"background-color: {tint(STATUS_COLORS[status_from_label(label)])}; color: #212121"


def drift_table(features: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per feature, largest PSI first (features without a PSI last), ties by name."""
    rows = [
        {
            "feature": name,
            "kind": drift.get("kind", ""),
            "psi": drift.get("psi"),
            "p_value": drift.get("p_value"),
            "rows": int(drift.get("rows") or 0),
            "status": status_of(drift.get("status")),
        }
        for name, drift in features.items()
    ]
    rows.sort(key=lambda row: (row["psi"] is None, -(row["psi"] or 0.0), row["feature"]))
    table = pd.DataFrame(rows, columns=list(DRIFT_COLUMNS))
    for column in ("psi", "p_value"):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    table["rows"] = table["rows"].astype(int)
    return table


def styled_drift_table(table: pd.DataFrame) -> Styler:
    """The drift table for people: statuses as colored labels, PSI and p-value with three decimals."""
    shown = table.assign(status=table["status"].map(status_label))
    styled = shown.style.map(status_cell_style, subset=["status"])
    return styled.format({"psi": "{:.3f}", "p_value": p_value_text}, na_rep="—")


def drifting_in_psi_order(summary: Mapping[str, Any]) -> list[str]:
    """The features the backend calls drifting (warn or alert), largest PSI first."""
    features = summary.get("features") or {}
    names = [name for name in summary.get("drifting_features") or [] if name in features]
    return sorted(names, key=lambda name: (-(features[name].get("psi") or 0.0), name))


def volume_frame(volume: list[Mapping[str, Any]]) -> pd.DataFrame:
    """Buckets as a table: start (UTC timestamps), count, flagged and not flagged."""
    frame = pd.DataFrame(list(volume), columns=["start", "count", "flagged"])
    frame["start"] = pd.to_datetime(frame["start"], utc=True)
    frame["count"] = frame["count"].astype(int)
    frame["flagged"] = frame["flagged"].astype(int)
    frame["not_flagged"] = frame["count"] - frame["flagged"]
    return frame


def versions_text(model_versions: Mapping[str, int]) -> str:
    """'v3', or 'v3 (210) · v2 (40)' when several versions answered (most predictions first)."""
    if not model_versions:
        return "—"
    if len(model_versions) == 1:
        return f"v{next(iter(model_versions))}"
    ranked = sorted(model_versions.items(), key=lambda item: (-item[1], item[0]))
    return " · ".join(f"v{version} ({count})" for version, count in ranked)


def counts_text(counts: Mapping[str, int], suffix: str = "") -> str | None:
    """{'green': 110, 'blue': 10} -> 'green deployment: 110 · blue deployment: 10' (most first); None if empty."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return " · ".join(f"{name}{suffix}: {count}" for name, count in ranked) or None


def share_text(share: float | None) -> str:
    return "—" if share is None else f"{share:.1%}"


def psi_text(psi: float | None) -> str:
    return "—" if psi is None else f"{psi:.3f}"


def p_value_text(p_value: float | None) -> str:
    """'0.042', '< 0.001'; '—' when there is none (no rows)."""
    if p_value is None or pd.isna(p_value):
        return "—"
    return "< 0.001" if p_value < 0.001 else f"{p_value:.3f}"


def drift_rule(thresholds: Mapping[str, Any]) -> str:
    """When the backend calls a feature or the score drifting, in words."""
    rule = f"PSI from {thresholds['warn']:g} is warn, from {thresholds['alert']:g} alert"
    if thresholds.get("max_p_value") is not None:
        rule += f", when the change is significant (chi-square p-value below {thresholds['max_p_value']:g})"
    return f"{rule}; with fewer than {thresholds['min_rows']} rows the data is insufficient."


def bucket_text(seconds: int) -> str:
    """60 -> '1 min', 3600 -> '1 h', 86400 -> '1 day'."""
    if seconds % 86_400 == 0:
        days = seconds // 86_400
        return f"{days} day" + ("s" if days > 1 else "")
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min"


def status_markdown(status: str | None) -> str:
    """The status in its color with its icon, for st.metric or st.markdown: ':red[:material/error: alert]'."""
    key = status_of(status)
    return f":{STATUS_BADGE_COLORS[key]}[{STATUS_ICONS[key]} {STATUS_LABELS[key]}]"


def zone_of(name: str | None) -> tzinfo:
    """The analyst's time zone (the browser's, st.context.timezone); UTC when unknown."""
    try:
        return ZoneInfo(name) if name else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def zone_name(zone: tzinfo) -> str:
    return "UTC" if zone is timezone.utc else str(zone)


def period_text(start: str, end: str, zone: tzinfo = timezone.utc) -> str:
    """Two ISO timestamps in the analyst's time zone as '12 May 11:15 – 12:15 (Europe/Berlin)', or '… UTC' (the
    date repeated only when it changes)."""
    first, last = datetime.fromisoformat(start).astimezone(zone), datetime.fromisoformat(end).astimezone(zone)
    tail = f"{last:%H:%M}" if first.date() == last.date() else f"{last:%d %b %H:%M}"
    name = zone_name(zone)
    return f"{first:%d %b %H:%M} – {tail} " + (name if name == "UTC" else f"({name})")


def expected_flagged_share(card: Mapping[str, Any]) -> float | None:
    """The share of hold-out applicants the model flags (GET /model's decision policy): what to expect live."""
    share = ((card.get("decision_policy") or {}).get("holdout") or {}).get("flagged_share")
    return None if share is None else float(share)


def flagged_delta(observed: float | None, expected: float | None) -> str | None:
    """'+10.7 points vs 38.5 % on the hold-out' (None when either is unknown)."""
    if observed is None or expected is None:
        return None
    return f"{(observed - expected) * 100:+.1f} points vs {expected:.1%} on the hold-out"


SIZE_WORDS = ((0.25, "a large change"), (0.1, "a moderate change"), (0.0, "a small change"))
ADVICE = {
    "ok": "Nothing to do: the applicants look like the ones the model learned from.",
    "warn": (
        "Keep an eye on it: look at a longer window. If it grows, or the applicant mix was not meant to change "
        "(no new product, channel or region), tell the model owner."
    ),
    "alert": (
        "Tell the model owner: scores of applicants unlike the training data are less reliable. Check first whether "
        "the change is expected (a new product, channel or region) or a data problem (a field filled in differently)."
    ),
    "insufficient_data": "Too few predictions to judge yet: pick a longer window or wait for more applicants.",
}


def size_text(psi: float | None) -> str:
    """A PSI in words."""
    if psi is None:
        return "not measured"
    return next(words for limit, words in SIZE_WORDS if psi >= limit)


def drift_advice(summary: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """What changed, how much, and what to do, in plain words (markdown)."""
    status = status_of(summary.get("status"))
    names = drifting_in_psi_order(summary)
    features = summary.get("features") or {}
    changed = [
        f"**{labels.get(name) or name.replace('_', ' ')}** ({size_text(features[name].get('psi'))}, "
        f"PSI {psi_text(features[name].get('psi'))})"
        for name in names
    ]
    score = summary.get("score") or {}
    lines = []
    if status_of(score.get("status")) in ("warn", "alert"):
        lines.append(f"The model's scores differ from the hold-out's: {size_text(score.get('psi'))}.")
    if changed:
        lines.append(f"Applicants differ from the training data in {len(changed)} field(s): {', '.join(changed)}.")
    elif status != "insufficient_data":
        lines.append("No field of the applicants differs much from the training data.")
    lines.append(f"**What to do:** {ADVICE[status]}")
    return "\n\n".join(lines)
