"""New project by conversation, in a real headless Chromium."""

import pytest
from playwright.sync_api import expect

from projects.models import Project, ProjectDraft
from projects.tests.test_drafts import PLAN
from tests.factories import UserFactory
from tests.fake_gemini import JsonReply, Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def task_titles(page):
    return page.locator(".draft-task__main input[type='text']")


def test_describe_watch_the_draft_edit_create_and_land_on_the_board(page, log_in, fake_gemini):
    fake_gemini.script(Reply(["Sounds good. ", "**When** should it open?"]))
    fake_gemini.script_structured(JsonReply(PLAN))
    log_in(UserFactory())
    page.goto("/")
    page.get_by_role("link", name="Create project").first.click()
    expect(page).to_have_url("/projects/new/")

    page.get_by_label("What do you want to build?").fill("Open a bakery in Leeds: premises, ovens, two bakers.")
    page.get_by_role("button", name="Start planning").click()

    expect(page.locator(".bubble--user")).to_have_text("Open a bakery in Leeds: premises, ovens, two bakers.")
    expect(page.locator(".reply__text strong")).to_have_text("When")
    # The reply is in: the draft beside the chat fills in.
    expect(page.get_by_label("Project name")).to_have_value("Bakery opening")
    expect(task_titles(page)).to_have_count(3)
    expect(task_titles(page).nth(0)).to_have_value("Find premises")

    # Edit a task; the change is kept as soon as the field is left.
    task_titles(page).nth(1).fill("Buy two deck ovens")
    task_titles(page).nth(1).press("Tab")
    expect(page.locator(".draft-panel__status")).to_have_text("Saved")
    page.get_by_role("button", name="Remove task 3").click()
    expect(task_titles(page)).to_have_count(2)
    page.get_by_label("New task").fill("Plan the opening week")
    page.get_by_label("New task").press("Enter")
    expect(task_titles(page)).to_have_count(3)

    # A reload finds the draft as it was left.
    page.reload()
    expect(task_titles(page).nth(1)).to_have_value("Buy two deck ovens")
    expect(task_titles(page).nth(2)).to_have_value("Plan the opening week")

    page.get_by_role("button", name="Create project").click()

    expect(page.get_by_text("Created “Bakery opening” with 3 tasks.")).to_be_visible()
    project = Project.objects.get()
    expect(page).to_have_url(f"/projects/{project.pk}/")
    assert list(project.tasks.order_by("position").values_list("title", flat=True)) == [
        "Find premises",
        "Buy two deck ovens",
        "Plan the opening week",
    ]
    assert not ProjectDraft.objects.exists()


def test_malformed_model_json_says_so_and_leaves_the_draft_unchanged(page, log_in, fake_gemini):
    fake_gemini.script(Reply(["Tell me more."]))
    fake_gemini.script_structured(JsonReply(text="{not json"))
    log_in(UserFactory())
    page.goto("/projects/new/")
    page.get_by_label("What do you want to build?").fill("A garden shed")
    page.get_by_role("button", name="Start planning").click()

    expect(page.get_by_text("The assistant's plan could not be used, so your draft is unchanged.")).to_be_visible()
    expect(page.get_by_label("Project name")).to_have_value("")
    expect(page.get_by_text("No tasks yet.")).to_be_visible()


def test_the_same_journey_with_the_offline_assistant(page, log_in, settings):
    settings.AI_PROVIDER = "offline"
    log_in(UserFactory())
    page.goto("/projects/new/")
    page.get_by_label("What do you want to build?").fill(
        "A community garden called Green Patch by the end of May.\n- Clear the plot\n- Build raised beds\n- Plant herbs"
    )
    page.get_by_role("button", name="Start planning").click()

    expect(page.locator(".reply__text")).to_contain_text("Green Patch")
    expect(page.get_by_label("Project name")).to_have_value("Green Patch")
    expect(page.locator("#draft-title")).to_have_text("Green Patch")
    expect(task_titles(page)).to_have_count(3)

    page.get_by_role("button", name="Move task 3 up").click()
    expect(task_titles(page).nth(1)).to_have_value("Plant herbs")
    page.get_by_role("button", name="Create project").click()

    expect(page.get_by_text("Created “Green Patch” with 3 tasks.")).to_be_visible()
    project = Project.objects.get()
    assert list(project.tasks.order_by("position").values_list("title", flat=True)) == [
        "Clear the plot",
        "Plant herbs",
        "Build raised beds",
    ]
    # The conversation is the new project's first planning chat.
    page.goto(f"/projects/{project.pk}/chat/")
    expect(page.locator(".bubble--user")).to_contain_text("community garden")
