"""The Generator in a real browser: every predefined case runs end to end and every assertion passes."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.e2e


def test_every_case_passes_every_assertion(page):
    page.goto("/generator")
    page.fill("input[name=brukernavn]", "generator")
    page.click("button[type=submit]")
    page.wait_for_selector("#send")
    cases = page.eval_on_selector_all("[data-case]", "els => els.map(e => e.dataset.case)")
    assert len(cases) >= 7
    for case in cases:
        page.click(f"[data-case='{case}']")
        page.click("#send")
        page.wait_for_function(f"document.body.dataset.done === '{case}'", timeout=60_000)
        outcomes = page.eval_on_selector_all("#assertions li", "els => els.map(e => [e.dataset.outcome, e.innerText])")
        assert outcomes and all(o == "pass" for o, _ in outcomes), (case, outcomes, page.inner_text("#log"))
        if case == "registrer":
            screenshot(page, "generator")


def test_dry_run_edit_and_reset(page):
    page.goto("/generator")
    page.fill("input[name=brukernavn]", "generator")
    page.click("button[type=submit]")
    page.wait_for_selector("#send")
    original = page.input_value("#document")
    page.fill("#document", original.replace('"kum#1"', '"kum#redigert"'))
    page.check("#dryrun")
    page.click("#send")
    page.wait_for_function("document.body.dataset.done === 'registrer'", timeout=60_000)
    assert "kum#redigert" in (page.text_content("#log") or "")  # the edited document was sent
    assert page.locator("#assertions li[data-outcome=fail]").count() == 0
    page.click("#reset")
    assert page.input_value("#document") == original
