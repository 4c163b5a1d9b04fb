"""Write a local ``.env`` for development, unless one exists: ``python -m catalyst.local_env [path]``.

``make run`` calls it, so that ``manage.py`` commands (``createsuperuser``,
``create_api_token``) work in the same folder: ``DEBUG`` on and a secret key
of this checkout's own. An existing file is never touched.
"""

import secrets
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def local_env_write(path: Path) -> bool:
    """Write ``path`` unless it exists; whether it was written."""
    if path.exists():
        return False
    path.write_text(
        "# Local development settings, written by `make run` (git-ignored; see the README).\n"
        "DEBUG=1\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
    )
    return True


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else BASE_DIR / ".env"
    if local_env_write(target):
        print(f"Wrote {target.name}: DEBUG on and a generated SECRET_KEY, so manage.py commands work here.")
