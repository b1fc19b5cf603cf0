from django.conf import settings
from django.http import HttpResponse, JsonResponse

from opennrm.audit.services import current_origin, origin_from_request


class BodySizeLimitMiddleware:
    """Refuse oversized bodies with 413 before anything reads them, and note where a request came from for the audit trail."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BODY_BYTES:
            limit_kib = settings.MAX_REQUEST_BODY_BYTES // 1024
            message = f"The request body is {length:,} bytes; the limit is {limit_kib:,} KiB"
            if request.path.startswith("/api/"):
                return JsonResponse({"errors": [{"field": "body", "message": message}]}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        token = current_origin.set(origin_from_request(request))
        try:
            return self.get_response(request)
        finally:
            current_origin.reset(token)
