"""The challenger page's words and tables, from GET /monitoring/shadow: how differently the idle model (the
challenger, fed copies of live requests) would have decided on the applicants the serving model (the champion) scored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from analyst_ui.monitoring import share_text

NO_DATA = (
    "No applicant has been compared in this window. An operator turns the comparison on with `make shadow-green` "
    "(or `make shadow-blue`): the idle model then scores a copy of every live request, and its answers are thrown away."
)


def side_name(report: Mapping[str, Any], side: str) -> str:
    """'blue (v1)': the side's color and model version(s)."""
    facts = report[side]
    versions = ", ".join(f"v{v}" for v in sorted(facts["model_versions"])) or "no model"
    return f"{facts['color'] or side} ({versions})"


def band_moves(report: Mapping[str, Any]) -> tuple[int, int, int]:
    """Applicants the challenger puts in a higher, the same and a lower risk band than the champion did."""
    matrix = report["band_transitions"]
    size = len(matrix)
    higher = sum(matrix[i][j] for i in range(size) for j in range(size) if j > i)
    same = sum(matrix[i][i] for i in range(size))
    lower = sum(matrix[i][j] for i in range(size) for j in range(size) if j < i)
    return higher, same, lower


def summary_text(report: Mapping[str, Any]) -> str:
    """The comparison in plain words."""
    higher, same, lower = band_moves(report)
    champion, challenger = side_name(report, "champion"), side_name(report, "challenger")
    return (
        f"Of {report['rows_compared']} applicants scored by both, the challenger {challenger} gives the same answer "
        f"(flagged or not) as the serving model {champion} for {share_text(report['label_agreement'])}, and the same "
        f"decision for {share_text(report['decision_agreement'])}. It would put {higher} in a higher risk band, "
        f"{lower} in a lower one and leave {same} where they are. It flags "
        f"{share_text(report['challenger']['flagged_share'])} of them; the serving model flagged "
        f"{share_text(report['champion']['flagged_share'])}."
    )


def points(delta: float | None) -> str:
    """A probability difference in percentage points."""
    return "—" if delta is None else f"{delta * 100:.1f} pp"


def transition_table(report: Mapping[str, Any], kind: str = "band") -> pd.DataFrame:
    """The transition matrix as a table: a row per champion band (or decision), a column per challenger one."""
    names, matrix = (
        (report["risk_bands"], report["band_transitions"])
        if kind == "band"
        else (report["decisions"], report["decision_transitions"])
    )
    frame = pd.DataFrame(matrix, index=names, columns=names)
    frame.index.name = "serving model ↓ / challenger →"
    return frame.reset_index()


def _milliseconds(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def speed_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Per side: serving time in the backend and requests it did not answer while the other side did."""
    return pd.DataFrame(
        [
            {
                "model": f"{role}: {side_name(report, side)}",
                "requests": report[side]["requests"],
                "mean ms": _milliseconds(report[side]["mean_seconds"]),
                "95% under ms": _milliseconds(report[side]["p95_seconds"]),
                "unanswered": report[side]["unanswered"],
            }
            for side, role in (("champion", "serving"), ("challenger", "challenger"))
        ]
    )
