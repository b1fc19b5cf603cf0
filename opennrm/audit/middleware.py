from .services import current_origin, origin_from_request


class AuditOriginMiddleware:
    """Note where a request came from (address, user agent) for the audit events written while it is handled."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_origin.set(origin_from_request(request))
        try:
            return self.get_response(request)
        finally:
            current_origin.reset(token)
