"""The one error boundary: every task body runs inside it.

Expected failures (``OpsError``) print one redacted paragraph and exit with
their code; Ctrl-C exits 130; anything else is a bug: the traceback goes to a
log file, never to the terminal, and the exit code is 1.
"""

from __future__ import annotations

import functools
import sys
import tempfile
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TypeVar

from invoke.exceptions import Exit

from ops.errors import OpsError
from ops.redact import redact

F = TypeVar("F", bound=Callable[..., Any])


def err(message: str) -> None:
    print(redact(message), file=sys.stderr, flush=True)


def out(message: str) -> None:
    print(redact(message), flush=True)


def guarded(body: F) -> F:
    @functools.wraps(body)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return body(*args, **kwargs)
        except Exit:
            raise
        except OpsError as exc:
            err(f"error: {exc}")
            raise Exit(code=exc.exit_code) from None
        except BrokenPipeError:  # the reader (e.g. `head`) went away: nothing more to say
            sys.stderr.close()
            raise Exit(code=1) from None
        except KeyboardInterrupt:
            err("interrupted")
            raise Exit(code=130) from None
        except Exception:  # a bug: keep the traceback out of the terminal, but keep it
            log = _crash_log()
            err(f"internal error: {traceback.format_exc().strip().splitlines()[-1]}; the traceback is in {log}; "
                "please report it")
            raise Exit(code=1) from None

    return wrapper  # type: ignore[return-value]


def _crash_log() -> Path:
    folder = Path(tempfile.gettempdir()) / "cfw-remedy"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"crash-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}.log"
    path.write_text(redact(traceback.format_exc()), encoding="utf-8")
    return path
