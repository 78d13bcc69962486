"""Run a command and write its exit code, CPU seconds and peak RSS to the file named by $MEASURED_TO.

A small process of its own spawns the command: a child spawned straight from a pytest
worker inherits, through vfork and exec, that worker's peak RSS as its own
(``ru_maxrss`` then measures the test runner, not the command).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def main() -> None:
    proc = subprocess.Popen(sys.argv[1:])
    _, status, usage = os.wait4(proc.pid, 0)
    with open(os.environ["MEASURED_TO"], "w", encoding="utf-8") as out:
        json.dump({"code": os.waitstatus_to_exitcode(status), "cpu": usage.ru_utime + usage.ru_stime,
                   "rss_mb": usage.ru_maxrss / 1024}, out)


if __name__ == "__main__":
    main()
