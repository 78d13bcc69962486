"""A located problem in an input file: the one type lives in ``ops.documents.problem``."""

from __future__ import annotations

from ops.documents.problem import Path_, Problem, did_you_mean, json_path

__all__ = ["Path_", "Problem", "did_you_mean", "json_path"]
