from django.apps import AppConfig


class WorkdaysConfig(AppConfig):
    name = "opennrm.workdays"
    label = "workdays"
    verbose_name = "Working-day calendar"
