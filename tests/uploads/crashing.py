"""Stand-ins for the extraction the child process runs (importable by reference, as the
child needs them): one that brings the process down, one that never ends."""

from __future__ import annotations

import os
import time
from typing import Any


def die(*_args: Any) -> Any:
    os._exit(9)  # as a segfault in a parser would end it: no exception, no clean-up


def hang(*_args: Any) -> Any:
    time.sleep(3600)
