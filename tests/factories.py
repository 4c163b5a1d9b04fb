"""factory_boy factories, and the plain helpers, shared by every app's tests."""

import factory
from django.utils import timezone

from accounts.models import ApiToken, User
from chat.models import ChatHistory
from projects.models import Project, Task

DEFAULT_PASSWORD = "correct-horse-battery-staple"

#: The header an HTMX request carries: ``client.get(url, headers=HTMX)``.
HTMX = {"HX-Request": "true"}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    description = "A project to plan."


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Task {n}")
    position = factory.Sequence(lambda n: n)


class ChatHistoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatHistory

    user = factory.SubFactory(UserFactory)
    message = factory.Sequence(lambda n: f"Question {n}?")
    response = "An answer."
    status = ChatHistory.Status.COMPLETE
    created_at = factory.LazyFunction(timezone.now)


def bearer_headers(user) -> dict:
    """Headers that authenticate API calls as ``user``, with a new personal API token."""
    _, raw = ApiToken.issue(user=user, name="tests")
    return {"Authorization": f"Bearer {raw}"}
