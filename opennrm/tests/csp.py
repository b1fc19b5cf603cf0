"""What a strict Content-Security-Policy is here: checked on every page by the generated walk and in the browser."""


def csp_directives(header: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in header.split(";")) if d}


def csp_problems(header: str) -> list[str]:
    """What keeps this Content-Security-Policy header from being strict; empty when it is."""
    if not header:
        return ["no Content-Security-Policy header"]
    directives = csp_directives(header)
    script_src = directives.get("script-src", [])
    problems = []
    if directives.get("default-src") != ["'self'"]:
        problems.append("default-src is not 'self' alone")
    # A nonce appears only on pages that use it (Django adds it when a template reads it): stricter still.
    if set(script_src) - {"'self'"} and not all(s.startswith("'nonce-") for s in set(script_src) - {"'self'"}):
        problems.append(f"script-src allows more than 'self' and a nonce: {' '.join(script_src)}")
    if not script_src:
        problems.append("no script-src")
    loose = {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(
        script_src + directives.get("style-src", []) + directives.get("default-src", [])
    )
    if loose:
        problems.append(f"allows {', '.join(sorted(loose))}")
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append("frame-ancestors is not 'none'")
    if directives.get("object-src") != ["'none'"]:
        problems.append("object-src is not 'none'")
    return problems
