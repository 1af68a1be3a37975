"""Development secrets kept in a file under var/ (the firmware signing key, the dev KEK).

PURE: standard library only, no Django, so config/settings.py can call it before Django is set
up. Used only when DEBUG is on and the environment names no secret.
"""

import base64
import os
import tempfile
from pathlib import Path


def dev_secret_text(var_dir: Path, file_name: str, *, size: int = 32) -> str:
    """Base64 of `size` random bytes, generated once into `var_dir / file_name` (mode 0600).

    Creation is atomic (write a temporary file, then hard-link it into place), so two
    processes starting together (runserver and its reloader) end up with the same secret.
    """
    path = Path(var_dir) / file_name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary_name = tempfile.mkstemp(prefix=f".{file_name}.", dir=path.parent)  # mode 0600
        temporary = Path(temporary_name)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(os.urandom(size)).decode("ascii") + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won the race: use its secret
        finally:
            temporary.unlink()
    return path.read_text().strip()
