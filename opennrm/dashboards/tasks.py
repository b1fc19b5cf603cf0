"""The dashboard summary's refresh, run by the worker when a view finds it older than DASHBOARD_REFRESH_SECONDS."""

from django.tasks import task

from .services import case_figures_refresh


@task()
def refresh_case_figures() -> int:
    return case_figures_refresh()
