import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_production_settings_pass_the_deploy_check():
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DEBUG="False",
        SECRET_KEY="x7#kq2Lz!9pVw3@rT6yB0nM4cF8hJ1sD5gA-uE%oI&eZ_Ql*Xr",
        ALLOWED_HOSTS="portal.example.com",
        DJANGO_SETTINGS_MODULE="didportal.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_embedded_defaults_need_no_services():
    from django.conf import settings

    if os.environ.get("DATABASE_URL") or os.environ.get("REDIS_URL"):
        pytest.skip("production-like run: the embedded defaults are checked without DATABASE_URL")
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings.CELERY_BROKER_URL == "filesystem://"
    assert "locmem" in settings.CACHES["default"]["BACKEND"]
