"""How the pages answer the application's errors (core/errors.py), in one place.

- NotFound: the page "not found" (404), the same whether the record never existed or lies outside the user's scope.
- NotAllowed: the page "you cannot do this" (403), saying why (the error's message).
  Both by `ErrorPagesMiddleware`, for whatever error a view lets through.
- Invalid and Refused: the form again, with its error summary (`form_errors`): 422 naming each field to correct,
  409 saying why the records' state does not allow it.
- Throttled: the page that asked says when to try again, with Retry-After (views.nrm_status).
"""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404

from opennrm.core.errors import Invalid, NotAllowed, NotFound, Refused


class ErrorPagesMiddleware:
    """A NotFound or NotAllowed that a view lets through becomes Django's Http404 or PermissionDenied, and so the
    404 or 403 page (error_views.py). The API answers its own (api/api.py), so none reaches here from it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NotFound):
            raise Http404 from exception
        if isinstance(exception, NotAllowed):
            raise PermissionDenied(str(exception)) from exception
        return None


def form_errors(exc: Invalid | Refused, *, href: Callable[[str], str] = lambda field: f"#{field}"):
    """(error summary, field errors, status) for a form the service refused: Invalid names each field to correct
    (422), linked by `href(field)`; Refused says why the records' state does not allow it (409)."""
    if isinstance(exc, Invalid):
        summary = [{"text": e.message, "href": href(e.field)} for e in exc.errors]
        return summary, {e.field: e.message for e in exc.errors}, 422
    return [{"text": str(exc)}], {}, 409
