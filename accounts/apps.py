from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        # The session lifetime starts at sign-in, wherever the sign-in happens.
        from accounts import middleware  # noqa: F401 - connects its receiver
