import io

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpResponse, JsonResponse


class BodySizeLimitMiddleware:
    """Refuse oversized bodies with 413 before anything reads them (where a request came from is noted for the audit
    trail next, by audit.middleware.AuditOriginMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.MAX_REQUEST_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return self._too_large(request, f"The request body is {length:,} bytes; the limit is {limit // 1024:,} KiB")
        if self._is_unsized_upload(request) and not self._buffer_unsized_body(request, limit):
            return self._too_large(request, f"The request body is over the limit of {limit // 1024:,} KiB")
        return self.get_response(request)

    @staticmethod
    def _too_large(request, message: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse({"errors": [{"field": "body", "message": message}]}, status=413)
        return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")

    @staticmethod
    def _is_unsized_upload(request) -> bool:
        # A chunked upload has no Content-Length. Django would read it as empty; the server (gunicorn)
        # marks its input as ending at the body's end, so it can be read here, up to the limit.
        environ = getattr(request, "environ", {})
        return (
            request.method in ("POST", "PUT", "PATCH", "DELETE")
            and not request.META.get("CONTENT_LENGTH")
            and bool(environ.get("wsgi.input_terminated"))
        )

    @staticmethod
    def _buffer_unsized_body(request, limit: int) -> bool:
        """Read the whole body into memory; False, having read no more than the limit and a chunk, if it is too large."""
        stream, chunks, size = request.environ["wsgi.input"], [], 0
        while chunk := stream.read(64 * 1024):
            size += len(chunk)
            if size > limit:
                return False
            chunks.append(chunk)
        body = b"".join(chunks)
        request.META["CONTENT_LENGTH"] = str(len(body))
        # Django sized its stream from the missing Content-Length (as empty); give it the body instead.
        request._stream = LimitedStream(io.BytesIO(body), len(body))
        return True


class NoStoreMiddleware:
    """Tells browsers and proxies to keep no copy of any answer (contract section 2: "Every answer that carries
    case data is sent with Cache-Control: no-store"): pages, API answers, letters and PDFs alike.

    One rule for every response, rather than a list of the views that carry case data, so that a view added
    tomorrow is covered the day it is added. It sits after WhiteNoise, which answers static assets itself, so
    those keep their long-lived caching; everything else is sent with no-store, overriding whatever a view set.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"  # for HTTP/1.0 proxies, which know no Cache-Control
        return response
