"""cfw-remedy: runbooks as code for on-call teams running Cloudflare Workers."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """``ops.__version__``: the installed package's version, written once in pyproject.toml.

    Read on first use, so that `import ops` (on every `inv` start) does not load package metadata.
    """
    if name != "__version__":
        raise AttributeError(f"module 'ops' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cfw-remedy")
    except PackageNotFoundError:  # a checkout on sys.path that was never installed
        return "unknown"
