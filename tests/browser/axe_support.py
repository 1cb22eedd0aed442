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


# Inside JupyterLab's notebook axe-core judges every cell's content to be off screen (the
# windowed notebook's scroll container), so its color-contrast rule finds nothing to check there.
# This measures each piece of text in the panel with the same WCAG formula: its colour against
# the backgrounds of its ancestors, composited until opaque.
CONTRAST = """(selector) => {
  const parse = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const rgba = (s) => { const [r, g, b, a = 1] = parse(s); return [r, g, b, s.startsWith("rgba") || a !== 1 ? a : 1]; };
  const over = ([r, g, b, a], [R, G, B]) => [r * a + R * (1 - a), g * a + G * (1 - a), b * a + B * (1 - a)];
  const lum = (rgb) => {
    const [r, g, b] = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const c = rgba(getComputedStyle(node).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let bg = [255, 255, 255];
    for (const layer of layers.reverse()) bg = over(layer, bg);
    return bg;
  };
  const hex = (rgb) => "#" + rgb.map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
  const failures = [];
  for (const root of document.querySelectorAll(selector)) {
    for (const el of [root, ...root.querySelectorAll("*")]) {
      const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      const field = el.matches("input[type=text], input[type=number], input:not([type]), select, textarea");
      if (!(own || field) || el.disabled || el.closest("[hidden], .jig-sr-only, [disabled]")) continue;
      if (!el.getClientRects().length) continue;
      const style = getComputedStyle(el);
      const bg = background(el);
      const fg = over(rgba(style.color), bg);
      const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
      const ratio = (hi + 0.05) / (lo + 0.05);
      const px = parseFloat(style.fontSize);
      const large = px >= 24 || (px >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) {
        failures.push({ html: el.outerHTML.slice(0, 160), ratio: Math.round(ratio * 100) / 100, colours: `${hex(fg)} on ${hex(bg)}` });
      }
    }
  }
  return failures;
}"""


def contrast_failures(page: Any, selector: str = ".jig-panel") -> list[dict[str, Any]]:
    """Text in the panel below WCAG AA contrast (4.5:1, 3:1 for large text)."""
    return list(page.evaluate(CONTRAST, selector))
