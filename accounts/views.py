import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import ApiTokenForm, EmailAuthenticationForm, ProfileForm, SignupForm
from accounts.models import ApiToken
from catalyst.clients import client_address
from catalyst.ratelimit import RateLimited, allowance_take
from catalyst.shortcuts import get_or_404

NEW_TOKEN_SESSION_KEY = "new_api_token"


@login_not_required
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("projects:dashboard")
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        try:
            # Sign-up says when an email already has an account; counting attempts
            # per client keeps that from becoming a way to list accounts.
            allowance_take(f"signup:{client_address(request)}", limit=settings.SIGNUP_LIMIT, window=HOUR)
        except RateLimited as limited:
            form.add_error(None, f"Too many sign-up attempts from your network. Try again in {limited.wait_phrase()}.")
            return _too_many(TemplateResponse(request, "accounts/signup.html", {"form": form}), limited)
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
            user = form.save()
            messages.success(request, "Profile saved." + _revoked_phrase(user))
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
    # another. The key waits in the server-side session, never in a header,
    # and is taken out of it by the first page that shows it.
    request.session[NEW_TOKEN_SESSION_KEY] = {"name": token.name, "key": raw_key}
    return redirect("accounts:profile")


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
    new_token = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    context = {
        "form": form or ProfileForm(instance=request.user),
        "token_form": token_form or ApiTokenForm(prefix="token"),
        "tokens": ApiToken.objects.owned_by(request.user),
        "new_token": new_token,
    }
    response = TemplateResponse(request, "accounts/profile.html", context, status=status)
    if new_token is not None:
        response["Cache-Control"] = "no-store"
    return response


HOUR = 3600


def _too_many(response: TemplateResponse, limited: RateLimited) -> TemplateResponse:
    response.status_code = 429
    response["Retry-After"] = str(limited.retry_after)
    return response


def _revoked_phrase(user) -> str:
    count = getattr(user, "revoked_token_count", 0)
    if not count:
        return ""
    tokens = "API token was" if count == 1 else f"{count} API tokens were"
    return f" Your {tokens} revoked: create a new one on your profile page for any tool that needs it."


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

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password has been changed." + _revoked_phrase(form.user))
        return response


class PasswordResetView(InvalidFormIs400, auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")

    def form_valid(self, form):
        # Mail is throttled per client and per address, whether or not the
        # address has an account, so the answer says nothing about who has one.
        address = hashlib.sha256(form.cleaned_data["email"].strip().lower().encode()).hexdigest()
        try:
            allowance_take(
                f"reset-client:{client_address(self.request)}", limit=settings.PASSWORD_RESET_CLIENT_LIMIT, window=HOUR
            )
            allowance_take(f"reset-address:{address}", limit=settings.PASSWORD_RESET_LIMIT, window=HOUR)
        except RateLimited as limited:
            form.add_error(None, f"Too many reset requests. Try again in {limited.wait_phrase()}.")
            return _too_many(self.render_to_response(self.get_context_data(form=form)), limited)
        return super().form_valid(form)


class PasswordResetConfirmView(InvalidFormIs400, auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password has been set." + _revoked_phrase(form.user))
        return response
