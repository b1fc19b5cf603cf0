"""Every view lives in web/ (pages) or api/ (API operations), and no view reads a sensitive model directly: views go
through the selectors, which take the acting user and scope the query (contract section 5, ADR 0003).

The views are found where Django and the API find them, the URL resolver and the NinjaAPI's routers, so a view
written anywhere is held to both rules the day it is routed; the read check runs on the source of their modules."""

import ast
import functools
import inspect
import sys
from pathlib import Path

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, include, path
from ninja import Router

from opennrm.api.api import api

ROOT = Path(__file__).resolve().parents[1]
VIEW_PACKAGES = ("web", "api")
VIEW_HOMES = tuple(f"opennrm.{package}." for package in VIEW_PACKAGES)
SENSITIVE_APPS = ("referrals", "decisions", "safeguarding", "linkage", "audit")
# Not ours: Django's admin (its own views, reached through ModelAdmins) and ninja's own views (the API docs, the
# OpenAPI document, its root, and the dispatchers that call the operations, which api_operations finds instead).
NOT_OURS_NAMESPACES = ("admin",)
NOT_OURS_MODULES = ("ninja.",)
ERROR_HANDLER_CODES = (400, 403, 404, 500)


def sensitive_model_names() -> set[str]:
    return {model.__name__ for label in SENSITIVE_APPS for model in apps.get_app_config(label).get_models()}


def direct_reads(path: Path, names: set[str], root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("objects", "_base_manager", "_default_manager")
            and isinstance(node.value, ast.Name)
            and node.value.id in names
        ):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def view_function(callback):
    """The function a URL calls, under its decorators (login_required and the like keep it as __wrapped__)."""
    if isinstance(callback, functools.partial):
        callback = callback.func
    view_class = getattr(callback, "view_class", None)  # a class-based view's as_view()
    return view_class if view_class is not None else inspect.unwrap(callback)


def page_views(patterns) -> dict[str, object]:
    """Every view the URL patterns reach, through every include, by its dotted name (module.function)."""
    found = {}
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in NOT_OURS_NAMESPACES:
                continue
            found.update(page_views(pattern.url_patterns))
        elif isinstance(pattern, URLPattern):
            view = view_function(pattern.callback)
            if not view.__module__.startswith(NOT_OURS_MODULES):
                found[f"{view.__module__}.{view.__qualname__}"] = view
    return found


def error_views(resolver) -> dict[str, object]:
    """The project's own error pages (handler403 and the like in opennrm/urls.py); Django's defaults are not ours."""
    found = {}
    for code in ERROR_HANDLER_CODES:
        view = view_function(resolver.resolve_error_handler(code))
        if not view.__module__.startswith("django."):
            found[f"{view.__module__}.{view.__qualname__}"] = view
    return found


def api_operations(routers) -> dict[str, object]:
    """Every API operation of the routers (prefix, router), by its dotted name (module.function)."""
    found = {}
    for _prefix, router in routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                view = inspect.unwrap(operation.view_func)
                found[f"{view.__module__}.{view.__qualname__}"] = view
    return found


def every_view() -> tuple[dict[str, object], dict[str, object]]:
    resolver = get_resolver()
    pages = page_views(resolver.url_patterns) | error_views(resolver)
    api.urls  # noqa: B018 (builds the routers, nested ones included, if the URLs have not yet)
    return pages, api_operations(api._routers)


def outside_their_home(views: dict[str, object]) -> list[str]:
    return sorted(name for name, view in views.items() if not view.__module__.startswith(VIEW_HOMES))


def test_every_view_lives_in_web_or_api():
    pages, operations = every_view()
    assert len(pages) > 40, "the URL resolver's views were not found"
    assert len(operations) > 30, "the API's operations were not found"
    assert {"opennrm.web.views.home", "opennrm.web.journey.referral_start"} <= set(pages)
    assert "opennrm.api.api.create_referral" in operations
    assert outside_their_home(pages) == [], "pages live in opennrm/web/"
    assert outside_their_home(operations) == [], "API operations live in opennrm/api/"


def test_no_view_reads_a_sensitive_model_directly():
    names = sensitive_model_names()
    assert {"Referral", "MissingEpisode", "MatchCandidate", "AuditEvent"} <= names
    pages, operations = every_view()
    # Every module a view is in, and every file of web/ and api/ beside (the helpers views call).
    modules = {view.__module__ for view in (pages | operations).values()}
    files = {Path(sys.modules[module].__file__) for module in modules}
    files |= {p for package in VIEW_PACKAGES for p in (ROOT / package).rglob("*.py") if "tests" not in p.parts}
    assert len(files) > 10
    assert [hit for path in sorted(files) for hit in direct_reads(path, names)] == []


def test_the_check_finds_a_direct_read(tmp_path):
    # The control: the same check on a view that does read a model directly.
    view = tmp_path / "views.py"
    view.write_text(
        "from opennrm.referrals.models import Referral\n\ndef page(request):\n    return Referral.objects.all()\n"
    )
    assert direct_reads(view, sensitive_model_names(), root=tmp_path) == ["views.py:4: Referral.objects"]


def test_the_home_check_finds_a_view_outside_web_and_api():
    # The control: a page routed from a domain package, under a decorator and an include, and an API operation
    # in a router of a domain package, are both found and named.
    from django.contrib.auth.decorators import login_required

    from opennrm.dashboards import selectors
    from opennrm.web import views

    def stray_operation(request):
        return {}

    stray_operation.__module__ = "opennrm.dashboards.api"
    router = Router()
    router.get("/stray")(stray_operation)
    patterns = [
        path("", views.home),
        path("more/", include(([path("stray", login_required(selectors.dashboard_figures))], "stray"))),
    ]
    assert outside_their_home(page_views(patterns)) == ["opennrm.dashboards.selectors.dashboard_figures"]
    assert outside_their_home(api_operations([("", router)])) == [
        "opennrm.dashboards.api.test_the_home_check_finds_a_view_outside_web_and_api.<locals>.stray_operation"
    ]
