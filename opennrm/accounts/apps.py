from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "opennrm.accounts"
    label = "accounts"
    verbose_name = "Organisations and users"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deployment checks)
