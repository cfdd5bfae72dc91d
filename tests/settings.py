"""Settings for the test suite: the real settings, with a throw-away data directory and fast
password hashing. The database is SQLite unless DATABASE_URL is set (make test sets it from
DESKPILOT_TEST_DATABASE_URL for the PostgreSQL run)."""

import atexit
import os
import shutil
import tempfile

if "DESKPILOT_DATA_DIR" not in os.environ:
    _data_dir = tempfile.mkdtemp(prefix="deskpilot-test-")
    os.environ["DESKPILOT_DATA_DIR"] = _data_dir
    # Each test process (xdist worker) has its own directory; it goes when the process ends.
    atexit.register(shutil.rmtree, _data_dir, ignore_errors=True)
os.environ.setdefault("DESKPILOT_JOBS_IMMEDIATE", "true")

from deskpilot.settings import *  # noqa: F403

# Hashing a password properly takes ~0.3 s by design; tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
