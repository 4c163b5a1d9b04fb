"""App configs: the project's own, and ObjectId keys for third-party apps on MongoDB.

Django's contrib apps and django-axes declare integer keys of their own,
which MongoDB cannot hold (mongodb.E001).
"""

from axes.apps import AppConfig as AxesConfig
from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth.apps import AuthConfig
from django.contrib.contenttypes.apps import ContentTypesConfig

OBJECT_ID_AUTO_FIELD = "django_mongodb_backend.fields.ObjectIdAutoField"


class CatalystConfig(AppConfig):
    """The project package itself: its management commands (export, backup, …) and its logs and metrics."""

    name = "catalyst"
    verbose_name = "Project Catalyst"

    def ready(self) -> None:
        from django.conf import settings

        from catalyst import logs, metrics, queries

        queries.install(using_mongodb=settings.USING_MONGODB)
        logs.connect()
        metrics.install()


class MongoAdminConfig(AdminConfig):
    default_auto_field = OBJECT_ID_AUTO_FIELD


class MongoAuthConfig(AuthConfig):
    default_auto_field = OBJECT_ID_AUTO_FIELD


class MongoContentTypesConfig(ContentTypesConfig):
    default_auto_field = OBJECT_ID_AUTO_FIELD


class MongoAxesConfig(AxesConfig):
    default_auto_field = OBJECT_ID_AUTO_FIELD
