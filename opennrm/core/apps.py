from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "opennrm.core"
    label = "core"
    verbose_name = "Core"
