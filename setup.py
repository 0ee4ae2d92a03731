"""Packaging beyond pyproject.toml: the packages are found, not listed, and the SPICE
model files in models/ ship inside the package as spicebar/_models."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["spicebar", "spicebar.*"]), "spicebar._models"],
      package_dir={"spicebar._models": "models"})
