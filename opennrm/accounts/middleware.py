"""Idle sign-out and the second factor, enforced for every page whatever the view (ADR 0010).

The API is not affected: it signs in with bearer tokens, which are issued only after the second factor.
"""

import time
import urllib.parse
from functools import cached_property

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

from .selectors import second_factor_device, second_factor_needed
from .services import user_signed_out

LAST_ACTIVITY = "opennrm_last_activity"  # session key: Unix time of the user's last request
# Within this many seconds of the last stamp a request does not write the session again.
ACTIVITY_RESOLUTION_SECONDS = 5
IDLE_MESSAGE = "You were signed out because you had not done anything for {minutes} minutes. Sign in again to carry on where you were."


def _outside_pages(path: str) -> bool:
    return path.startswith(("/api/", settings.STATIC_URL))


def _sign_in_url(request, view: str = "web:sign-in") -> str:
    # Only a page the user was looking at is worth returning to; a form's POST target is shown again by GET.
    target = request.get_full_path() if request.method == "GET" else request.path
    return f"{reverse(view)}?{urllib.parse.urlencode({'next': target})}"


def session_seconds_left(request) -> int:
    last = request.session.get(LAST_ACTIVITY)
    if last is None:
        return settings.IDLE_SIGN_OUT_SECONDS
    return max(0, int(settings.IDLE_SIGN_OUT_SECONDS - (time.time() - last)))


def idle_sign_out(request) -> None:
    """Sign the user out for inactivity, audited, and leave a message for the sign-in page."""
    user_signed_out(user=request.user, reason="idle")
    logout(request)
    messages.info(request, IDLE_MESSAGE.format(minutes=max(1, settings.IDLE_SIGN_OUT_SECONDS // 60)))


class IdleSignOutMiddleware:
    """Signs a page user out after settings.IDLE_SIGN_OUT_SECONDS without a request, on the server, so it
    holds without JavaScript; their next request goes to the sign-in page and back to where they were."""

    def __init__(self, get_response):
        self.get_response = get_response

    @cached_property
    def _status_path(self) -> str:
        return reverse("web:session-status")

    def __call__(self, request):
        if _outside_pages(request.path) or not request.user.is_authenticated:
            return self.get_response(request)
        now = time.time()
        last = request.session.get(LAST_ACTIVITY)
        if last is not None and now - last > settings.IDLE_SIGN_OUT_SECONDS:
            idle_sign_out(request)
            if request.path == self._status_path:
                return self.get_response(request)  # answers "signed out" to the warning's script
            return redirect(_sign_in_url(request))
        # Asking how long is left is not activity: the warning dialog asks without extending the session.
        if request.path != self._status_path and (last is None or now - last >= ACTIVITY_RESOLUTION_SECONDS):
            request.session[LAST_ACTIVITY] = now
        return self.get_response(request)


class SecondFactorMiddleware:
    """A user who must give a second factor and has not yet done so this session reaches only the pages
    that get them there: the code, setting one up, and signing out."""

    def __init__(self, get_response):
        self.get_response = get_response

    @cached_property
    def _open_paths(self) -> set[str]:
        return {
            reverse(name)
            for name in (
                "web:sign-in",
                "web:sign-out",
                "web:second-factor",
                "web:second-factor-set-up",
                "web:session-status",
                "web:session-keep-alive",
            )
        }

    def __call__(self, request):
        request.second_factor_pending = False
        if _outside_pages(request.path) or not request.user.is_authenticated or request.user.is_verified():
            return self.get_response(request)
        if second_factor_needed(request.user):
            request.second_factor_pending = True
            if request.path not in self._open_paths:
                view = "web:second-factor" if second_factor_device(request.user) else "web:second-factor-set-up"
                return redirect(_sign_in_url(request, view))
        return self.get_response(request)
