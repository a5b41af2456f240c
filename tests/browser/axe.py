"""An automated WCAG 2.2 AA check with axe-core, injected into the page under test.

axe-core comes from npm with the interop tests' packages (`python -m tests.interop.setup`,
which `make test` runs first).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parents[1] / "interop" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]

RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


@cache
def axe_source() -> str:
    """axe.min.js; the test fails (never skips) with the command that installs it."""
    if not AXE.is_file():
        pytest.fail(
            "axe-core is needed for the accessibility check: python -m tests.interop.setup",
            pytrace=False,
        )
    return AXE.read_text(encoding="utf-8")


async def assert_accessible(page, what: str) -> None:
    """No WCAG 2.2 A/AA violation that axe-core can detect on the page as it is now."""
    # After a click that navigates, the new document may not be parsed yet (seen in CI: no
    # <head> to add axe to); check the page the click led to, once it has loaded.
    await page.wait_for_load_state()
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(content=axe_source())
    violations = await page.evaluate(RUN, WCAG_22_AA)
    if violations:
        lines = [f"{what} ({page.url}) has {len(violations)} accessibility violation(s):"]
        for violation in violations:
            lines.append(f"- {violation['id']} [{violation['impact']}]: {violation['help']}")
            lines.extend(f"    {node}" for node in violation["nodes"])
        pytest.fail("\n".join(lines), pytrace=False)
