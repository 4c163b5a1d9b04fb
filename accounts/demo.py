"""The demo account's sample work: something on every dashboard card from the first sign-in.

Dates are counted from the day the account is created, so its overdue and
due-soon tasks are overdue and due soon that day.
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from catalyst.db import all_or_nothing
from chat.models import ChatHistory
from projects.models import Priority, Project, Task

SAMPLE_PROJECT = "Launch the community bakery"

# (title, status, priority, due in days from today or None, estimated hours)
BAKERY_TASKS = [
    ("Sign the lease for the Mill Street shop", Task.Status.DONE, Priority.HIGH, -14, "6"),
    ("Register the bakery with the council", Task.Status.DONE, Priority.URGENT, -7, "2"),
    ("Get three quotes for deck ovens", Task.Status.IN_PROGRESS, Priority.HIGH, -3, "4"),
    ("Draft the opening menu and prices", Task.Status.IN_PROGRESS, Priority.MEDIUM, -1, "5"),
    ("Hire two bakers", Task.Status.TODO, Priority.HIGH, 2, "10"),
    ("Order flour, butter and packaging", Task.Status.TODO, Priority.MEDIUM, 5, "3"),
    ("Plan the launch weekend tasting", Task.Status.TODO, Priority.LOW, 12, "8"),
    ("Set up the till and card reader", Task.Status.TODO, Priority.MEDIUM, None, "1.5"),
]

NEWSLETTER_TASKS = [
    ("Collect members' garden photos", Task.Status.TODO, Priority.MEDIUM, 6, "2"),
    ("Write the seed-swap article", Task.Status.TODO, Priority.LOW, None, "3"),
    ("Send the issue to the printer", Task.Status.TODO, Priority.MEDIUM, 18, "0.5"),
]

# (hours ago, message, reply in Markdown)
PLANNING_CHAT = [
    (
        50,
        "We open in a month. What should we tackle first?",
        "Start with what everything else waits for:\n\n"
        "1. **Ovens.** Deck ovens often take three to four weeks to deliver, so the quotes "
        "are the most urgent task: choose one this week.\n"
        "2. **Menu and prices.** Once the menu is settled you know how much flour, butter "
        "and packaging to order.\n"
        "3. **Bakers.** Advertise now; interviews and a trial shift take about two weeks.\n\n"
        "The tasting weekend can wait until the ovens are booked.",
    ),
    (
        3,
        "Two oven suppliers still haven't sent quotes. How do we keep the opening date?",
        "You can still open on time:\n\n"
        "- **Ask the supplier who did reply for a delivery date in writing**, and accept it "
        "if it lands at least a week before opening, even at a slightly higher price.\n"
        "- **Rent a convection oven for the first fortnight** as a fallback. It handles rolls "
        "and pastries, though not the sourdough.\n"
        "- **Keep the tasting weekend flexible** so it does not depend on the ovens.\n\n"
        "Would you like me to add *Rent a fallback oven* as a task?",
    ),
]


def demo_samples_create(*, user: User) -> Project:
    """Give ``user`` two sample projects and a short planning chat; returns the main project."""
    today = timezone.localdate()
    now = timezone.now()
    with all_or_nothing():
        bakery = _project(
            user,
            name=SAMPLE_PROJECT,
            description="Open a small neighbourhood bakery on Mill Street: premises, ovens, "
            "a licence, two bakers and a launch weekend.",
            status=Project.Status.ACTIVE,
            priority=Priority.HIGH,
            start_date=today - datetime.timedelta(days=21),
            due_date=today + datetime.timedelta(days=30),
            tasks=BAKERY_TASKS,
        )
        _project(
            user,
            name="Spring garden club newsletter",
            description="The club's four-page spring issue, printed for the seed swap.",
            status=Project.Status.PLANNING,
            priority=Priority.LOW,
            start_date=None,
            due_date=today + datetime.timedelta(days=20),
            tasks=NEWSLETTER_TASKS,
        )
        for hours_ago, message, response in PLANNING_CHAT:
            chat = ChatHistory(
                user=user,
                project=bakery,
                chat_type=ChatHistory.ChatType.PROJECT_PLANNING,
                status=ChatHistory.Status.COMPLETE,
                message=message,
                response=response,
                created_at=now - datetime.timedelta(hours=hours_ago),
            )
            chat.full_clean()
            chat.save()
    return bakery


def _project(user: User, *, tasks: list[tuple], **fields) -> Project:
    today = timezone.localdate()
    project = Project(owner=user, **fields)
    project.full_clean()
    project.save()
    for position, (title, status, priority, due_in, hours) in enumerate(tasks):
        due_date = today + datetime.timedelta(days=due_in) if due_in is not None else None
        task = Task(
            project=project,
            title=title,
            status=status,
            priority=priority,
            due_date=due_date,
            estimate_hours=Decimal(hours),
            position=position,
        )
        if status == Task.Status.DONE and due_date:
            task.completed_at = timezone.now() - (today - due_date)
        task.full_clean()
        task.save()
    return project
