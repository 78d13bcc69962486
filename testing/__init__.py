"""Harnesses for the tests and benchmarks; never shipped (setup.py packages only ``ops``), never imported by ``ops``."""
