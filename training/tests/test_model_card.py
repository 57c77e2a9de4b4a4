"""The model card: every section for the German credit champion and for another dataset with other groups."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import fast_config
from training.model_card import render
from training.tests.sessions import train

SECTIONS = [
    "# Model card: ",
    "## Intended use",
    "### Out-of-scope uses",
    "## Data",
    "## Performance",
    "## Decision threshold",
    "## Fairness by group",
    "### Fairness gate",
    "## Behavioral tests",
    "## Quality gate",
    "## Limitations",
    "## Lineage",
    "## Deployment history",
]


class _Cells(HTMLParser):
    """Headings and table rows (as lists of cell texts) of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.rows: list[list[str]] = []
        self._where: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("h1", "h2", "h3"):
            self._where = "heading"
            self.headings.append("")
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._where = "cell"
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3", "td", "th"):
            self._where = None

    def handle_data(self, data: str) -> None:
        if self._where == "heading":
            self.headings[-1] += data
        elif self._where == "cell":
            self.rows[-1][-1] += data


def parse(html: str) -> _Cells:
    parser = _Cells()
    parser.feed(html)
    return parser


@pytest.mark.slow
def test_the_german_credit_champions_card_has_every_section(full_run: Path) -> None:
    bundle = full_run / "models" / "credit-default" / "latest"
    meta = json.loads((bundle / "metadata.json").read_text())
    markdown, html = (bundle / "model_card.md").read_text(), (bundle / "model_card.html").read_text()
    positions = [markdown.index(section) for section in SECTIONS]
    assert positions == sorted(positions), "every section, in order"
    assert (markdown, html) == render(meta), "the card is a pure function of the bundle's metadata"
    assert meta["model_card"]["intended_use"] in markdown
    for fact in (
        "Statlog (German Credit Data)",
        "CC BY 4.0",
        "Deutsche Mark (DM)",
        "1973-1975",
        "1000 rows, 30.0% positive",
    ):
        assert fact in markdown, fact
    champion = meta["candidate"]
    assert f"`{champion}` (champion)" in markdown and "Not deployed yet" in markdown
    assert f"(predicted default) when P(default) is {meta['threshold']:.3f} or more." in markdown
    assert meta["decision_policy"]["threshold_rationale"] in markdown, "the decision policy's rationale in words"
    for outcome in meta["decision_policy"]["outcomes"]:
        assert f"| {outcome['label']} | {outcome['from']:.3f} | {outcome['to']:.3f} |" in markdown
    assert "| `sex` | n | default rate | flagged rate |" in markdown
    assert "| default rate | 0.300 (" in markdown and "recall / TPR (share of default cases flagged)" in markdown
    overall = meta["fairness"]["overall"]["holdout"]["roc_auc"]
    assert f"| ROC AUC | {overall['value']:.3f} ({overall['ci'][0]:.3f}–{overall['ci'][1]:.3f}) |" in markdown
    page = parse(html)
    assert [h for h in page.headings if h.startswith("Fairness")] == ["Fairness by group", "Fairness gate"]
    rows = {row[0]: row for row in page.rows if row}
    for group in ("female", "male", "18-24", "25-34", "35-49", "50+"):
        assert group in rows, group
    for set_name, attributes in meta["fairness"]["sets"].items():
        female = next(g for g in attributes["sex"]["groups"] if g["group"] == "female")
        assert ["female", str(female["count"])] in [row[:2] for row in page.rows], set_name
    for result in meta["behavioral_tests"]:
        assert any(row[0] == result["name"] and row[3] in ("passed", "failed") for row in page.rows), result["name"]
    lineage = meta["lineage"]
    assert lineage["git"]["commit"] in markdown and lineage["mlflow"]["session_run_id"] in markdown
    assert lineage["dataset"]["md5"] in markdown and f"Trained by | {lineage['trained_by']}" in markdown
    assert "Protected attributes used as model inputs: `age_in_years`, `personal_status_and_sex`." in markdown
    assert "<script" not in html and html.count("<table>") == len(re.findall(r"^\|( --- \|)+$", markdown, re.M)) > 10


@pytest.mark.slow
def test_another_dataset_states_its_own_data_and_groups(store: Path) -> None:
    rng = np.random.default_rng(8)
    n = 400
    income = rng.normal(50, 15, n).round(1)
    region = rng.choice(["north", "south", "east", "west"], n)
    tenure = rng.integers(1, 60, n)
    churn = np.where(rng.random(n) < 1 / (1 + np.exp((income - 45) / 8)) + (region == "east") * 0.2, "yes", "no")
    path = store / "churn.csv"
    pd.DataFrame({"income": income, "region": region, "tenure": tenure, "churned": churn}).to_csv(path, index=False)
    cfg = fast_config(store, ["logistic_regression"])
    cfg.update(registered_model_name="churn", experiment_name="churn")
    cfg["data"] = {"path": str(path), "target": "churned", "positive_label": "yes", "drop_features": ["region"]}
    cfg["quality_gate"]["min_test_roc_auc"] = 0.5
    cfg["inputs"] = {}  # the analyst UI's input rules name German credit's columns
    cfg["fairness"]["groups"] = {
        "coast": {"column": "region", "map": {"coastal": ["north", "west"], "inland": ["south", "east"]}},
        "tenure_band": {"column": "tenure", "bins": [0, 12, 36, 100]},
    }
    cfg["reasons"] = {
        "features": {
            "income": {"label": "Income", "high": "High income", "low": "Low income"},
            "tenure": {"label": "Tenure", "high": "Long tenure", "low": "Short tenure"},
        }
    }
    cfg["behavioral_tests"] = [
        {
            "name": "richer_not_riskier",
            "type": "directional",
            "feature": "income",
            "add": 10,
            "direction": "not_higher",
        },
        {"name": "region_blind", "type": "invariance", "feature": "region"},
    ]
    cfg["model_card"] = {
        "owner": "Retention team",
        "intended_use": "Rank subscribers for a retention call.",
        "data": {
            "name": "Synthetic churn",
            "licence": "generated by the test",
            "label_definition": "left within a year",
            "outcome": "left",
        },
    }
    assert train(store, cfg) == 0
    bundle = store / "models" / "churn" / "latest"
    markdown = (bundle / "model_card.md").read_text()
    positions = [markdown.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    for fact in (
        "# Model card: churn v1",
        "Retention team",
        "Rank subscribers",
        "Synthetic churn",
        "left within a year",
    ):
        assert fact in markdown, fact
    for absent in ("German", "Deutsche Mark", "personal_status_and_sex", "age_band"):
        assert absent not in markdown, absent
    assert "- `coast` from column `region`: coastal = north, west; inland = south, east" in markdown
    assert "- `tenure_band` from column `tenure`: [0, 12); [12, 36); [36, 100)" in markdown
    assert "| `tenure_band` | n | left rate |" in markdown and "P(left) did not rise by more than" in markdown
    assert "| Currency | no amounts / not stated |" in markdown and "| Left out | `region` |" in markdown
    assert re.search(r"\| `region_blind` \| invariance \| yes \| passed \| 'region' is not a model input", markdown)
    assert "Protected attributes used as model inputs: `tenure`." in markdown


def test_an_old_bundle_without_governance_keys_still_renders_every_section() -> None:
    markdown, html = render({"name": "m", "version": "3", "threshold": 0.4, "threshold_strategy": "cost"})
    assert [section for section in SECTIONS if section in markdown] == SECTIONS[:7] + SECTIONS[8:]
    assert "Not measured: no groups are configured" in markdown and "None declared" in markdown
    assert "no `dvc.lock` at training time" in markdown and "<h2>Deployment history</h2>" in html


def test_deployment_history_lists_who_promoted_it_and_data_text_is_escaped() -> None:
    base = {"source": None, "seconds": 1.0, "figures": {}}  # the rest of a deploy history event
    deployments = [
        {**base, "time": "2026-01-02T03:04:05+00:00", "operation": "release", "operator": "alice@h", "target": "green"}
        | {"result": "switched", "reason": "ok"},
        {**base, "time": "2026-01-03T00:00:00+00:00", "operation": "rollback", "operator": "bob@h", "target": "blue"}
        | {"result": "rolled back", "reason": "5xx"},
    ]
    metadata = {
        "name": "m",
        "version": "3",
        "fairness": {
            "attributes": {
                "g": {"column": "c", "kind": "map", "groups": ["a|b"], "definition": {"a|b": ["x*y", "<z>"]}}
            },
            "sets": {},
        },
    }
    markdown, html = render(metadata, deployments)
    page = parse(html)
    assert ["2026-01-02T03:04:05+00:00", "release", "green", "alice@h", "switched", "ok"] in page.rows
    assert ["2026-01-03T00:00:00+00:00", "rollback", "blue", "bob@h", "rolled back", "5xx"] in page.rows
    assert "Not deployed yet" not in markdown
    assert "a\\|b = x\\*y, \\<z>" in markdown and "a|b = x*y, &lt;z&gt;" in html and "<z>" not in html
