"""axe-core in the page under test. The engine is the ``axe.min.js`` that the PyPI package
``axe-playwright-python`` ships: injected from disk, it needs no network."""

from __future__ import annotations

from typing import Any

BLOCKING = ("serious", "critical")


def axe_violations(page: Any, selector: str = ".jig-panel") -> list[dict[str, Any]]:
    """The serious and critical WCAG violations inside the elements matching ``selector``."""
    from axe_playwright_python.base import AXE_SCRIPT

    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    result = page.evaluate(
        """(selector) => axe.run({ include: [selector] }, {
            resultTypes: ["violations"],
            runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
        })""",
        selector,
    )
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            lines.append(
                f"{violation['id']} ({violation['impact']}): {node['html'][:160]}\n  {node['failureSummary']}"
            )
    return "\n".join(lines)
