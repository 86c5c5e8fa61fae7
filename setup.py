"""Packages are listed here because themes/ (top level) ships as maou_tui.themes.

pyproject.toml cannot combine package discovery with an extra mapped package, so this file
adds it; everything else about the project is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["maou_tui*", "trainer*"]), "maou_tui.themes"],
    package_dir={"maou_tui.themes": "themes"},
)
