from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "opennrm.linkage"
    label = "linkage"
    verbose_name = "Duplicate detection"
