"""`make run` writes a local .env, so manage.py commands work in the same folder."""

import os
import subprocess
import sys

from catalyst.local_env import BASE_DIR, local_env_write


def manage(*args: str, env_file) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    environment["ENV_FILE"] = str(env_file)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=60
    )


def test_a_fresh_folder_gets_debug_and_a_secret_key_of_its_own(tmp_path):
    first, second = tmp_path / "one.env", tmp_path / "two.env"
    assert local_env_write(first) and local_env_write(second)

    lines = dict(line.split("=", 1) for line in first.read_text().splitlines() if "=" in line)
    assert lines["DEBUG"] == "1" and len(lines["SECRET_KEY"]) >= 50
    assert lines["SECRET_KEY"] not in second.read_text()


def test_an_existing_env_file_is_never_touched(tmp_path):
    mine = tmp_path / ".env"
    mine.write_text("DEBUG=0\nSECRET_KEY=mine\n")
    assert not local_env_write(mine)
    assert mine.read_text() == "DEBUG=0\nSECRET_KEY=mine\n"


def test_manage_py_commands_work_with_the_written_file(tmp_path):
    env_file = tmp_path / ".env"
    refused = manage("check", env_file=env_file)  # no .env yet: the start-up refusal, in one line
    assert refused.returncode != 0 and "SECRET_KEY must be set" in refused.stderr

    local_env_write(env_file)
    result = manage("check", env_file=env_file)
    assert result.returncode == 0, result.stderr
