"""The pages for "no": not found (404), refused (403) and a failure of the service (500), in the GOV.UK pattern.

Named in opennrm/urls.py as Django's handler404, handler403 and handler500. The API keeps its own answers:
django-ninja turns its errors into JSON itself, and what reaches these handlers under /api/ (a path no operation
matches, an exception the API lets through) gets Django's plain default, as before, never an HTML page.
"""

from django.http import HttpResponseServerError
from django.middleware.csp import get_nonce
from django.shortcuts import render
from django.template.loader import get_template
from django.views import defaults

API_PREFIX = "/api/"


def _of_the_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def page_not_found(request, exception):
    """The same words whether the page never existed or the record is one the user may not see (contract section 1)."""
    if _of_the_api(request):
        return defaults.page_not_found(request, exception)
    return render(request, "errors/not_found.html", {"title": "Page not found"}, status=404)


def permission_denied(request, exception):
    """A refusal: what the user's role may not do, said by the view that refused (PermissionDenied's message)."""
    if _of_the_api(request):
        return defaults.permission_denied(request, exception)
    reason = str(exception) if exception is not None else ""
    return render(request, "errors/refused.html", {"title": "You cannot do this", "reason": reason}, status=403)


def server_error(request):
    """Rendered without the request: the failure may be the database, the session or the user, so nothing of them
    is read; only the CSP nonce, which the middleware set on the request before any of those was touched."""
    if _of_the_api(request):
        return defaults.server_error(request)
    nonce = get_nonce(request)  # lazy: str() draws it, so that the middleware then puts it in the header
    context = {
        "title": "Sorry, there is a problem with the service",
        "csp_nonce": str(nonce) if nonce is not None else "",
    }
    return HttpResponseServerError(get_template("errors/server_error.html").render(context))
