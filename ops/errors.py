"""The exceptions ops raises, and the exit code each one maps to.

Every error a user can cause or meet derives from ``OpsError``; the one CLI
boundary (``ops.cli.boundary``) turns them into a message and an exit code.
Third-party exceptions (httpx, ruamel.yaml, jsonschema, pydantic, OSError) are
translated where they enter and never cross a module boundary raw.

    OpsError                      exit 1
    ├── InputError                exit 2   bad input: a spec, a config, a param, a key file
    │   ├── SpecError                      a remediation spec failed to load or validate
    │   └── ConfigError                    a wrangler config failed to parse
    ├── PreconditionFailed        exit 3   the world is not as the remediation expects
    ├── ConfirmationRefused       exit 3   a destructive step was not confirmed
    ├── LockHeld                  exit 3   another remediation holds the target's lock
    ├── PlanStale                 exit 3   a saved plan no longer matches the state
    ├── RemediationFailed         exit 1   a step or the verification failed (undo ran)
    ├── CloudflareError           exit 1   talking to the Cloudflare API
    │   ├── ApiError                       the API answered success=false (carries code)
    │   └── TransportError                 no usable answer: timeout, refused, dropped
    ├── SandboxError              exit 1   the local sandbox could not start or answer
    ├── JournalError              exit 1   the journal could not be written (disk full, read-only, gone):
    │                                      the run stops before the next change
    └── DryRunViolation           exit 1   a mutating request in a dry-run: a bug, refused at the transport

    KeyboardInterrupt (Python's)  exit 130 Ctrl-C
    └── Terminated                exit 143 SIGTERM (a CI cancellation, `timeout`, a container stop),
                                           raised by the CLI boundary's handler so every interrupt path sees it
"""

from __future__ import annotations

__all__ = [
    "ApiError",
    "CloudflareError",
    "ConfigError",
    "ConfirmationRefused",
    "DryRunViolation",
    "InputError",
    "JournalError",
    "LockHeld",
    "OpsError",
    "PlanStale",
    "PreconditionFailed",
    "RemediationFailed",
    "SandboxError",
    "SpecError",
    "Terminated",
    "TransportError",
]


class OpsError(Exception):
    """Root of every error ops raises on purpose."""

    exit_code = 1


class InputError(OpsError):
    """Bad input. The message names the file, line and what to do."""

    exit_code = 2


class SpecError(InputError):
    """A remediation spec failed to load or validate."""


class ConfigError(InputError):
    """A wrangler config could not be parsed."""


class PreconditionFailed(OpsError):
    exit_code = 3


class ConfirmationRefused(OpsError):
    exit_code = 3


class LockHeld(OpsError):
    exit_code = 3


class PlanStale(OpsError):
    exit_code = 3


class RemediationFailed(OpsError):
    """A step or the verification failed; the message says what was undone."""


class CloudflareError(OpsError):
    pass


class ApiError(CloudflareError):
    """The API answered with ``success: false``."""

    def __init__(self, code: int, message: str, *, status: int = 0, path: str = "") -> None:
        self.code = code
        self.message = message
        self.status = status
        self.path = path
        where = f"A request to the Cloudflare API ({path}) failed. " if path else ""
        super().__init__(f"{where}{message} [code: {code}]")


class TransportError(CloudflareError):
    """No usable answer: a timeout, a refused or dropped connection, a non-JSON body."""


class SandboxError(OpsError):
    pass


class JournalError(OpsError):
    """A journal event could not be written; the message carries the OS's reason (errno text)."""


class DryRunViolation(OpsError):
    """A mutating request was attempted during a dry-run: a bug, never a user error."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every interrupt path journals how far the run got."""

    exit_code = 143
