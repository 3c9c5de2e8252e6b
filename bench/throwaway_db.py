"""A fresh, migrated PostgreSQL database for one benchmark, dropped afterwards."""

from contextlib import contextmanager

from django.db import connection


@contextmanager
def throwaway_database(suffix="bench"):
    settings_dict = connection.settings_dict
    old_name = settings_dict["NAME"]
    settings_dict.setdefault("TEST", {})["NAME"] = f"{old_name}_{suffix}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
