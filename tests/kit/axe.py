"""axe-core (tests/kit/axe/, installed from the npm registry by `make system-deps`) injected into a page of the
headless browser: the WCAG 2.1 A and AA rules, violations as short lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

AXE_SCRIPT = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")


def missing() -> str | None:
    """Why axe cannot run here (None: it can)."""
    return (
        None
        if AXE_SCRIPT.is_file()
        else f"axe-core is not installed in {AXE_SCRIPT.parents[2]}: run `make system-deps`"
    )


def violations(browser: Any, impacts: tuple[str, ...] = BLOCKING) -> list[str]:
    """The page's WCAG 2.1 AA violations of these impacts: 'rule (impact): help — first offending element'."""
    browser.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    found = browser.evaluate(
        f"axe.run(document, {{runOnly: {{type: 'tag', values: {json.dumps(WCAG_21_AA)}}}}})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
        "nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)})))"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {', '.join(v['nodes'])}" for v in found if v["impact"] in impacts
    ]
