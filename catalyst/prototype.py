"""Make the prototype's own documents part of this app, in the MongoDB it wrote to.

The prototype (Express + Mongoose) wrote users as ``{_id, email, name,
createdAt, updatedAt, __v}`` and chats as ``{_id, userId, message, response,
chatType, createdAt, updatedAt, __v}`` with ``userId`` a string, into the
same ``users`` and ``chathistories`` collections this app uses. Its users
lack a password and the rest of an account's fields; its chats lack
``status``, ``projectId`` and a real link to an account.

``prototype_import`` fills in what is missing, in place: every ``_id``, text,
type and date stays as it was. It recognises the prototype's documents by
what they lack (a user without ``password``, a chat without ``status``), so a
second run finds nothing to do, and it writes only to documents whose every
field it knows; any other is listed and left alone.
"""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.utils import timezone
from pymongo import UpdateOne
from pymongo.errors import DuplicateKeyError

from accounts.models import User
from chat.models import ChatHistory

PROTOTYPE_USER_FIELDS = {"_id", "email", "name", "createdAt", "updatedAt", "__v"}
PROTOTYPE_CHAT_FIELDS = {"_id", "userId", "message", "response", "chatType", "createdAt", "updatedAt", "__v"}
BATCH_SIZE = 500
# How many left-alone documents a report names; the rest are counted.
LISTED_MAX = 1000


class NeedsMongoDB(Exception):
    """The prototype's data lives in MongoDB; this site uses another store."""


@dataclass(frozen=True)
class LeftAlone:
    collection: str
    id: str
    reason: str


@dataclass
class PrototypeReport:
    dry_run: bool = False
    users_adopted: int = 0
    accounts_created: list[str] = field(default_factory=list)
    chats_adopted: int = 0
    # Prototype users whose e-mail address an account already has: their chats go to that account.
    duplicates: list[LeftAlone] = field(default_factory=list)
    not_understood: list[LeftAlone] = field(default_factory=list)
    not_understood_count: int = 0

    @property
    def changed_anything(self) -> bool:
        return bool(self.users_adopted or self.accounts_created or self.chats_adopted)

    def leave(self, collection: str, document_id: Any, reason: str) -> None:
        self.not_understood_count += 1
        if len(self.not_understood) < LISTED_MAX:
            self.not_understood.append(LeftAlone(collection, str(document_id), reason))


def prototype_import(*, using: str = DEFAULT_DB_ALIAS, dry_run: bool = False) -> PrototypeReport:
    """Adopt the prototype's users, then its chats; with ``dry_run``, only report what would change."""
    connection = connections[using]
    if connection.vendor != "mongodb":
        raise NeedsMongoDB(
            f"The prototype's data is in MongoDB; this site uses {connection.display_name}. "
            "Set DATABASE_URL to the MongoDB database the prototype wrote to."
        )
    connection.ensure_connection()
    adoption = _Adoption(connection, dry_run=dry_run)
    adoption.users()
    adoption.chats()
    return adoption.report


class _Adoption:
    def __init__(self, connection, *, dry_run: bool):
        self.connection = connection
        self.database = connection.database
        self.users_collection = self.database[User._meta.db_table]
        self.chats_collection = self.database[ChatHistory._meta.db_table]
        self.report = PrototypeReport(dry_run=dry_run)
        self.dry_run = dry_run
        # Accounts (users with a password) by e-mail address, and where each prototype user's chats go.
        self.accounts_by_email: dict[str, Any] = {}
        self.account_for_user: dict[ObjectId, Any] = {}
        for account in self.users_collection.find({"password": {"$exists": True}}, {"email": 1}):
            if isinstance(account.get("email"), str):
                self.accounts_by_email[account["email"].lower()] = account["_id"]
            self.account_for_user[account["_id"]] = account["_id"]

    # Users

    def users(self) -> None:
        for document in self.users_collection.find({"password": {"$exists": False}}).sort("_id", 1):
            problem = _user_problem(document)
            if problem:
                self.report.leave("users", document["_id"], problem)
                continue
            email = User.objects.normalize_email(document["email"]).lower()
            account = self.accounts_by_email.get(email)
            if account is not None:
                self.account_for_user[document["_id"]] = account
                self.report.duplicates.append(
                    LeftAlone("users", str(document["_id"]), f"an account with {email} exists; its chats go there")
                )
                continue
            changes = _missing_fields(User, document, self.connection)
            changes["email"] = email
            if not self.dry_run:
                try:
                    self.users_collection.update_one(
                        {"_id": document["_id"], "password": {"$exists": False}}, {"$set": changes}
                    )
                except DuplicateKeyError:
                    self.report.leave("users", document["_id"], f"another user document holds {email}")
                    continue
            self.accounts_by_email[email] = document["_id"]
            self.account_for_user[document["_id"]] = document["_id"]
            self.report.users_adopted += 1

    # Chats

    def chats(self) -> None:
        for batch in _batches(self.chats_collection.find({"status": {"$exists": False}}).sort("_id", 1)):
            updates = []
            for document in batch:
                problem = _chat_problem(document)
                if problem:
                    self.report.leave("chathistories", document["_id"], problem)
                    continue
                account, problem = self._account_for(document["userId"])
                if problem:
                    self.report.leave("chathistories", document["_id"], problem)
                    continue
                changes = _missing_fields(ChatHistory, document, self.connection)
                changes["userId"] = account
                changes["status"] = ChatHistory.Status.COMPLETE.value
                if "createdAt" not in document:
                    changes["createdAt"] = document["_id"].generation_time
                if "updatedAt" not in document:
                    changes["updatedAt"] = document.get("createdAt", document["_id"].generation_time)
                updates.append(UpdateOne({"_id": document["_id"], "status": {"$exists": False}}, {"$set": changes}))
            if updates and not self.dry_run:
                self.chats_collection.bulk_write(updates, ordered=False)
            self.report.chats_adopted += len(updates)

    def _account_for(self, user_id: Any) -> tuple[Any, str | None]:
        """The account a chat's ``userId`` names, or why there is none."""
        if isinstance(user_id, ObjectId) or ObjectId.is_valid(user_id):
            object_id = ObjectId(user_id)
            if object_id in self.account_for_user:
                return self.account_for_user[object_id], None
            if self.users_collection.find_one({"_id": object_id}, {"_id": 1}) is None:
                return None, f"userId {user_id} names no user"
            return None, f"userId {user_id} names a user document that was left alone"
        try:
            validate_email(user_id)
        except ValidationError:
            return None, f"userId {user_id!r} is neither a user's id nor an e-mail address"
        email = User.objects.normalize_email(user_id).lower()
        if email not in self.accounts_by_email:
            self.accounts_by_email[email] = None if self.dry_run else self._create_account(email)
            self.report.accounts_created.append(email)
        return self.accounts_by_email[email], None

    def _create_account(self, email: str) -> Any:
        return User.objects.db_manager(self.connection.alias).create_user(email=email).pk


def _batches(cursor) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for document in cursor:
        batch.append(document)
        if len(batch) == BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def _missing_fields(model: type[models.Model], document: dict, connection) -> dict[str, Any]:
    """The model's defaults for every field the document lacks, as the store holds them."""
    changes = {}
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key or model_field.column in document:
            continue
        if model_field.attname == "password":
            value = make_password(None)  # no usable password: the prototype had none
        elif getattr(model_field, "auto_now", False):
            value = timezone.now()
        else:
            value = model_field.get_default()
        changes[model_field.column] = model_field.get_db_prep_save(value, connection)
    return changes


def _user_problem(document: dict) -> str | None:
    """Why ``document`` is not a user as the prototype wrote one, or ``None``."""
    unknown = set(document) - PROTOTYPE_USER_FIELDS
    if unknown:
        return f"fields the prototype never wrote: {', '.join(sorted(unknown))}"
    if not isinstance(document["_id"], ObjectId):
        return "_id is not an ObjectId"
    email = document.get("email")
    try:
        validate_email(email)
    except ValidationError:
        return f"email {email!r} is not an e-mail address"
    if not isinstance(document.get("name", ""), str):
        return "name is not a string"
    return _dates_problem(document)


def _chat_problem(document: dict) -> str | None:
    """Why ``document`` is not a chat as the prototype wrote one, or ``None``."""
    unknown = set(document) - PROTOTYPE_CHAT_FIELDS
    if unknown:
        return f"fields the prototype never wrote: {', '.join(sorted(unknown))}"
    if not isinstance(document["_id"], ObjectId):
        return "_id is not an ObjectId"
    if not isinstance(document.get("userId"), str | ObjectId):
        return "no userId"
    if not isinstance(document.get("message"), str):
        return "message is not a string"
    if not isinstance(document.get("response", ""), str):
        return "response is not a string"
    chat_type = document.get("chatType", ChatHistory.ChatType.PROJECT_PLANNING)
    if chat_type not in ChatHistory.ChatType.values:
        return f"chatType {chat_type!r} is not one of {', '.join(ChatHistory.ChatType.values)}"
    return _dates_problem(document)


def _dates_problem(document: dict) -> str | None:
    for name in ("createdAt", "updatedAt"):
        if name in document and not isinstance(document[name], datetime.datetime):
            return f"{name} is not a date"
    return None
