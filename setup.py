"""Packages: ``ops`` and its subpackages, plus the repo's ``remediations/`` and ``schemas/`` shipped inside it.

The folders stay at the repo's root (where a checkout and the docs use them); an
installed package carries them as ``ops/shipped/<folder>`` (see ``ops.resources``).
The rest of the metadata is in pyproject.toml.
"""

from setuptools import find_packages, setup

SHIPPED = {"ops.shipped.remediations": "remediations", "ops.shipped.schemas": "schemas"}

setup(packages=[*find_packages(include=["ops*"]), *SHIPPED], package_dir=SHIPPED)
