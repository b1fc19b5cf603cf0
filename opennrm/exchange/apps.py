from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "opennrm.exchange"
    label = "exchange"
    verbose_name = "International exchange (HTCDS)"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deployment check of the exchange key)
