"""The one error boundary: every task body runs inside it.

Expected failures (``OpsError``) print one redacted paragraph and exit with
their code (under ``--json``, stdout also gets one JSON document saying so, unless
the body already printed its own); Ctrl-C exits 130 and SIGTERM 143 (the handler installed here raises
``Terminated``, a ``KeyboardInterrupt``, so the engine's interrupt path journals
how far the run got); anything else is a bug: the traceback goes to a crash log
that lives with the runs (never a shared, predictable /tmp name), not to the
terminal, and the exit code is 1. Once the body has finished, a late Ctrl-C or
SIGTERM ends the process quietly with the code already decided.
"""

from __future__ import annotations

import atexit
import functools
import os
import signal
import sys
import threading
import traceback
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Any, Callable, TextIO, TypeVar

from invoke.exceptions import Exit

from ops.errors import OpsError, Terminated
from ops.redact import dumps, redact

F = TypeVar("F", bound=Callable[..., Any])

SIGTERM_EXIT = 143
BROKEN_PIPE_EXIT = 141  # as if killed by SIGPIPE, what `git log | head` gives
_terminated = threading.Event()
_ignore_at_exit = threading.Event()


_live: dict[str, TextIO] = {}  # the stream holding a live status line, if any
_printed = threading.Event()  # the body has printed its result on stdout


def err(message: str) -> None:
    clear_live()
    print(redact(message), file=sys.stderr, flush=True)


def out(message: str) -> None:
    clear_live()
    _printed.set()
    print(redact(message), flush=True)


def out_json(data: Any, **options: Any) -> None:
    """One JSON document on stdout, masked at the value level so that masking cannot break it."""
    clear_live()
    _printed.set()
    print(dumps(data, **options), flush=True)


def live(text: str, stream: TextIO) -> None:
    """Show `text` as the terminal's live status line, replacing the previous one."""
    stream.write("\r\033[K" + redact(text))
    stream.flush()
    _live["stream"] = stream


def clear_live() -> None:
    """Erase the live status line, so what is printed next replaces it."""
    stream = _live.pop("stream", None)
    if stream is not None:
        stream.write("\r\033[K")
        stream.flush()


def guarded(body: F) -> F:
    @functools.wraps(body)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        code = 0
        as_json = bool(kwargs.get("json") or kwargs.get("json_"))  # invoke names it json_ where json would shadow
        _printed.clear()
        _on_signals(_raise_terminated)
        try:
            return body(*args, **kwargs)
        except Exit as exc:
            code = exc.code
            if _terminated.is_set() and exc.code == 130:  # the engine journalled the interrupt: it was SIGTERM
                code = SIGTERM_EXIT
                raise Exit(message=exc.message, code=code) from None
            raise
        except OpsError as exc:
            code = exc.exit_code
            err(f"error: {exc}")
            from ops.engine.outcome import status_of

            _json_error(as_json, status_of(exc), code, str(exc))
            raise Exit(code=code) from None
        except BrokenPipeError:  # the reader (e.g. `head`) went away: nothing more to say
            code = BROKEN_PIPE_EXIT
            silence_stdout()
            raise Exit(code=code) from None
        except KeyboardInterrupt as exc:
            code = SIGTERM_EXIT if isinstance(exc, Terminated) else 130
            said = "terminated" if code == SIGTERM_EXIT else "interrupted"
            err(said)
            _json_error(as_json, said, code, said)
            raise Exit(code=code) from None
        except Exception as exc:  # a bug: keep the traceback out of the terminal, but keep it
            code = 1
            what = "; ".join(line.strip() for line in traceback.format_exception_only(exc) if line.strip())
            said = f"internal error: {what}; {_save_crash_log()}; please report it"
            err(said)
            _json_error(as_json, "internal-error", code, said)
            raise Exit(code=code) from None
        finally:
            _on_signals(_exit_quietly(code))

    return wrapper  # type: ignore[return-value]


def _json_error(as_json: bool, status: str, code: int, message: str) -> None:
    """Under --json, stdout holds exactly one JSON document: the error's, if the body printed none."""
    if not as_json or _printed.is_set():
        return
    try:
        out_json({"status": status, "exit_code": code, "message": redact(message)}, indent=2)
    except OSError:
        pass  # stdout is gone; stderr has said it


def _on_signals(handler: Callable[[int, FrameType | None], None] | signal.Handlers) -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread
    signal.signal(signal.SIGTERM, handler)
    if handler is not _raise_terminated:
        signal.signal(signal.SIGINT, handler)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    _terminated.set()
    raise Terminated()


def _exit_quietly(code: int) -> Callable[[int, FrameType | None], None]:
    """After the body: the journal is complete and the result printed; a late signal just ends the process.

    Python puts the default handlers back while it shuts down, so a signal landing then would kill the
    process (exit -2); from the first exit hook on, the signals are ignored instead: the exit is under way.
    """
    if not _ignore_at_exit.is_set():
        _ignore_at_exit.set()
        atexit.register(_on_signals, signal.SIG_IGN)

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(code)

    return handler


def silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush cannot fail on a closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def quiet_broken_pipe() -> None:
    """A reader that goes away (`inv --list | head`) ends the process quietly, not with a traceback."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        if not issubclass(kind, BrokenPipeError):
            previous(kind, value, tb)
            return
        silence_stdout()
        os._exit(BROKEN_PIPE_EXIT)

    sys.excepthook = hook


def crash_dir() -> Path:
    """Where crash logs go: the journal's folder, or a per-user cache folder when there is none."""
    try:
        from ops.engine.journal import default_dir

        return default_dir()
    except Exception:
        return _user_cache()


def _save_crash_log() -> str:
    text = redact(traceback.format_exc())
    problems: list[str] = []
    for folder in dict.fromkeys((crash_dir(), _user_cache())):
        try:
            return f"the traceback is in {write_private(folder, _crash_name(), text)}"
        except OSError as exc:
            problems.append(f"{folder}: {exc.strerror or exc}")
    return f"the traceback could not be saved ({'; '.join(problems)})"


def _user_cache() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "cfw-remedy"


def _crash_name() -> str:
    import secrets

    from ops.engine.journal import current_run_id

    run = current_run_id() or f"pid{os.getpid()}"
    return f"crash-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{run}-{secrets.token_hex(4)}.log"


def write_private(folder: Path, name: str, text: str) -> Path:
    """Create `folder/name` for this user alone (0600), never following a symlink, never over an existing file."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    dir_fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | nofollow)
    try:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | nofollow | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return folder / name
