"""Every page works under the Content-Security-Policy (no inline script, no eval), in a real Chromium."""

import pytest
from playwright.sync_api import expect

from tests.factories import ProjectFactory, TaskFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_pages_and_their_scripts_run_with_no_policy_violation(page, log_in, quick_chat):
    violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    page.on("pageerror", lambda error: violations.append(str(error)))
    user = UserFactory(is_staff=True, is_superuser=True)
    project = ProjectFactory(owner=user, name="Apollo launch")
    task = TaskFactory(project=project, title="Write the press release")
    log_in(user)

    # A task edited in place, then Escape: the list comes back (a key filter htmx no longer evaluates).
    page.goto(f"/projects/{project.pk}/")
    page.get_by_role("link", name="Edit “Write the press release”").click()
    title = page.locator(f"#task-{task.pk} input[name$='title']")
    expect(title).to_be_focused()
    title.press("Escape")
    expect(page.locator(f"#task-{task.pk} .task__title, #task-{task.pk} p").first).to_have_text(
        "Write the press release"
    )
    expect(page.locator(f"#task-{task.pk}.task--editing")).to_have_count(0)

    # A streamed reply in the planning chat, and the assistant's panel.
    page.goto("/chat/")
    box = page.get_by_role("textbox", name="Message")
    box.fill("What is overdue?")
    box.press("Enter")
    expect(page.locator(".reply--complete")).to_have_count(1)
    page.get_by_role("button", name="Assistant", exact=True).click()
    expect(page.get_by_role("complementary", name="Assistant").get_by_role("textbox", name="Message")).to_be_visible()

    for path in ("/", "/projects/", "/projects/new/", "/accounts/profile/", "/admin/", "/api/docs"):
        page.goto(path)
        page.wait_for_load_state("networkidle")

    assert violations == []
