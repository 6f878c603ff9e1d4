"""What the browser tests share: the axe-core audit with its screenshot, and finding Mantine
controls by their label."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "ui" / "node_modules" / "axe-core" / "axe.min.js"
LONG = 90_000  # ms: operations on a busy 2-core machine


def audit(page, name: str, screenshots: Path) -> None:
    """axe-core: no serious or critical violations; then a full-page screenshot."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run npm ci in ui/")
    page.wait_for_load_state("networkidle")
    # a notification fading in or out is translucent: axe measures its blended colours and
    # reports a contrast its settled state does not have. Wait for finite animations and
    # transitions to end (a spinner's infinite one never does), and for every notification
    # to be opaque: Mantine moves one through its states on timers, so on a loaded machine
    # it can sit translucent between two transitions, when no animation is running.
    page.wait_for_function(
        """() => document.getAnimations().every(
            (a) => a.playState !== "running" || a.effect?.getComputedTiming().iterations === Infinity)
          && [...document.querySelectorAll(".mantine-Notifications-root *")].every(
            (e) => getComputedStyle(e).opacity === "1")""",
        timeout=10_000,
    )
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"accessibility violations on {name}: {json.dumps(bad, indent=1)}"
    page.evaluate("() => window.scrollTo(0, 0)")  # a full-page shot of a scrolled page misplaces the header
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def field(page, label: str):
    """The control labelled ``label`` (a required one's label ends with " *")."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the Mantine select labelled ``label``."""
    page.get_by_role("textbox", name=re.compile(rf"^{re.escape(label)}( \*)?$")).click()
    page.get_by_role("option", name=option, exact=True).click()


def wait_operation(page, result: str = "success") -> None:
    from playwright.sync_api import expect

    expect(page.get_by_text(re.compile(r"^finished "))).to_be_visible(timeout=LONG)
    expect(page.locator("main").get_by_text(result, exact=True).first).to_be_visible()
