from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self):
        from .triggers import ensure_sqlite_triggers

        post_migrate.connect(ensure_sqlite_triggers, sender=self)
