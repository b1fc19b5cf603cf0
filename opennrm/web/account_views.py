"""Signing in and out: the password, the second factor and setting one up, and the idle-session endpoints (ADR 0010)."""

import base64
import binascii
import io
import time
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.views.decorators.http import require_GET, require_POST
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from opennrm.accounts.middleware import LAST_ACTIVITY, idle_sign_out, session_seconds_left
from opennrm.accounts.selectors import second_factor_device, second_factor_needed
from opennrm.accounts.services import (
    SignInRefused,
    locked_message,
    password_set,
    second_factor_check_code,
    second_factor_enrol,
    second_factor_verified,
    sign_in_check_password,
    user_signed_in,
    user_signed_out,
)

PENDING_KEY = "opennrm_second_factor_pending_key"  # session key: the secret shown while setting up, until confirmed
CODE_NOT_RIGHT = "The code is not right: enter the 6-digit code your authenticator app shows now"


def _next_url(request) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    return next_url if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}) else ""


def _with_next(view: str, next_url: str) -> str:
    return reverse(view) + (f"?{urlencode({'next': next_url})}" if next_url else "")


def _errors(field_errors: dict) -> list[dict]:
    return [{"text": text, "href": f"#{field}"} for field, text in field_errors.items()]


def sign_in(request):
    next_url = _next_url(request)
    context = {"title": "Sign in", "username": "", "next": next_url, "field_errors": {}, "errors": []}
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        password = request.POST.get("password", "")
        context["username"] = username
        field_errors = {}
        if not username:
            field_errors["username"] = "Enter your username"
        if not password:
            field_errors["password"] = "Enter your password"
        user = None
        if not field_errors:
            try:
                user = sign_in_check_password(username=username[:150], password=password[:1024])
            except SignInRefused as refused:
                # Said the same way whether or not the username exists.
                field_errors["username"] = (
                    locked_message()
                    if refused.reason == SignInRefused.LOCKED
                    else "The username or password is not right"
                )
        if field_errors:
            context["field_errors"] = field_errors
            context["errors"] = _errors(field_errors)
            return render(request, "sign_in.html", context)
        login(request, user)
        request.session[LAST_ACTIVITY] = time.time()
        if not second_factor_needed(user):
            user_signed_in(user=user, second_factor="not_needed")
            return redirect(next_url or "web:home")
        if second_factor_device(user) is None:
            user_signed_in(user=user, second_factor="set_up")
            return redirect(_with_next("web:second-factor-set-up", next_url))
        user_signed_in(user=user, second_factor="asked")
        return redirect(_with_next("web:second-factor", next_url))
    return render(request, "sign_in.html", context)


@require_POST
def sign_out(request):
    """Signing out; `reason=idle` is the timeout warning's own sign-out, which brings the user back to `next`."""
    if request.POST.get("reason") == "idle":
        next_url = _next_url(request)
        if request.user.is_authenticated:
            idle_sign_out(request)
        return redirect(_with_next("web:sign-in", next_url))
    if request.user.is_authenticated:
        user_signed_out(user=request.user)
    logout(request)
    return redirect("web:sign-in")


@login_required
def second_factor(request):
    """The code from the user's authenticator app, after their password."""
    next_url = _next_url(request)
    if request.user.is_verified():
        return redirect(next_url or "web:home")
    if second_factor_device(request.user) is None:
        return redirect(_with_next("web:second-factor-set-up", next_url))
    context = {
        "title": "Enter the code from your authenticator app",
        "next": next_url,
        "field_errors": {},
        "errors": [],
    }
    if request.method == "POST":
        try:
            device = second_factor_check_code(user=request.user, code=request.POST.get("code", "")[:20])
        except SignInRefused as refused:
            if refused.reason == SignInRefused.LOCKED:
                logout(request)
                messages.error(request, locked_message())
                return redirect(_with_next("web:sign-in", next_url))
            context["field_errors"] = {"code": CODE_NOT_RIGHT}
            context["errors"] = _errors(context["field_errors"])
            return render(request, "second_factor/code.html", context)
        otp_login(request, device)
        second_factor_verified(user=request.user, device=device)
        return redirect(next_url or "web:home")
    return render(request, "second_factor/code.html", context)


def _qr_code_data_uri(text: str) -> str:
    """The QR code as an SVG image in a data: URI (allowed by the CSP's img-src; no script, no inline style)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    out = io.BytesIO()
    image.save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def _grouped_base32(hex_key: str) -> str:
    secret = base64.b32encode(binascii.unhexlify(hex_key)).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _code_matches_key(hex_key: str, code: str) -> bool:
    code = code.replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    return TOTP(binascii.unhexlify(hex_key)).verify(int(code), tolerance=1)


@login_required
def second_factor_set_up(request):
    """Setting up an authenticator app: a QR code and the key as text, confirmed with a code from the app."""
    next_url = _next_url(request)
    has_device = second_factor_device(request.user) is not None
    if has_device and not request.user.is_verified():
        # Replacing an app needs the current one; a lost phone is reset by an administrator.
        return redirect(_with_next("web:second-factor", next_url))
    key = request.session.get(PENDING_KEY)
    if not key:
        key = request.session[PENDING_KEY] = default_key()
    context = {
        "title": "Set up your authenticator app",
        "next": next_url,
        "field_errors": {},
        "errors": [],
        "replacing": has_device,
    }
    if request.method == "POST":
        if _code_matches_key(key, request.POST.get("code", "")[:20]):
            device = second_factor_enrol(actor=request.user, key=key)
            del request.session[PENDING_KEY]
            otp_login(request, device)
            messages.success(
                request, "Your authenticator app is set up. You will be asked for a code from it each time you sign in."
            )
            return redirect(next_url or "web:home")
        context["field_errors"] = {"code": CODE_NOT_RIGHT}
        context["errors"] = _errors(context["field_errors"])
    config_url = TOTPDevice(user=request.user, key=key, name="Authenticator app").config_url
    context.update(qr_code=_qr_code_data_uri(config_url), secret=_grouped_base32(key))
    return render(request, "second_factor/set_up.html", context)


@require_GET
def session_status(request):
    """How long the session has left without activity; asking does not extend it (the timeout warning asks)."""
    signed_in = request.user.is_authenticated
    return JsonResponse(
        {
            "signed_in": signed_in,
            "seconds_left": session_seconds_left(request) if signed_in else 0,
            "warning_seconds": settings.IDLE_WARNING_SECONDS,
        }
    )


@require_POST
def session_keep_alive(request):
    """ "Stay signed in": the request itself is the activity (IdleSignOutMiddleware stamped it)."""
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(
            {
                "signed_in": request.user.is_authenticated,
                "seconds_left": session_seconds_left(request) if request.user.is_authenticated else 0,
            }
        )
    return redirect(_next_url(request) or "web:home")


RESET_TOKEN = "opennrm_password_reset_token"  # session key: the link's token, moved out of the address bar
TOKEN_IN_SESSION = "set-password"  # stands in for the token in the address once it is in the session


def _reset_link_user(uidb64: str):
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    return get_user_model()._default_manager.filter(pk=pk, is_active=True).first()


def password_reset(request, uidb64: str, token: str):
    """The link emailed to a user (an administrator's "send a reset link", a new account): they set their own password.

    As Django's PasswordResetConfirmView: the token is moved into the session and out of the address, so that it does
    not leak in a Referer header; it stops working once the password is set (Django's token covers the password hash).
    """
    user = _reset_link_user(uidb64)
    if token != TOKEN_IN_SESSION:
        if user is not None and default_token_generator.check_token(user, token):
            request.session[RESET_TOKEN] = token
            return redirect("web:password-reset", uidb64=uidb64, token=TOKEN_IN_SESSION)
        user = None
    elif user is None or not default_token_generator.check_token(user, request.session.get(RESET_TOKEN, "")):
        user = None
    if user is None:
        return render(
            request,
            "password/link_not_valid.html",
            {"title": "This link does not work", "hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
            status=404,
        )
    form = _with_messages(SetPasswordForm(user, request.POST if request.method == "POST" else None))
    if request.method == "POST" and form.is_valid():
        password_set(user=user, password=form.cleaned_data["new_password1"], how="reset_link")
        del request.session[RESET_TOKEN]
        if request.user.is_authenticated:
            logout(request)
        messages.success(request, "Your password is set. Sign in with it now.")
        return redirect("web:sign-in")
    return _password_page(request, form, title="Set your password", username=user.username)


REQUIRED_MESSAGES = {
    "old_password": "Enter your current password",
    "new_password1": "Enter a new password",
    "new_password2": "Enter the new password again",
}


def _with_messages(form):
    """Django's password forms, with error messages that say what to do, in the GOV.UK manner."""
    for name, message in REQUIRED_MESSAGES.items():
        if name in form.fields:
            form.fields[name].error_messages["required"] = message
    return form


def _password_page(request, form, **context):
    field_errors = {name: " ".join(errors) for name, errors in form.errors.items()} if form.is_bound else {}
    return render(
        request, "password/set.html", {**context, "field_errors": field_errors, "errors": _errors(field_errors)}
    )


@login_required
def password_change(request):
    """A signed-in user changes their own password: every other session and every API token of theirs ends, this one stays."""
    form = _with_messages(PasswordChangeForm(request.user, request.POST if request.method == "POST" else None))
    if request.method == "POST":
        if request.POST.get("old_password"):
            # The current password is counted and checked as at sign-in (ADR 0010): a borrowed session is no oracle.
            try:
                sign_in_check_password(
                    username=request.user.username,
                    password=request.POST["old_password"],
                    action="user.password_change_failed",
                )
            except SignInRefused as refused:
                if refused.reason == SignInRefused.LOCKED:
                    logout(request)
                    messages.error(request, locked_message())
                    return redirect("web:sign-in")
        if form.is_valid():
            user = password_set(user=request.user, password=form.cleaned_data["new_password1"], how="changed_by_user")
            update_session_auth_hash(request, user)
            messages.success(request, "Your password is changed. You are signed out everywhere else.")
            return redirect("web:home")
    return _password_page(request, form, title="Change your password", username=request.user.username, ask_current=True)
