import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.factories import DEFAULT_PASSWORD, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_then_see_an_empty_dashboard(page):
    page.goto("/")
    page.wait_for_url("**/accounts/login/?next=/")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password", exact=True).fill("analytical-engine-1843")
    page.get_by_label("Password confirmation").fill("analytical-engine-1843")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Hello, Ada")
    assert page.get_by_text("No projects yet").is_visible()


def test_signed_out_in_another_tab_the_typed_task_comes_back_after_logging_in(page, log_in):
    user = UserFactory()
    project = ProjectFactory(owner=user, name="Garden")
    log_in(user)
    page.goto(f"/projects/{project.pk}/")
    page.get_by_placeholder("Add a task…").fill("Order the seeds")
    page.context.clear_cookies(name=settings.SESSION_COOKIE_NAME)  # as if signed out in another tab

    page.get_by_role("button", name="Add task").click()

    page.wait_for_url(lambda url: "/accounts/login/" in url)
    assert project.tasks.count() == 0
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.wait_for_url(lambda url: url.endswith(f"/projects/{project.pk}/"))
    expect(page.get_by_placeholder("Add a task…")).to_have_value("Order the seeds")
    expect(page.get_by_text("What you typed is back")).to_be_visible()
    assert project.tasks.count() == 0  # nothing was sent behind the user's back


def test_signed_out_the_chat_message_being_sent_comes_back_after_logging_in(page, log_in):
    user = UserFactory()
    log_in(user)
    page.goto("/chat/")
    composer = page.get_by_role("textbox", name="Message")
    composer.fill("Plan the harvest festival")
    page.context.clear_cookies(name=settings.SESSION_COOKIE_NAME)

    composer.press("Enter")

    page.wait_for_url(lambda url: "/accounts/login/?next=/chat/" in url)
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: url.endswith("/chat/"))
    expect(page.get_by_role("textbox", name="Message")).to_have_value("Plan the harvest festival")
    expect(page.locator(".exchange")).to_have_count(0)


def test_revoking_a_token_asks_first_and_cancel_keeps_it(page, log_in):
    from accounts.models import ApiToken

    user = UserFactory()
    ApiToken.issue(user=user, name="Laptop script")
    log_in(user)
    page.goto("/accounts/profile/")

    page.locator("summary", has_text="Revoke").click()
    dialog = page.get_by_role("dialog", name="Revoke the token Laptop script")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert ApiToken.objects.filter(user=user).count() == 1

    page.locator("summary", has_text="Revoke").click()
    dialog.get_by_role("button", name="Revoke token").click()
    expect(page.get_by_text("You have no API tokens yet.")).to_be_visible()
    assert ApiToken.objects.filter(user=user).count() == 0
