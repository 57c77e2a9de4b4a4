"""The model card a reviewer reads without running anything: Markdown and HTML from a bundle's metadata.

    markdown, html = render(metadata, deployments=None)

`deployments` (the deploy history's events for this version, as deploy.state.Event dicts: time,
operation, operator, target, result, reason) fills the "Deployment history" section; without it the
card says the version is not deployed yet. Every section tolerates an older bundle without its keys.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from markdown_it import MarkdownIt

MARKDOWN_FILE = "model_card.md"
HTML_FILE = "model_card.html"
SET_TITLES = {"out_of_fold": "out-of-fold predictions (training rows)", "holdout": "hold-out predictions (test rows)"}
GROUP_COLUMNS = (("flagged_rate", "flagged rate"), ("tpr", "TPR"), ("fpr", "FPR"), ("precision", "precision"))
DISPARITY_TITLES = {
    "demographic_parity_ratio": "demographic-parity ratio",
    "demographic_parity_difference": "demographic-parity difference",
    "equalized_odds_difference": "equalized-odds difference",
}
OVERALL_TITLES = {
    "roc_auc": "ROC AUC",
    "precision": "precision (share of the flagged who are {outcome})",
    "tpr": "recall / TPR (share of {outcome} cases flagged)",
    "fpr": "FPR (share of the other cases flagged)",
    "flagged_rate": "flagged rate",
    "base_rate": "{outcome} rate",
}
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;line-height:1.45}"
    "table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;"
    "text-align:left;vertical-align:top}th{background:#f3f3f3}code{background:#f3f3f3;padding:0 .2rem}"
    "img{max-width:100%}"
)
_SPECIAL = re.compile(r"([\\`*\[\]<|]|(?<!\w)_|_(?!\w))")


def render(metadata: Mapping[str, Any], deployments: Sequence[Mapping[str, Any]] | None = None) -> tuple[str, str]:
    """The card as Markdown and as a standalone HTML page (same content)."""
    sections = [
        _header(metadata),
        _intended_use(metadata),
        _data(metadata),
        _performance(metadata),
        _threshold(metadata),
        _fairness(metadata),
        _behavioral(metadata),
        _gate(metadata),
        _limitations(metadata),
        _lineage(metadata),
        _deployments(deployments),
    ]
    markdown = "\n\n".join("\n".join(lines) for lines in sections).rstrip() + "\n"
    return markdown, to_html(markdown, f"Model card: {metadata.get('name', '?')} v{metadata.get('version', '?')}")


def to_html(markdown: str, title: str) -> str:
    """CommonMark with tables; raw HTML in the text is escaped, never passed through."""
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    return (
        f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html_lib.escape(title)}</title>\n'
        f"<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )


def text(value: Any) -> str:
    """A value from the data (a category, a group) as literal Markdown text."""
    return _SPECIAL.sub(r"\\\1", str(value)).replace("\n", " ")


def code(value: Any) -> str:
    """A name as a code span (backslashes are literal there; only a table's pipe needs escaping)."""
    return "`" + str(value).replace("`", "'").replace("|", "\\|").replace("\n", " ") + "`"


def number(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{float(value):.{digits}f}"


def percent(value: Any) -> str:
    return "–" if value is None else f"{float(value):.1%}"


def with_interval(value: Any, ci: Sequence[Any] | None, digits: int = 3) -> str:
    """`0.822 (0.733–0.882)`; the value alone when there is no interval."""
    if value is None:
        return "–"
    if not ci or any(bound is None for bound in ci):
        return number(value, digits)
    return f"{number(value, digits)} ({number(ci[0], digits)}–{number(ci[1], digits)})"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def facts(rows: Sequence[Sequence[str]]) -> list[str]:
    """A two-column table of facts: the first fact is its header row."""
    return table(rows[0], rows[1:])


def _card(metadata: Mapping[str, Any]) -> Mapping[str, Any]:
    return metadata.get("model_card") or {}


def _outcome(metadata: Mapping[str, Any]) -> str:
    """What the model predicts, in a word (the config's model_card.data.outcome, e.g. default)."""
    return text((_card(metadata).get("data") or {}).get("outcome") or "positive class")


def _lineage_of(metadata: Mapping[str, Any]) -> Mapping[str, Any]:
    return metadata.get("lineage") or {}


def _header(metadata: Mapping[str, Any]) -> list[str]:
    gate = metadata.get("gate") or {}
    decision = gate.get("decision", "not recorded")
    if gate.get("warnings"):
        decision += f" with {len(gate['warnings'])} warning(s)"
    summary = [
        ("Model", f"{code(metadata.get('name', '?'))} version {text(metadata.get('version', '?'))}"),
        ("Algorithm", f"{text(metadata.get('algorithm', '?'))} (candidate {code(metadata.get('candidate', '?'))})"),
        ("Trained", f"{text(metadata.get('trained_at', '?'))} by {text(_lineage_of(metadata).get('trained_by', '?'))}"),
        ("Owner", text(_card(metadata).get("owner", "not stated"))),
        ("Quality gate", decision),
    ]
    title = f"# Model card: {text(metadata.get('name', '?'))} v{text(metadata.get('version', '?'))}"
    return [title, ""] + facts([[key, value] for key, value in summary])


def _intended_use(metadata: Mapping[str, Any]) -> list[str]:
    card = _card(metadata)
    lines = ["## Intended use", "", card.get("intended_use", "not stated"), "", "### Out-of-scope uses", ""]
    return lines + ([f"- {item}" for item in card.get("out_of_scope", [])] or ["- not stated"])


def _data(metadata: Mapping[str, Any]) -> list[str]:
    about = _card(metadata).get("data") or {}
    dataset = metadata.get("dataset") or {}
    reference = metadata.get("reference") or {}
    features = metadata.get("features") or []
    numeric = sum(1 for f in features if f.get("type") == "numeric")
    dropped = metadata.get("dropped_features") or []
    rows = [
        ["Dataset", text(about.get("name", "not stated")) + f" (file {code(dataset.get('file', '?'))})"],
        ["Source", text(about.get("source", "not stated"))],
        ["Licence", text(about.get("licence", "not stated"))],
        ["Period", text(about.get("period", "not stated"))],
        ["Currency", text(about.get("currency") or "no amounts / not stated")],
        [
            "Size",
            f"{dataset.get('rows', '?')} rows, {percent(dataset.get('positive_rate'))} positive; "
            f"{reference.get('rows', '?')} for training and cross-validation, the rest held out",
        ],
        [
            "Label",
            f"{code(dataset.get('target', '?'))} = {code(dataset.get('positive_label', '?'))} is 1 "
            f"(predicted); {code(dataset.get('negative_label', '?'))} is 0. " + text(about.get("label_definition", "")),
        ],
        ["Features", f"{len(features)} ({numeric} numeric, {len(features) - numeric} categorical)"],
        ["Left out", ", ".join(f"{code(name)}" for name in dropped) or "none: every column is a model input"],
        ["SHA-256", f"`{dataset.get('sha256', '?')}`"],
    ]
    return ["## Data", ""] + facts(rows)


def _performance(metadata: Mapping[str, Any]) -> list[str]:
    metrics = metadata.get("metrics") or {}
    overall = ((metadata.get("fairness") or {}).get("overall") or {}).get("holdout") or {}
    confidence = ((metadata.get("fairness") or {}).get("bootstrap") or {}).get("confidence")
    lines = ["## Performance", ""]
    if overall:
        lines += [
            f"On the hold-out applicants, with {confidence:.0%} bootstrap intervals:" if confidence else "Hold-out:",
            "",
        ]
        lines += table(
            ["metric", "value (interval)"],
            [
                [OVERALL_TITLES[k].format(outcome=_outcome(metadata)), with_interval(v["value"], v["ci"])]
                for k, v in overall.items()
                if k in OVERALL_TITLES
            ],
        )
        lines.append("")
    lines += table(
        ["metric", "value"],
        [
            [
                "ROC AUC, cross-validated",
                f"{number(metrics.get('cv_roc_auc_mean'))} ± {number(metrics.get('cv_roc_auc_std'))}",
            ],
            ["ROC AUC, hold-out", number(metrics.get("test_roc_auc"))],
            ["PR AUC, hold-out", number(metrics.get("test_pr_auc"))],
            ["accuracy, hold-out", number(metrics.get("test_accuracy"))],
            ["Brier score, hold-out (lower is better)", number(metrics.get("test_brier"))],
        ],
    )
    candidates = metadata.get("candidates") or []
    if candidates:
        lines += ["", "Candidates compared (the champion has the best cross-validated ROC AUC):", ""]
        lines += table(
            ["candidate", "CV ROC AUC", "test ROC AUC"],
            [
                [
                    f"{code(c.get('candidate'))}" + (" (champion)" if c.get("champion") else ""),
                    number(c.get("cv_roc_auc_mean")),
                    number(c.get("test_roc_auc")),
                ]
                for c in candidates
            ],
        )
    return lines


def _threshold(metadata: Mapping[str, Any]) -> list[str]:
    """The threshold, why it is there (the decision policy's rationale), the policy's outcomes, the risk bands."""
    threshold = metadata.get("threshold")
    outcome = _outcome(metadata)
    policy = metadata.get("decision_policy") or {}
    lines = [
        "## Decision threshold",
        "",
        f"An applicant is **flagged** (predicted {outcome}) when P({outcome}) is {number(threshold)} or more.",
        "",
        text(policy.get("threshold_rationale") or _strategy_sentence(metadata.get("threshold_strategy"))),
    ]
    overall = ((metadata.get("fairness") or {}).get("overall") or {}).get("holdout") or {}
    if overall:
        flagged, caught, precise = (with_interval(**overall[k]) for k in ("flagged_rate", "tpr", "precision"))
        lines += [
            "",
            f"With bootstrap intervals on the hold-out applicants: flagged rate {flagged}, share of the {outcome} "
            f"cases flagged {caught}, share of the flagged who are {outcome} cases {precise}.",
        ]
    if policy.get("outcomes"):
        lines += ["", "Decisions (the decision policy):", ""]
        lines += table(
            ["decision", f"P({outcome}) from", "to", "hold-out share", f"hold-out {outcome} rate"],
            [
                [
                    text(o.get("label") or o.get("name")),
                    number(o.get("from")),
                    number(o.get("to")),
                    percent(o.get("holdout_share")),
                    percent(o.get("holdout_default_rate")),
                ]
                for o in policy["outcomes"]
            ],
        )
    bands = metadata.get("risk_bands") or {}
    if bands:
        lines += [
            "",
            f"Risk bands: low below {number(bands.get('medium'))}, medium from {number(bands.get('medium'))}, "
            f"high from {number(bands.get('high'))}.",
        ]
    return lines


def _strategy_sentence(strategy: str | None) -> str:
    """The rationale of a bundle without a decision policy: how the strategy chose the threshold."""
    if strategy == "cost":
        return "It minimises the expected misclassification cost on the out-of-fold predictions of the training set."
    if strategy == "f1":
        return "It maximises F1 on the out-of-fold predictions of the training set (the hold-out set played no part)."
    return "How it was chosen is not recorded."


def _fairness(metadata: Mapping[str, Any]) -> list[str]:
    fairness = metadata.get("fairness") or {}
    lines = ["## Fairness by group", ""]
    attributes = fairness.get("attributes") or {}
    if not attributes:
        return lines + ["Not measured: no groups are configured (`fairness.groups`) for this model."]
    lines += ["Groups (read from the data, whether or not the column is a model input):", ""]
    for name, definition in attributes.items():
        groups = "; ".join(
            _group_definition(label, members, definition["kind"]) for label, members in definition["definition"].items()
        )
        lines.append(f"- {code(name)} from column {code(definition['column'])}: {groups}")
    boot = fairness.get("bootstrap") or {}
    lines += [
        "",
        f"Intervals: {boot.get('confidence', 0):.0%} bootstrap ({boot.get('n_boot', '?')} resamples, fairlearn). "
        f"Groups under {fairness.get('min_group_size', '?')} rows (or with one class only) are too small to measure "
        "and left out of the disparities.",
    ]
    gate = fairness.get("gate") or {}
    sets = fairness.get("sets") or {}
    for set_name in sorted(sets, key=lambda s: s != gate.get("predictions")):
        lines += ["", f"### On the {SET_TITLES.get(set_name, set_name)}", ""]
        for attribute, report in sets[set_name].items():
            lines += _group_table(attribute, report, _outcome(metadata)) + [""]
        lines += _disparity_table(sets[set_name], gate if set_name == gate.get("predictions") else {})
    if "fairness" in (metadata.get("plots") or {}):
        lines += ["", f"![Fairness by group]({metadata['plots']['fairness']})"]
    lines += ["", "### Fairness gate", "", _fairness_gate_sentence(gate)]
    lines += [f"- {text(finding)}" for finding in gate.get("findings", [])]
    return lines


def _group_definition(label: str, members: Sequence[Any], kind: str) -> str:
    """`female = a, b` for mapped categories; `18-24 = [18, 25)` for bins (the interval alone when it is the label)."""
    if kind == "map":
        return f"{text(label)} = {', '.join(map(text, members))}"
    interval = f"[{members[0]:g}, {members[1]:g})"
    return interval if label == interval else f"{text(label)} = {interval}"


def _group_table(attribute: str, report: Mapping[str, Any], outcome: str) -> list[str]:
    rows = []
    for group in report.get("groups", []):
        if group.get("measured"):
            cells = [with_interval(group.get(k), group.get(f"{k}_ci")) for k, _ in GROUP_COLUMNS]
            cells.append(with_interval(group.get("roc_auc"), group.get("roc_auc_ci")))
        else:
            cells = [text(group.get("note", "too small to measure"))] + ["–"] * len(GROUP_COLUMNS)
        rows.append([text(group["group"]), str(group["count"]), number(group.get("base_rate")), *cells])
    header = [code(attribute), "n", f"{outcome} rate", *(title for _, title in GROUP_COLUMNS), "ROC AUC"]
    return table(header, rows)


def _disparity_table(attributes: Mapping[str, Any], gate: Mapping[str, Any]) -> list[str]:
    limits = gate.get("limits") or {}
    rows = []
    for attribute, report in attributes.items():
        disparities = report.get("disparities")
        if not disparities:
            rows.append([f"{code(attribute)}", text(report.get("note", "not measurable")), "–", "–"])
            continue
        rows.append(
            [f"{code(attribute)}"]
            + [with_interval(disparities[key]["value"], disparities[key]["ci"]) for key in DISPARITY_TITLES]
        )
    header = ["disparity", *DISPARITY_TITLES.values()]
    if limits:
        rows.append(
            [
                "*limit*",
                _limit(limits.get("min_demographic_parity_ratio"), "≥"),
                _limit(limits.get("max_demographic_parity_difference"), "≤"),
                _limit(limits.get("max_equalized_odds_difference"), "≤"),
            ]
        )
    return table(header, rows)


def _limit(value: Any, sign: str) -> str:
    return "none" if value is None else f"{sign} {value:g}"


def _fairness_gate_sentence(gate: Mapping[str, Any]) -> str:
    decision = gate.get("decision", "not recorded")
    judged = SET_TITLES.get(gate.get("predictions", ""), "?")
    action = "refuses the model" if gate.get("action") == "refuse" else "only warns"
    return f"Decision: **{decision}** (judged on the {judged}; a breached limit {action})."


def _behavioral(metadata: Mapping[str, Any]) -> list[str]:
    results = metadata.get("behavioral_tests")
    lines = ["## Behavioral tests", ""]
    if not results:
        return lines + ["None declared (`behavioral_tests` in the training config)."]
    rows = [
        [
            f"{code(r['name'])}",
            text(r["type"].replace("_", " ")),
            "yes" if r["enforced"] else "no (reported)",
            "passed" if r["passed"] else "**failed**",
            text(r["summary"]),
        ]
        for r in results
    ]
    lines += ["On the hold-out applicants; an enforced test that fails refuses the model.", ""]
    return lines + table(["test", "kind", "enforced", "result", "details"], rows)


def _gate(metadata: Mapping[str, Any]) -> list[str]:
    gate = metadata.get("gate") or {}
    lines = ["## Quality gate", "", f"Decision: **{gate.get('decision', 'not recorded')}**."]
    if gate.get("reasons"):
        lines += ["", "Overridden with `--force` despite:"] + [f"- {text(r)}" for r in gate["reasons"]]
    if gate.get("warnings"):
        lines += ["", "Warnings recorded:"] + [f"- {text(w)}" for w in gate["warnings"]]
    return lines


def _limitations(metadata: Mapping[str, Any]) -> list[str]:
    stated = [text(item) for item in _card(metadata).get("limitations", [])]
    found = []
    for set_name, attributes in ((metadata.get("fairness") or {}).get("sets") or {}).items():
        for attribute, report in attributes.items():
            small = [g["group"] for g in report.get("groups", []) if not g.get("measured")]
            if small:
                found.append(
                    f"{code(attribute)}: {', '.join(map(text, small))} too small to measure on the "
                    f"{SET_TITLES.get(set_name, set_name)}."
                )
    for result in metadata.get("behavioral_tests") or []:
        if not result["passed"] and not result["enforced"]:
            found.append(
                f"Behavioral test {code(result['name'])} fails (reported, not enforced): {text(result['summary'])}."
            )
    dropped = set(metadata.get("dropped_features") or [])
    used = [
        d["column"]
        for d in ((metadata.get("fairness") or {}).get("attributes") or {}).values()
        if d["column"] not in dropped
    ]
    if used:
        found.append(
            f"Protected attributes used as model inputs: {', '.join(f'{code(c)}' for c in sorted(set(used)))}."
        )
    lines = ["## Limitations", ""]
    return lines + ([f"- {item}" for item in stated + found] or ["- none stated"])


def _lineage(metadata: Mapping[str, Any]) -> list[str]:
    lineage = _lineage_of(metadata)
    git = lineage.get("git") or {}
    mlflow = lineage.get("mlflow") or {}
    data = lineage.get("dataset") or {}
    dvc = lineage.get("dvc") or {}
    dirty = {True: " (with uncommitted changes)", False: "", None: ""}[git.get("uncommitted_changes")]
    rows = [
        ["Code", f"git commit {code(git.get('commit', metadata.get('git_commit', '?')))}{dirty}"],
        ["Data", f"{code(data.get('path', '?'))} md5 `{data.get('md5', '?')}`"],
        ["MLflow", f"{text(mlflow.get('tracking_uri', '?'))}, experiment {code(mlflow.get('experiment', '?'))}"],
        ["Session run", f"`{mlflow.get('session_run_id', '?')}`"],
        ["Champion run", f"`{mlflow.get('champion_run_id', metadata.get('run_id', '?'))}`"],
        [
            "Registered",
            f"{code(mlflow.get('registered_model', metadata.get('name', '?')))} v{mlflow.get('version', '?')}",
        ],
        ["Trained by", text(lineage.get("trained_by", "?"))],
        *_outcomes(lineage.get("outcomes")),
    ]
    lines = ["## Lineage", ""] + facts(rows) + [""]
    stages = dvc.get("stages")
    if not stages:
        return lines + ["DVC: no `dvc.lock` at training time (trained outside `dvc repro`, e.g. in the trainer image)."]
    match = {True: "records this data file", False: "records **other** data than trained on", None: "does not list it"}
    lines += [f"DVC stages ({code(dvc.get('lock'))}, which {match[dvc.get('data_matches_lock')]}):", ""]
    rows = [
        [f"{code(stage)}", "; ".join(f"{code(path)} `{md5[:12]}`" for path, md5 in hashes["outs"].items()) or "–"]
        for stage, hashes in stages.items()
    ]
    return lines + table(["stage", "outputs (md5)"], rows)


def _outcomes(outcomes: Mapping[str, Any] | None) -> list[list[str]]:
    """The facts of a `make retrain` model: the labeled rows added to the original data, the serving model beaten."""
    if not outcomes:
        return []
    labeled, original = outcomes.get("labeled") or {}, outcomes.get("original") or {}
    ids, serving = labeled.get("prediction_ids") or {}, outcomes.get("serving") or {}
    holdout = outcomes.get("holdout") or {}
    return [
        [
            "Outcomes",
            f"{labeled.get('rows', '?')} matured labeled predictions ({code(ids.get('first', '?'))} to "
            f"{code(ids.get('last', '?'))}) in {code(labeled.get('path', '?'))} sha256 "
            f"`{str(labeled.get('sha256', '?'))[:12]}`, added to {code(original.get('path', '?'))}",
        ],
        [
            "Compared with",
            f"the serving v{text(serving.get('version', '?'))} on a common hold-out of {holdout.get('rows', '?')} "
            f"rows neither trained on (its ROC AUC there: {float(serving.get('holdout_roc_auc', 'nan')):.4f})",
        ],
    ]


def _deployments(deployments: Sequence[Mapping[str, Any]] | None) -> list[str]:
    lines = ["## Deployment history", ""]
    if not deployments:
        return lines + ["Not deployed yet: the deploy step records who promotes this version and when."]
    rows = [
        [
            text(d.get("time", "?")),
            text(d.get("operation", "?")),
            text(d.get("target", "?")),
            text(d.get("operator", "?")),
            text(d.get("result", "?")),
            text(d.get("reason", "")),
        ]
        for d in deployments
    ]
    return lines + table(["time", "operation", "stack", "by", "result", "reason"], rows)
