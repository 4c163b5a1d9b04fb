import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **fields) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **fields)

    def get_by_natural_key(self, username: str) -> "User":
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their email address."""

    email = models.EmailField("email address", max_length=254, unique=True)
    name = models.CharField(max_length=120, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_column="createdAt")
    updated_at = models.DateTimeField(auto_now=True, db_column="updatedAt")

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        db_table = "users"
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._saved_credentials = user._credentials()
        return user

    def _credentials(self) -> tuple:
        return (self.password, self.email, self.is_active)

    def save(self, *args, **kwargs) -> None:
        """Save; a new password, a new email or deactivation revokes every API token.

        Tokens stand for the account as it was: whoever changes how it signs in
        (or a reset after a suspected takeover) must not leave old keys working.
        ``revoked_token_count`` says how many went, for the page to tell.
        """
        saved = getattr(self, "_saved_credentials", None)
        super().save(*args, **kwargs)
        self.revoked_token_count = 0
        current = self._credentials()
        if saved is not None and current != saved:
            self.revoked_token_count, _ = ApiToken.objects.owned_by(self).delete()
        self._saved_credentials = current

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return (self.name.split() or [self.email])[0]


TOKEN_PREFIX = "cat_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def owned_by(self, user) -> "ApiTokenQuerySet":
        return self.filter(user=user)

    def find(self, raw: str) -> "ApiToken | None":
        """The token ``raw`` stands for, with its user, or ``None``."""
        if not raw.startswith(TOKEN_PREFIX):
            return None
        return self.select_related("user").filter(key_hash=hash_token(raw), user__is_active=True).first()


class ApiToken(models.Model):
    """A personal API token; only its SHA-256 hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", db_column="userId"
    )
    name = models.CharField(max_length=80)
    key_hash = models.CharField(max_length=64, unique=True, editable=False, db_column="keyHash")
    key_prefix = models.CharField(max_length=12, editable=False, db_column="keyPrefix")
    created_at = models.DateTimeField(default=timezone.now, db_column="createdAt")
    last_used_at = models.DateTimeField(null=True, blank=True, db_column="lastUsedAt")

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        db_table = "apitokens"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def issue(cls, *, user, name: str) -> tuple["ApiToken", str]:
        """Create a token for ``user``; the raw key is returned once, never stored."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls(user=user, name=name, key_hash=hash_token(raw), key_prefix=raw[: len(TOKEN_PREFIX) + 6])
        token.full_clean()
        token.save()
        return token, raw

    def touch(self) -> None:
        """Record a use, at most once a minute so reads stay cheap."""
        now = timezone.now()
        if self.last_used_at is None or (now - self.last_used_at).total_seconds() > 60:
            type(self).objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now
