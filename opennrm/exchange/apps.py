from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "opennrm.exchange"
    label = "exchange"
    verbose_name = "International exchange (HTCDS)"
