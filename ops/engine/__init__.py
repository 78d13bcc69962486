"""The remediation engine: load → validate → model → plan → run → journal.

It knows nothing of invoke or the terminal: it returns results and emits
events to an observer; ``ops.cli`` adapts it and prints.
"""
