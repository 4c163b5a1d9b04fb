"""The offline assistant's project drafts and replies in a new-project chat: read from the user's words only."""

import asyncio
import datetime

import pytest

from chat.providers.base import Conversation, Turn
from chat.providers.offline import OfflineProvider, offline_answer
from chat.providers.offline_drafts import empty_draft, offline_draft
from projects.drafts import draft_clean

# A Tuesday, before March.
TODAY = datetime.date(2026, 2, 10)
PRIORITIES = {"low", "medium", "high", "urgent"}


def chat(message: str, *earlier: str, today: datetime.date = TODAY, replies: tuple[str, ...] = ()) -> Conversation:
    """A new-project conversation: ``earlier`` user messages, each followed by a model reply, then ``message``."""
    history = []
    for number, text in enumerate(earlier):
        reply = replies[number] if number < len(replies) else "Noted."
        history += [Turn("user", text), Turn("model", reply)]
    return Conversation(
        system_instruction="", message=message, history=tuple(history), today=today, chat_type="new-project"
    )


def draft(message: str, *earlier: str, current: dict | None = None, **kwargs) -> dict:
    return offline_draft(chat(message, *earlier, **kwargs), current if current is not None else empty_draft())


def titles(result: dict) -> list[str]:
    return [task["title"] for task in result["tasks"]]


def due_date(message: str, today: datetime.date = TODAY) -> str | None:
    return draft(message, today=today)["dueDate"]


def assert_within_limits(result: dict) -> None:
    assert set(result) == {"name", "description", "priority", "startDate", "dueDate", "tasks"}
    assert 0 < len(result["name"]) <= 200
    assert len(result["description"]) <= 5000
    assert result["priority"] in PRIORITIES
    for key in ("startDate", "dueDate"):
        assert result[key] is None or datetime.date.fromisoformat(result[key])
    assert len(result["tasks"]) <= 50
    for task in result["tasks"]:
        assert set(task) == {"title", "description", "priority", "estimateHours", "dueDate"}
        assert 0 < len(task["title"]) <= 200
        assert len(task["description"]) <= 5000
        assert task["priority"] in PRIORITIES
        assert task["estimateHours"] is None or 0 <= task["estimateHours"] <= 10000
        assert task["dueDate"] is None or datetime.date.fromisoformat(task["dueDate"])
    # And the rules the caller checks pass too: the draft can be created as it is.
    assert draft_clean(result)["tasks"] == result["tasks"]


# --- Tasks ---


def test_listed_items_become_tasks_in_order():
    result = draft(
        "I want to renovate the kitchen.\n"
        "- Rip out the old cabinets\n"
        "* Order new tiles\n"
        "• Paint the walls\n"
        "1. Fit the new sink\n"
        "2) Clean up"
    )

    assert titles(result) == [
        "Rip out the old cabinets",
        "Order new tiles",
        "Paint the walls",
        "Fit the new sink",
        "Clean up",
    ]


def test_listed_items_repeated_in_other_words_case_give_one_task():
    result = draft("Garden plan:\n- Buy seeds\n- Dig the beds\n- buy seeds\n- BUY SEEDS.")

    assert titles(result) == ["Buy seeds", "Dig the beds"]


def test_without_a_list_each_sentence_of_work_becomes_a_task():
    result = draft(
        "I want to build a bakery website. Design the menu page. We need to set up online ordering. "
        "Can you help with the wording? It must be live by the end of March. Then write the launch post."
    )

    assert titles(result) == ["Design the menu page", "Set up online ordering", "Write the launch post"]


def test_greetings_questions_and_facts_are_not_tasks():
    result = draft("Hi! I'm planning a podcast. Thanks. What do you think? The budget is 300 euros. Record a pilot.")

    assert titles(result) == ["Record a pilot"]


def test_titles_are_short_capitalised_and_without_a_full_stop():
    long_item = "set up hosting, the domain, email forwarding and nightly backups for the new shop " * 3
    result = draft(f"Shop launch:\n- write the product texts.\n- {long_item}")

    first, second = result["tasks"]
    assert first["title"] == "Write the product texts"
    assert len(second["title"]) <= 80
    assert second["title"].startswith("Set up hosting")
    assert second["description"] == long_item.strip()


def test_model_turns_never_become_tasks():
    result = draft("Sounds good.", "Plan a bake sale:\n- Book the hall", replies=("- Hire a clown\n- Print flyers",))

    assert titles(result) == ["Book the hall"]


# --- Name and description ---


def test_called_gives_the_name():
    assert draft("I want to start a podcast called Night Owls, with weekly episodes.")["name"] == "Night Owls"
    assert draft('We are making a board game named "Tiny Tides" for families.')["name"] == "Tiny Tides"
    assert draft("I'm building an app called pantry that tracks food at home.")["name"] == "Pantry"


def test_project_colon_gives_the_name():
    assert draft("Project Apollo: a landing page for the app.")["name"] == "Apollo"


def test_without_a_given_name_the_first_clause_is_shortened_into_one():
    assert draft("I want to renovate my kitchen by the end of March, on a budget.")["name"] == "Renovate my kitchen"
    assert draft("Hi! Can you help me plan a garden party?")["name"] == "Plan a garden party"

    long_name = draft("build " + "a very long and winding description of a project " * 10)["name"]
    assert 0 < len(long_name) <= 60
    assert long_name[0] == "B"
    assert long_name[-1].isalnum()


def test_the_description_is_the_first_message_tidied():
    result = draft("Second message.", "  I want a   new website.\n\n\n\nIt should   look modern.  ")

    assert result["description"] == "I want a new website.\n\nIt should look modern."


# --- Dates ---


def test_by_the_end_of_march_is_the_next_march_not_yet_over():
    message = "I want a new website by the end of March."

    assert due_date(message, datetime.date(2026, 2, 10)) == "2026-03-31"
    assert due_date(message, datetime.date(2026, 3, 31)) == "2026-03-31"
    assert due_date(message, datetime.date(2026, 4, 1)) == "2027-03-31"


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("by March 15", "2026-03-15"),
        ("by 15 March", "2026-03-15"),
        ("by January 5", "2027-01-05"),
        ("by 2027-03-01", "2027-03-01"),
        ("in 3 weeks", "2026-03-03"),
        ("within two months", "2026-04-10"),
        ("by Friday", "2026-02-13"),
        ("next Friday", "2026-02-20"),
        ("tomorrow", "2026-02-11"),
        ("by the end of the month", "2026-02-28"),
    ],
)
def test_date_phrases_set_the_due_date(phrase, expected):
    assert due_date(f"I want to repaint the shed {phrase}.") == expected


def test_the_start_date_is_today_unless_stated():
    assert draft("I want to repaint the shed.")["startDate"] == "2026-02-10"
    assert draft("I want to repaint the shed, starting May 4.")["startDate"] == "2026-05-04"

    result = draft("I want to repaint the shed from next Monday and finish by 15 April.")
    assert (result["startDate"], result["dueDate"]) == ("2026-02-16", "2026-04-15")


def test_a_date_inside_an_item_belongs_to_that_task_only():
    result = draft("Move house by the end of April.\n- Book the van by March 20\n- Pack the books")

    assert result["dueDate"] == "2026-04-30"
    assert [task["dueDate"] for task in result["tasks"]] == ["2026-03-20", None]
    assert titles(result) == ["Book the van", "Pack the books"]


# --- Priorities and estimates ---


def test_priority_words_set_the_project_priority():
    assert draft("I need a new laptop setup, it's urgent.")["priority"] == "urgent"
    assert draft("Fix the website ASAP.")["priority"] == "urgent"
    assert draft("An important tax filing.")["priority"] == "high"
    assert draft("Learn Rust someday.")["priority"] == "low"
    assert draft("A nice to have photo album.")["priority"] == "low"
    assert draft("Plan the summer trip.")["priority"] == "medium"


def test_each_item_takes_its_own_priority_and_estimate():
    result = draft(
        "Launch the shop:\n"
        "- Design the logo (3h), urgent\n"
        "- Write the product texts - high priority\n"
        "- Take the photos, 2 days\n"
        "- Add a gift wrap option, nice to have\n"
        "- Set up payments 1.5 hours\n"
        "- Ship a beta in 2 days"
    )

    assert titles(result) == [
        "Design the logo",
        "Write the product texts",
        "Take the photos",
        "Add a gift wrap option",
        "Set up payments",
        "Ship a beta",
    ]
    assert [task["priority"] for task in result["tasks"]] == ["urgent", "high", "medium", "low", "medium", "medium"]
    assert [task["estimateHours"] for task in result["tasks"]] == [3, None, 16, None, 1.5, None]
    assert result["tasks"][-1]["dueDate"] == "2026-02-12"
    assert result["priority"] == "medium"


# --- The user's edits ---


def test_the_users_edits_are_kept_and_only_new_tasks_appended():
    first = "I want a bakery website.\n- Design the menu page\n- Set up ordering"
    current = draft(first)
    current["name"] = "Crumbs"
    current["description"] = "A site for the bakery."
    current["priority"] = "high"
    current["dueDate"] = "2026-06-01"
    current["tasks"][0] = {**current["tasks"][0], "title": "Menu page", "estimateHours": 5}

    result = draft(
        "Also:\n- Set up ordering\n- Hire a photographer (4h)\nIt's urgent, by the end of March.",
        first,
        current=current,
    )

    assert {key: result[key] for key in ("name", "description", "priority", "dueDate")} == {
        "name": "Crumbs",
        "description": "A site for the bakery.",
        "priority": "high",
        "dueDate": "2026-06-01",
    }
    assert result["tasks"][:2] == current["tasks"]
    assert titles(result) == ["Menu page", "Set up ordering", "Hire a photographer"]
    assert result["tasks"][2]["estimateHours"] == 4


def test_empty_fields_are_filled_from_new_words():
    first = "I want a bakery website.\n- Design the menu page"
    current = draft(first)
    assert current["dueDate"] is None

    result = draft("It has to be live by the end of March, and it's urgent.", first, current=current)

    assert (result["dueDate"], result["priority"]) == ("2026-03-31", "urgent")
    assert titles(result) == ["Design the menu page"]


def test_what_the_user_cleared_or_deleted_stays_gone():
    first = "I want a bakery website by the end of March.\n- Design the menu page\n- Set up ordering"
    current = draft(first)
    current["dueDate"] = None
    current["tasks"] = [task for task in current["tasks"] if task["title"] != "Set up ordering"]

    result = draft("Also:\n- Hire a photographer", first, current=current)

    assert result["dueDate"] is None
    assert titles(result) == ["Design the menu page", "Hire a photographer"]


def test_a_draft_already_full_takes_no_more_tasks():
    current = {
        **empty_draft(),
        "name": "Busy",
        "tasks": [draft(f"x\n- Task number {n}")["tasks"][0] for n in range(50)],
    }

    result = draft("More:\n- One more task", current=current)

    assert result["tasks"] == current["tasks"]


# --- Limits ---


def test_every_value_stays_within_the_limits_for_a_huge_message():
    result = draft("Build " + "an enormous thing with many words and no end " * 460)

    assert_within_limits(result)
    assert len(result["description"]) <= 5000


def test_two_hundred_items_give_fifty_tasks_within_the_limits():
    items = "\n".join(
        f"- Item {n} " + "with a very long explanation " * 10 + "(3h) by Friday, urgent" for n in range(200)
    )

    result = draft("Big list:\n" + items)

    assert_within_limits(result)
    assert len(result["tasks"]) == 50
    assert [title.split()[1] for title in titles(result)] == [str(n) for n in range(50)]
    assert {task["priority"] for task in result["tasks"]} == {"urgent"}


def test_many_sentences_and_absurd_numbers_stay_within_the_limits():
    message = " ".join(f"Build part {n} in 999 years, taking 99999 days." for n in range(400))

    result = draft(message)

    assert_within_limits(result)


def test_an_empty_conversation_still_gives_a_whole_draft():
    result = draft("")

    assert_within_limits(result)
    assert result["name"] == "New project"


def test_the_same_conversation_gives_the_same_draft():
    message = "Plan a wedding by June 20.\n- Book the venue (2 days)\n- Send the invitations"

    assert draft(message) == draft(message)


# --- Through the provider ---


def test_draft_project_works_through_asyncio_run():
    provider = OfflineProvider(chunk_delay=0)
    conversation = chat("I want a bakery website by the end of March.\n- Design the menu page")

    result = asyncio.run(provider.draft_project(conversation, current=empty_draft(), problem="ignored"))

    assert result == offline_draft(conversation, empty_draft())
    assert titles(result) == ["Design the menu page"]


# --- The planner's reply ---


def test_the_reply_lists_the_tasks_and_asks_for_a_deadline_when_none_was_given():
    reply = offline_answer(chat("I want a podcast called Night Owls.\n- Record a pilot\n- Design the cover art"))

    assert "**Night Owls**" in reply
    assert "1. Record a pilot\n2. Design the cover art" in reply
    assert "**Deadline:**" in reply
    assert "Create project" in reply
    assert "edit" in reply


def test_the_reply_asks_for_the_goal_and_the_steps_when_they_are_missing():
    reply = offline_answer(chat("A garden party."))

    assert "no tasks in the draft yet" in reply
    assert "**Goal:**" in reply
    assert "**Steps:**" in reply


def test_the_reply_asks_about_constraints_once_goal_deadline_and_tasks_are_known():
    reply = offline_answer(
        chat(
            "I want to open a small bakery website where regulars can preorder bread and cakes for pickup on "
            "weekends, by the end of March.\n- Design the menu page\n- Set up preorders"
        )
    )

    assert "March 31, 2026" in reply
    assert "**Goal:**" not in reply and "**Deadline:**" not in reply and "**Steps:**" not in reply
    assert "budget" in reply


def test_other_chat_types_keep_their_replies():
    message = "I want a podcast called Night Owls.\n- Record a pilot"
    planning = Conversation(system_instruction="", message=message, today=TODAY)

    assert "Create project" not in offline_answer(planning)
    assert offline_answer(planning).startswith("Let's plan it step by step")


def test_the_reply_stays_short_for_a_long_list():
    items = "\n".join(f"- Step {n}" for n in range(1, 31))

    reply = offline_answer(chat("Plan the move:\n" + items))

    assert "10. Step 10\n" in reply
    assert "11. Step 11" not in reply
    assert "…and 20 more." in reply
