"""What axe-core cannot measure: the focus ring and the borders of form controls against the
colour behind them (WCAG 2.2 1.4.11 non-text contrast and 2.4.13 focus appearance: >= 3:1)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

# For every focusable element: its ring's colour and width after .focus(), against the colour
# the ring is drawn on (the element's own background for an inset ring, else the nearest
# opaque background of its ancestors). For every control: its border against its background.
MEASURE = """() => {
  const parse = (c) => { const m = c.match(/[\\d.]+/g); if (!m) return null;
    return {r: +m[0], g: +m[1], b: +m[2], a: m.length > 3 ? +m[3] : 1}; };
  const lum = ({r, g, b}) => { const f = (v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05); };
  const backdrop = (el) => { for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor); if (c && c.a > 0.5) return c; }
    return {r: 255, g: 255, b: 255, a: 1}; };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (typeof el.className === "string" && el.className ? "." + el.className.split(" ")[0] : "") +
    " '" + (el.textContent || el.value || "").trim().slice(0, 30) + "'";
  const problems = [];
  const focusable = [...document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]")];
  for (const el of focusable) {
    el.focus();
    if (document.activeElement !== el) continue;
    const style = getComputedStyle(el);
    const width = parseFloat(style.outlineWidth);
    if (style.outlineStyle === "none" || width < 2) {
      problems.push(`no focus ring on ${name(el)}`); continue; }
    const inset = parseFloat(style.outlineOffset) < 0;
    const behind = inset ? backdrop(el) : backdrop(el.parentElement || el);
    const r = ratio(parse(style.outlineColor), behind);
    if (r < 3) problems.push(`focus ring ${r.toFixed(2)}:1 on ${name(el)}`);
    el.blur();
  }
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    if (el.type === "radio" || el.type === "checkbox") continue;  // drawn by the browser
    const style = getComputedStyle(el);
    const r = ratio(parse(style.borderTopColor), backdrop(el.parentElement || el));
    if (r < 3) problems.push(`border ${r.toFixed(2)}:1 on ${name(el)}`);
  }
  return problems;
}"""


async def _check(page, url: str) -> list[str]:
    await page.goto(url)
    return [f"{url}: {problem}" for problem in await page.evaluate(MEASURE)]


async def test_focus_rings_and_control_borders_stand_out_on_every_background(browser, site):
    page = await browser.new_page()
    base = site.url
    await site.community("nursing", "Nursing")
    problems = await _check(page, base + "/")
    problems += await _check(page, base + "/signup")
    problems += await _check(page, base + "/c/nursing")
    await page.goto(base + "/signup")
    await page.get_by_label("Username").fill("nadia")
    await page.get_by_label("Password", exact=True).fill("a long safe passphrase")
    await page.get_by_label("Repeat password").fill("a long safe passphrase")
    await page.get_by_role("button", name="Create account").click()
    for path in ("/", "/c/nursing", "/settings/profile", "/settings/delete", "/search?q=x"):
        problems += await _check(page, base + path)
    assert problems == []
