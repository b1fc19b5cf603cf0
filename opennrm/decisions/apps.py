from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "opennrm.decisions"
    label = "decisions"
    verbose_name = "Decisions"
