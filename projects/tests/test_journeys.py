import re

import pytest
from playwright.sync_api import expect

from tests.factories import ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TASKS = ["Sketch the layout", "Write the copy", "Build the pages", "Test on phones", "Go live"]


def column(page, name):
    return page.get_by_role("region", name=re.compile(rf"^{name}"))


def test_plan_a_project_on_the_board_and_see_the_dashboard_follow(page, log_in):
    log_in(UserFactory(name="Ada Lovelace"))
    expect(page.get_by_text("No projects yet")).to_be_visible()

    page.get_by_role("link", name=re.compile("New blank project")).first.click()
    page.get_by_label("Name").fill("Website relaunch")
    page.get_by_label("Description").fill("A fresh site for spring.")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Website relaunch")
    expect(page.get_by_text("No tasks yet").first).to_be_visible()

    title = page.get_by_label("New task title")
    for name in TASKS:
        title.fill(name)
        title.press("Enter")
        expect(page.get_by_text(name, exact=True)).to_be_visible()
        expect(title).to_have_value("")
    expect(page.locator("#announcement")).to_have_text("Added “Go live”.")
    expect(column(page, "To do").locator(".task")).to_have_count(5)

    # Across the board: one card by dragging, one by its arrow button.
    page.locator(".task", has_text="Build the pages").drag_to(column(page, "In progress").locator(".board__cards"))
    expect(column(page, "In progress").locator(".task")).to_have_count(1)
    expect(column(page, "In progress")).to_contain_text("Build the pages")
    # The card moves before the server answers; wait for the answer, whose new
    # region replaces the buttons, before pressing one.
    expect(page.locator("#announcement")).to_have_text("Moved “Build the pages” to In progress.")
    page.get_by_role("button", name="Move “Write the copy” to In progress").click()
    expect(column(page, "In progress").locator(".task")).to_have_count(2)

    for name in ("Sketch the layout", "Write the copy"):
        page.get_by_role("button", name=f"Done: {name}").click()
        expect(column(page, "Done")).to_contain_text(name)
    expect(page.locator("#announcement")).to_have_text("Marked “Write the copy” as done.")
    progress = page.locator("#project-progress")
    expect(progress).to_contain_text("40%")
    expect(progress).to_contain_text("2 of 5 tasks done")

    page.reload()
    expect(column(page, "To do").locator(".task")).to_have_count(2)
    expect(column(page, "In progress").locator(".task")).to_have_count(1)
    expect(column(page, "Done").locator(".task")).to_have_count(2)
    expect(page.locator("#project-progress")).to_contain_text("40%")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("progressbar", name="Progress of Website relaunch")).to_have_attribute(
        "aria-valuenow", "40"
    )
    page.get_by_role("link", name="Website relaunch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Website relaunch")


def test_list_view_edit_in_place_bad_input_and_another_users_view(page, log_in):
    owner = UserFactory()
    log_in(owner)
    page.goto("/projects/new/blank/")
    page.get_by_label("Name").fill("Garden")
    page.get_by_label("Start date").fill("2030-05-02")
    page.get_by_label("Due date").fill("2030-05-01")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_text("The due date cannot be before the start date.")).to_be_visible()
    page.get_by_label("Due date").fill("2030-06-01")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Garden")
    project_url = page.url

    page.get_by_role("button", name="List").click()
    # The empty board already shows .task-empty; wait for the list's own region.
    expect(page.locator(".task-region--list")).to_have_count(1)
    page.get_by_role("button", name="Add task").click()
    expect(page.get_by_text("Give the task a title.")).to_be_visible()
    page.get_by_label("New task title").fill("Plant tulips")
    page.get_by_role("button", name="Add task").click()
    expect(page.locator(".task-list")).to_contain_text("Plant tulips")

    page.get_by_role("link", name="Edit “Plant tulips”").click()
    page.get_by_label("Task", exact=True).fill("")
    page.get_by_role("button", name="Save task").click()
    expect(page.get_by_text("Give the task a title.")).to_be_visible()
    page.get_by_label("Task", exact=True).fill("Plant 40 tulips")
    page.get_by_label("Priority", exact=True).select_option("high")
    page.get_by_role("button", name="Save task").click()
    expect(page.locator(".task-list")).to_contain_text("Plant 40 tulips")
    expect(page.locator(".task-list")).to_contain_text("High")
    page.get_by_role("link", name="Delete “Plant 40 tulips”").click()
    page.get_by_role("button", name="Delete task").click()
    expect(page.get_by_text("No tasks yet").first).to_be_visible()

    page.reload()
    expect(page.locator(".task-region--list")).to_have_count(1)

    page.context.clear_cookies()
    log_in(UserFactory())
    response = page.goto(project_url)
    assert response.status == 404


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


@pytest.mark.parametrize("viewport", [(390, 760), (1280, 560)], ids=["phone", "desktop"])
def test_tasks_added_in_a_row_show_in_place_and_no_toast_covers_the_form(page, log_in, viewport):
    user = UserFactory()
    project = ProjectFactory(owner=user, name="Bakery")
    log_in(user)
    width, height = viewport
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"/projects/{project.pk}/")
    title = page.get_by_label("New task title")
    announcement = page.locator("#announcement")

    for name in ("Buy flour", "Hire a baker", "Print the menu"):
        title.fill(name)
        title.press("Enter")
        # Screen readers hear what happened, and the new card glows where it landed.
        expect(announcement).to_have_text(f"Added “{name}”.")
        expect(page.locator(".task", has_text=name)).to_have_class(re.compile(r"\btask--changed\b"))
        expect(page.locator(".task--changed")).to_have_count(1)
        expect(title).to_have_value("")
        expect(title).to_be_focused()
    expect(page.locator("#toasts .toast")).to_have_count(0)
    expect(column(page, "To do").locator(".task")).to_have_count(3)

    # A toast that does come (one the page raises, as for a failed copy) stays off the form in use,
    # wherever the form is on the screen.
    form = page.locator("#task-add-form")
    toasts = page.locator("#toasts .toast")
    for edge in ("top", "bottom"):
        page.evaluate(
            """([form, edge]) => {
                const box = form.getBoundingClientRect();
                const header = document.querySelector(".site-header").getBoundingClientRect().height;
                window.scrollBy(0, edge === "top" ? box.top - header - 8 : box.bottom - window.innerHeight + 8);
            }""",
            [form.element_handle(), edge],
        )
        title.focus()
        page.evaluate("window.catalystToast('Could not copy. Select the text and copy it instead.', 'error')")
        expect(toasts).to_have_count(1)
        assert not overlaps(toasts.first.bounding_box(), form.bounding_box()), edge
        page.evaluate("document.getElementById('toasts').replaceChildren()")
