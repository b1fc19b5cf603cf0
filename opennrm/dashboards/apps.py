from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "opennrm.dashboards"
    label = "dashboards"
    verbose_name = "Managers' dashboards"
