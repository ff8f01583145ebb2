"""/admin/reports/ and /admin/onboarding/ laid out at a desktop (1440 px) and a phone (390 px)
width, in light and dark mode, measured in headless Chromium over the demo data: no label
runs under its bar, the follow-up timeline is readable (full width on a desktop, labelled
cards on a phone, handles whole), and the record form is one tap away and answers where the
user is. Screenshots of each go to test-artifacts/.
"""

import pytest

from tests.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}

# Boxes of every breakdown row's label and bar (the funnel's "Of the starts", abort reasons).
METER_BOXES = """
() => [...document.querySelectorAll('.meter-row:not(.in-cell)')].map(row => {
  const label = row.children[0], bar = row.querySelector('.meter');
  const a = label.getBoundingClientRect(), b = bar.getBoundingClientRect();
  return {text: label.textContent.trim(), overflows: label.scrollWidth > label.clientWidth + 1,
          overlaps: a.right > b.left + 0.5 && a.bottom > b.top + 0.5 && b.bottom > a.top + 0.5};
})
"""


def _open(browser_page, path, viewport, color_scheme="light"):
    return browser_page(
        user="alice",
        password="alice-password",
        next_url=path,
        viewport=viewport,
        color_scheme=color_scheme,
    )


def _assert_meters_clear(page):
    boxes = page.evaluate(METER_BOXES)
    assert boxes, "the funnel's breakdown rows are on the page"
    bad = [box["text"] for box in boxes if box["overlaps"] or box["overflows"]]
    assert not bad, f"labels running under their bars: {bad}"


def _assert_no_sideways_scroll(page, viewport):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"] + 2, f"{width}px wide on a {viewport['width']}px screen"
    # Nor does any table scroll in its own box, hiding columns (a phone saw 320 of 940 px).
    hidden = page.evaluate(
        "[...document.querySelectorAll('#content-main table')].filter(t => t.offsetParent)"
        ".filter(t => t.parentElement.scrollWidth > t.parentElement.clientWidth + 1"
        " || t.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
        ".map(t => (t.id || t.className) + ' ' + Math.round(t.getBoundingClientRect().width))"
    )
    assert not hidden, f"tables wider than their box: {hidden}"


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_reports_page_is_usable_at_each_width(
    browser_page, alice, demo_data, size, color_scheme
):
    viewport = WIDTHS[size]
    page = _open(browser_page, "/admin/reports/", viewport, color_scheme)
    screenshot(page, f"reports-{size}-{color_scheme}")
    _assert_no_sideways_scroll(page, viewport)
    _assert_meters_clear(page)

    table = page.locator("#follow-up-table")
    content = page.locator("#follow-ups").bounding_box()
    box = table.bounding_box()
    assert box["width"] >= content["width"] - 4, "the timeline has the section's whole width"
    # A handle never splits over two lines (@socialforge_ / 1).
    split = page.evaluate(
        "[...document.querySelectorAll('#follow-up-table .handle')]"
        ".filter(h => h.getClientRects().length > 1).map(h => h.textContent)"
    )
    assert page.locator("#follow-up-table .handle").count() > 0 and not split, split
    # Nothing in the timeline scrolls sideways in its own box either.
    assert page.evaluate(
        "(() => { const w = document.querySelector('#follow-up-table').parentElement;"
        " return w.scrollWidth <= w.clientWidth + 1; })()"
    )
    notes = page.locator("#follow-up-table td.notes").first.bounding_box()
    if size == "desktop":
        assert box["width"] >= 1000, f"the timeline is {box['width']}px wide at 1440px"
        assert notes["width"] >= 250, f"notes get {notes['width']}px"
    else:
        # A card per follow-up: every cell a labelled line across the card, none hidden.
        cells = page.evaluate(
            "[...document.querySelectorAll('#follow-up-table tbody tr:first-child td')]"
            ".map(td => [getComputedStyle(td, '::before').content, td.getBoundingClientRect().width])"
        )
        assert [label for label, _ in cells] == [
            '"When (UTC)"',
            '"Provider"',
            '"Action"',
            '"Platform"',
            '"Notes"',
            '"Conversion"',
        ]
        assert all(width >= PHONE["width"] - 80 for _, width in cells), cells
        # The content of each cell starts right of its label, never under it.
        starts = page.evaluate(
            "[...document.querySelectorAll('#follow-up-table tbody tr:first-child td *')]"
            ".map(e => e.getBoundingClientRect().left - e.closest('td').getBoundingClientRect().left)"
        )
        assert min(starts) >= 100, starts
        assert notes["height"] < 200, "a note reads across the card, not a word a line"


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_record_form_is_one_tap_away_and_answers_where_the_user_is(
    browser_page, alice, demo_data, size
):
    viewport = WIDTHS[size]
    page = _open(browser_page, "/admin/reports/", viewport)
    page.locator("nav.page-nav a[data-jump=record]").click()
    summary = page.locator("#record-follow-up > summary")
    top = summary.bounding_box()["y"]
    assert 0 <= top < viewport["height"], f"the form's opener is at {top}px after the jump"
    form = page.locator("#record-follow-up form")
    assert form.is_visible(), "the jump opens the form: one tap, not two"
    required = [text.split("*")[0] for text in form.locator("label.required").all_inner_texts()]
    assert required == ["Provider id", "Provider name", "Action"]
    form.locator("[name=provider_id]").fill("prov-layout")
    form.locator("[name=provider_name]").fill("Layout Check")
    form.locator("[name=action]").select_option("escalate")
    form.locator("[name=notes]").fill("Recorded from the layout test.")
    with page.expect_navigation():
        form.get_by_role("button", name="Record follow-up").click()
    message = page.locator(".follow-up-message")
    assert "Recorded: Escalate for Layout Check." in message.inner_text()
    box = message.bounding_box()
    assert 0 <= box["y"] < viewport["height"], f"the message is at {box['y']}px, off-screen"
    first_row = page.locator("#follow-up-table tbody tr").first
    assert "Layout Check" in first_row.inner_text()
    screenshot(page, f"reports-recorded-{size}")


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_onboarding_page_is_usable_at_each_width(
    browser_page, alice, demo_data, size, color_scheme
):
    viewport = WIDTHS[size]
    page = _open(browser_page, "/admin/onboarding/", viewport, color_scheme)
    screenshot(page, f"onboarding-{size}-{color_scheme}")
    _assert_no_sideways_scroll(page, viewport)
    _assert_meters_clear(page)
    activity = page.locator("#journey-table tbody tr[data-journey]").first.locator("td").last
    assert "Started" in activity.inner_text() and "Last event" in activity.inner_text()
    # The newest rows page on: "Older rows" leads on, and the next page offers "Newer".
    with page.expect_navigation():
        page.locator("[data-segment-pager] a[data-page=older]").click()
    assert page.locator("[data-segment-pager] a[data-page=newer]").count() == 1
    assert page.locator("#segment-rows tbody tr[data-segment]").count() > 0


@pytest.mark.parametrize(
    "path",
    ["/admin/exports/exportrun/", "/admin/exports/cursorchange/", "/admin/exports/feedflip/"],
)
def test_the_admin_run_lists_fit_a_desktop(browser_page, alice, demo_data, path):
    """The Export runs list was 1088 px in its 791 px box at 1440 px: "Cursor after" cut
    to "CU..." and the Error column off-screen."""
    page = _open(browser_page, path, DESKTOP)
    screenshot(page, "admin-" + path.strip("/").replace("/", "-"))
    assert page.locator("#result_list tbody tr").count() > 0
    box = page.evaluate(
        "(() => { const t = document.querySelector('#result_list');"
        " const w = t.closest('.results');"
        " return [t.getBoundingClientRect().width, w.clientWidth, w.scrollWidth]; })()"
    )
    table, room, scrolled = box
    widths = page.evaluate(
        "[...document.querySelectorAll('#result_list thead th')]"
        ".map(th => th.className + ' ' + Math.round(th.getBoundingClientRect().width))"
    )
    assert table <= room + 1 and scrolled <= room + 1, f"{table}px of table in {room}px: {widths}"
