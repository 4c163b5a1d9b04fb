"""manage.py import_prototype: the prototype's documents, written as it wrote them, become this app's."""

import datetime
import io

import pytest
from bson import ObjectId
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import User
from chat.models import ChatHistory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
on_mongodb = pytest.mark.skipif(not settings.USING_MONGODB, reason="the prototype's data lives in MongoDB")

UTC = datetime.UTC


def utc(*parts: int) -> datetime.datetime:
    # The backend's client reads BSON dates back as naive UTC; written so, they compare equal.
    return datetime.datetime(*parts)


def import_prototype(*args) -> str:
    out = io.StringIO()
    call_command("import_prototype", *args, stdout=out)
    return out.getvalue()


@pytest.mark.skipif(settings.USING_MONGODB, reason="an SQLite site refusing")
def test_on_sqlite_the_command_says_it_needs_mongodb_and_fails():
    with pytest.raises(CommandError, match="The prototype's data is in MongoDB; this site uses SQLite"):
        import_prototype()


def prototype_user(email: str, name: str, moment: datetime.datetime) -> dict:
    return {"_id": ObjectId(), "email": email, "name": name, "createdAt": moment, "updatedAt": moment, "__v": 0}


def prototype_chat(user_id: str, message: str, moment: datetime.datetime, chat_type="project-planning") -> dict:
    return {
        "_id": ObjectId(),
        "userId": user_id,
        "message": message,
        "response": f"Answer to {message}",
        "chatType": chat_type,
        "createdAt": moment,
        "updatedAt": moment + datetime.timedelta(seconds=1),
        "__v": 0,
    }


@pytest.fixture
def prototype_site():
    """The documents a site that ran the prototype holds, written with pymongo as Mongoose wrote them."""
    database = connection.database
    start = utc(2024, 5, 6, 7, 8, 9, 123000)
    ada = prototype_user("ada@example.com", "Ada", start)
    bob = prototype_user("Bob@Example.com", "Bob", start)
    chats = {
        "ada-first": prototype_chat(str(ada["_id"]), "Plan the launch", start + datetime.timedelta(minutes=1)),
        "ada-second": prototype_chat(str(ada["_id"]), "And then?", start + datetime.timedelta(minutes=2)),
        "ada-navigation": prototype_chat(str(ada["_id"]), "Where?", start, chat_type="navigation"),
        "bob": prototype_chat(str(bob["_id"]), "Bob's plan", start),
        "by-email": prototype_chat("dana@example.com", "Dana's plan", start),
    }
    strange = {
        "extra-field": {**prototype_chat(str(ada["_id"]), "With files", start), "attachments": ["a.pdf"]},
        "odd-type": prototype_chat(str(ada["_id"]), "Odd", start, chat_type="brainstorm"),
        "nobody": prototype_chat("anonymous", "Who am I?", start),
    }
    odd_user = {"_id": ObjectId(), "email": "eve@example.com", "role": "admin", "createdAt": start}
    database["users"].insert_many([ada, bob, odd_user])
    database["chathistories"].insert_many([*chats.values(), *strange.values()])
    return {"ada": ada, "bob": bob, "odd_user": odd_user, "chats": chats, "strange": strange}


def snapshot() -> dict:
    database = connection.database
    return {name: list(database[name].find().sort("_id", 1)) for name in ("users", "chathistories")}


@on_mongodb
def test_the_prototypes_chats_show_in_the_history_api_with_their_id_text_type_and_date(client, prototype_site):
    report = import_prototype()

    ada = User.objects.get(pk=prototype_site["ada"]["_id"])
    client.force_login(ada)
    history = client.get(f"/api/chat/history/{ada.pk}").json()["data"]
    first, second = prototype_site["chats"]["ada-first"], prototype_site["chats"]["ada-second"]
    assert history == [
        {
            "_id": str(chat["_id"]),
            "userId": str(ada.pk),
            "message": chat["message"],
            "response": chat["response"],
            "chatType": "project-planning",
            "createdAt": chat["createdAt"].strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "updatedAt": chat["updatedAt"].strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "status": "complete",
            "projectId": None,
        }
        for chat in (first, second)
    ]
    navigation = client.get(f"/api/chat/history/{ada.pk}?chatType=navigation").json()["data"]
    assert [chat["_id"] for chat in navigation] == [str(prototype_site["chats"]["ada-navigation"]["_id"])]
    page = client.get("/chat/")
    assert "Plan the launch" in page.content.decode()
    assert "Made 2 of the prototype's users accounts" in report
    assert "Linked 5 of the prototype's chats" in report


@on_mongodb
def test_the_prototypes_users_become_accounts_without_a_usable_password(prototype_site):
    import_prototype()

    ada = User.objects.get(pk=prototype_site["ada"]["_id"])
    assert (ada.email, ada.name, ada.is_active, ada.is_staff) == ("ada@example.com", "Ada", True, False)
    assert not ada.has_usable_password()
    assert ada.created_at == prototype_site["ada"]["createdAt"].replace(tzinfo=UTC)
    bob = User.objects.get(pk=prototype_site["bob"]["_id"])
    assert bob.email == "bob@example.com"
    assert [chat.message for chat in ChatHistory.objects.owned_by(bob)] == ["Bob's plan"]


@on_mongodb
def test_a_chat_naming_an_email_goes_to_that_account_created_when_missing(prototype_site):
    report = import_prototype()

    dana = User.objects.get(email="dana@example.com")
    assert not dana.has_usable_password()
    assert [chat.pk for chat in ChatHistory.objects.owned_by(dana)] == [prototype_site["chats"]["by-email"]["_id"]]
    assert "accounts (no usable password) for chats that named an e-mail address with none: dana@example.com" in report


@on_mongodb
def test_a_prototype_user_whose_email_an_account_has_sends_its_chats_to_that_account():
    carol = UserFactory(email="carol@example.com")
    start = utc(2024, 1, 1)
    twin = prototype_user("Carol@example.com", "Carol", start)
    connection.database["users"].insert_one(twin)
    connection.database["chathistories"].insert_one(prototype_chat(str(twin["_id"]), "Carol's plan", start))

    report = import_prototype()

    assert [chat.message for chat in ChatHistory.objects.owned_by(carol)] == ["Carol's plan"]
    assert f"Left as it is: users {twin['_id']}: an account with carol@example.com exists" in report
    assert connection.database["users"].find_one({"_id": twin["_id"]}) == twin


@on_mongodb
def test_documents_of_another_shape_are_listed_and_left_untouched(prototype_site):
    before = snapshot()

    report = import_prototype()

    after = snapshot()
    for name, document in prototype_site["strange"].items():
        assert f"chathistories {document['_id']}" in report, name
        assert document in after["chathistories"], name
    assert "fields the prototype never wrote: attachments" in report
    assert "chatType 'brainstorm' is not one of project-planning, navigation, new-project" in report
    assert "userId 'anonymous' is neither a user's id nor an e-mail address" in report
    assert f"users {prototype_site['odd_user']['_id']}: fields the prototype never wrote: role" in report
    assert prototype_site["odd_user"] in after["users"]
    assert "Left alone, not understood (4):" in report
    assert len(after["chathistories"]) == len(before["chathistories"])


@on_mongodb
def test_a_second_run_changes_nothing(prototype_site):
    import_prototype()
    after_first = snapshot()

    report = import_prototype()

    assert snapshot() == after_first
    assert "Nothing to do" in report


@on_mongodb
def test_a_dry_run_reports_and_changes_nothing(prototype_site):
    before = snapshot()

    report = import_prototype("--dry-run")

    assert snapshot() == before
    assert "Would make 2 of the prototype's users accounts" in report
    assert "Would link 5 of the prototype's chats" in report
