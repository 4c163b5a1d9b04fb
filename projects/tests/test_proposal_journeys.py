"""Proposals in a real headless Chromium, with the offline assistant."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from projects.models import Task
from tests.factories import ProjectFactory, TaskFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_suggest_accept_one_see_where_it_came_from_and_a_stale_card(page, log_in, settings):
    settings.AI_PROVIDER = "offline"
    user = UserFactory()
    project = ProjectFactory(owner=user, name="Bakery")
    late = TaskFactory(
        project=project,
        title="Find premises",
        priority="medium",
        position=0,
        due_date=timezone.localdate() - datetime.timedelta(days=3),
        estimate_hours=10,
    )
    TaskFactory(project=project, title="Buy ovens", position=1, estimate_hours=None)
    log_in(user)
    page.goto(f"/projects/{project.pk}/chat/")

    page.get_by_role("button", name="Suggest changes").click()

    cards = page.locator(".proposal-change")
    expect(cards.first).to_be_visible()
    expect(page.locator(".proposal__head")).to_contain_text("waiting for you")
    assert Task.objects.get(pk=late.pk).priority == "medium"  # nothing changes before acceptance
    page.get_by_role("button", name="Accept: change Find premises").click()
    expect(page.locator(".proposal-change--accepted")).to_have_count(1)
    late.refresh_from_db()
    assert late.priority == "high" and late.due_date > timezone.localdate()

    # The other task is edited on the board before its card is accepted: the card says so.
    ovens = Task.objects.get(title="Buy ovens")
    ovens.title = "Buy two ovens"
    ovens.save()
    page.reload()
    expect(page.get_by_text("changed after the proposal")).to_be_visible()
    expect(page.get_by_role("button", name="Propose again")).to_be_visible()

    page.get_by_role("button", name="Summarise status").click()
    report = page.locator(".reply--complete .reply__text").last
    expect(report).to_contain_text("Next steps")
    expect(report).to_contain_text("Buy two ovens")

    page.goto(f"/projects/{project.pk}/")
    page.get_by_role("link", name="✦ From the chat").click()
    expect(page.locator(f"#chat-{late.source_chat_id}")).to_contain_text("Suggest changes to this project's plan.")


def test_break_down_a_task_from_the_board(page, log_in, settings):
    settings.AI_PROVIDER = "offline"
    user = UserFactory()
    project = ProjectFactory(owner=user, name="Website")
    TaskFactory(project=project, title="Launch the site", estimate_hours=8, position=0)
    log_in(user)
    page.goto(f"/projects/{project.pk}/")

    page.get_by_role("button", name="Break down “Launch the site” with the assistant").click()

    expect(page.locator(".proposal__head")).to_contain_text("Task breakdown")
    page.get_by_role("button", name="Accept all").click()
    expect(page.get_by_text("Accepted 4 changes.")).to_be_visible()
    assert project.tasks.count() == 5
