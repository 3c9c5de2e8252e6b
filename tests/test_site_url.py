"""E-mail links follow the port `make run PORT=…` serves on, unless SITE_URL is set (item 23)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRINT_SITE_URL = (
    "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"
)


def environment(**values):
    env = {key: value for key, value in os.environ.items() if key not in {"SITE_URL", "PORT"}}
    return {**env, "DJANGO_SETTINGS_MODULE": "didportal.settings", **values}


def site_url(**values):
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SITE_URL],
        cwd=ROOT,
        env=environment(**values),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.skipif((ROOT / ".env").exists(), reason="a .env file may set SITE_URL")
def test_site_url_follows_the_port_unless_set():
    assert site_url() == "http://127.0.0.1:8000"
    assert site_url(PORT="8080") == "http://127.0.0.1:8080"
    assert site_url(PORT="8080", SITE_URL="https://portal.example.com") == (
        "https://portal.example.com"
    )


@pytest.mark.skipif((ROOT / ".env").exists(), reason="a .env file may set SITE_URL")
@pytest.mark.parametrize(("args", "env"), [(["8123"], {}), ([], {"PORT": "8123"})])
def test_run_embedded_gives_the_server_and_the_worker_the_port(tmp_path, args, env):
    """bin/run-embedded with stand-ins for the venv's celery and python that print the
    SITE_URL the real settings give them (`make run PORT=8123` passes the port as $1)."""
    shutil.copytree(ROOT / "bin", tmp_path / "bin")
    venv_bin = tmp_path / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    log = tmp_path / "seen.log"
    wait_for_the_worker = (
        f'for i in $(seq 100); do grep -q ^celery "{log}" && break; sleep 0.1; done\n'
    )
    for name in ("celery", "python"):
        stub = venv_bin / name
        stub.write_text(
            "#!/bin/sh\n"
            f'cd "{ROOT}" && "{sys.executable}" -c "{PRINT_SITE_URL}" '
            f'| sed "s|^|{name} $*: |" >> "{log}"\n'
            + (wait_for_the_worker if name == "python" else "")  # before the script kills it
        )
        stub.chmod(0o755)
    subprocess.run(
        ["bash", str(tmp_path / "bin" / "run-embedded"), *args],
        env=environment(**env),
        capture_output=True,
        check=True,
        timeout=60,
    )
    seen = log.read_text()
    assert "python manage.py runserver 127.0.0.1:8123: http://127.0.0.1:8123" in seen
    assert "celery -A didportal worker" in seen
    assert all(line.endswith("http://127.0.0.1:8123") for line in seen.splitlines()), seen
