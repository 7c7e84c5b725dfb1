"""Package discovery for the wheel (the metadata is in pyproject.toml).

The design card keeps ``retrievers/`` and ``prompts/`` at the top of the repository; they
install inside the factcheck namespace (``factcheck.retrievers``, ``factcheck.prompts``), so
no generic top-level package lands in site-packages. Every package below each of the three
folders is found here, so a new subpackage cannot be left out of the wheel
(tests/test_packaging.py compares the wheel with the source tree).
"""

from setuptools import find_packages, setup

MAPPED = {"factcheck.retrievers": "retrievers", "factcheck.prompts": "prompts"}


def packages() -> list[str]:
    found = find_packages(include=["factcheck", "factcheck.*"])
    for name, folder in MAPPED.items():
        found += [name + sub[len(folder):] for sub in find_packages(include=[folder, folder + ".*"])]
    return found


setup(packages=packages(), package_dir=MAPPED)
