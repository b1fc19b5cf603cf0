from django.apps import AppConfig


class SafeguardingConfig(AppConfig):
    name = "opennrm.safeguarding"
    label = "safeguarding"
    verbose_name = "Safeguarding"
