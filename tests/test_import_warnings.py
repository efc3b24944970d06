"""Importing the service warns about nothing: a library's deprecation warning is ours to act on.

Run in a fresh interpreter, because a module imported once (by another test) does not warn again, and
some libraries print their warnings whatever the filters say.
"""

from __future__ import annotations

import subprocess
import sys


def test_the_app_and_the_cli_import_without_warnings() -> None:
    code = "import stratcare.api.app, stratcare.cli, stratcare.capture.smart"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")
