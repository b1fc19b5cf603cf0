from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The synthetic demo and the operational commands `opennrm demo`, `opennrm import` and `opennrm serve`."""

    name = "opennrm.demo"
    label = "demo"
    verbose_name = "Demo and operations"
