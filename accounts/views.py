import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import ApiTokenForm, EmailAuthenticationForm, ProfileForm, SignupForm
from accounts.models import ApiToken
from catalyst.shortcuts import get_or_404

NEW_TOKEN_COOKIE = "new_api_token"


@login_not_required
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("projects:dashboard")
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome to Project Catalyst! Your account is ready.")
            next_url = request.POST.get("next", "")
            if url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
                return redirect(next_url)
            return redirect("projects:dashboard")
        return TemplateResponse(request, "accounts/signup.html", {"form": form}, status=400)
    return TemplateResponse(request, "accounts/signup.html", {"form": form, "next": request.GET.get("next", "")})


@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, "Profile saved.")
            return redirect("accounts:profile")
        status = 400
    return _profile_page(request, form=form, status=status)


@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    token_form = ApiTokenForm(request.POST, prefix="token")
    if not token_form.is_valid():
        return _profile_page(request, token_form=token_form, status=400)
    token, raw_key = ApiToken.issue(user=request.user, name=token_form.cleaned_data["name"])
    # Shown once, on the page the redirect leads to, so a reload cannot mint
    # another. The key travels in a short-lived signed cookie to its owner's
    # browser only; the server keeps nothing but its hash.
    response = redirect("accounts:profile")
    response.set_signed_cookie(
        NEW_TOKEN_COOKIE,
        json.dumps({"name": token.name, "key": raw_key, "user": str(request.user.pk)}),
        salt=NEW_TOKEN_COOKIE,
        max_age=120,
        path=reverse("accounts:profile"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
    return response


@require_POST
def token_revoke(request: HttpRequest, pk: int | str) -> HttpResponse:
    token = get_or_404(ApiToken.objects.owned_by(request.user), pk)
    token.delete()
    messages.success(request, f"Token “{token.name}” revoked. It no longer works.")
    return redirect("accounts:profile")


def _profile_page(
    request: HttpRequest,
    *,
    form: ProfileForm | None = None,
    token_form: ApiTokenForm | None = None,
    status: int = 200,
) -> TemplateResponse:
    new_token = _new_token(request)
    context = {
        "form": form or ProfileForm(instance=request.user),
        "token_form": token_form or ApiTokenForm(prefix="token"),
        "tokens": ApiToken.objects.owned_by(request.user),
        "new_token": new_token,
    }
    response = TemplateResponse(request, "accounts/profile.html", context, status=status)
    if new_token is not None:
        response.delete_cookie(NEW_TOKEN_COOKIE, path=reverse("accounts:profile"), samesite="Strict")
        response["Cache-Control"] = "no-store"
    return response


def _new_token(request: HttpRequest) -> dict | None:
    """The token just created, from its one-time cookie, if it is this user's."""
    try:
        value = json.loads(request.get_signed_cookie(NEW_TOKEN_COOKIE, salt=NEW_TOKEN_COOKIE, max_age=120))
    except (KeyError, ValueError, signing.BadSignature):
        return None
    return value if value.get("user") == str(request.user.pk) else None


class InvalidFormIs400:
    """Answer a rejected form with 400, as the rest of the app does."""

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class LoginView(InvalidFormIs400, auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class PasswordChangeView(InvalidFormIs400, auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password-change-done")


class PasswordResetView(InvalidFormIs400, auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")


class PasswordResetConfirmView(InvalidFormIs400, auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")
