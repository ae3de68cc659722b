"""Configuration behaves as the README's table says."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "DEBUG",
            "DJANGO_SETTINGS_MODULE",
            "SECURE_SSL_REDIRECT",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_without_a_secret_key_refuses_to_start_with_one_line():
    result = run_manage("check")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error: SECRET_KEY must be set when DEBUG is off."
    ]


@pytest.mark.parametrize("debug", ["1", "true"])
def test_debug_runs_without_a_secret_key(debug, tmp_path):
    result = run_manage("check", DEBUG=debug, PORTAL_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr


# The deployment check (`check --deploy`) is in tests/security/test_production_settings.py.
