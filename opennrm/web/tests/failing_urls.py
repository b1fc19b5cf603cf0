"""The project's URLs plus one page that fails, for the tests of the server-error page (test_error_pages.py)."""

from django.urls import path

from opennrm.urls import handler403, handler404, handler500, urlpatterns as project_urlpatterns  # noqa: F401


def page_that_fails(request):
    raise RuntimeError("a failure for the server-error page's test")


def api_path_that_fails(request):
    raise RuntimeError("a failure under /api/ for the server-error page's test")


urlpatterns = [
    path("a-page-that-fails", page_that_fails),
    path("api/v1/a-path-that-fails", api_path_that_fails),
    *project_urlpatterns,
]
