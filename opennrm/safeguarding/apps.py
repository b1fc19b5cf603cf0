from django.apps import AppConfig

from opennrm.policy import register_event_facts


class SafeguardingConfig(AppConfig):
    name = "opennrm.safeguarding"
    label = "safeguarding"
    verbose_name = "Safeguarding"

    def ready(self):
        # policy.py decides access; the facts of the child's safeguarding record it decides on are this package's.
        # Imported here, not above: access_facts reads the models, which are not loaded when this module is.
        from . import access_facts

        register_event_facts(access_facts)
