"""Whether a browser or a proxy may keep a copy of an answer: checked on every answer by the generated walks."""


def kept_by_browsers(response) -> bool:
    """True unless the answer is sent with Cache-Control: no-store (RFC 9111 5.2.2.5) and, for HTTP/1.0 proxies, Pragma: no-cache."""
    directives = {d.strip().split("=")[0].lower() for d in response.get("Cache-Control", "").split(",")}
    return "no-store" not in directives or response.get("Pragma", "").lower() != "no-cache"
