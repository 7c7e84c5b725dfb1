"""The wheel a user installs holds every module, prompt, grammar and profile of the source
tree, and the suite tests the installed package, not the checkout's folders."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import factcheck

REPO = Path(__file__).resolve().parents[1]
# where each source folder lands inside the wheel (setup.py)
FOLDERS = {"factcheck": "factcheck", "retrievers": "factcheck/retrievers", "prompts": "factcheck/prompts"}


def source_files() -> set[str]:
    """Every file of the three source folders, as its path inside the wheel."""
    found = set()
    for folder, inside in FOLDERS.items():
        for path in (REPO / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                found.add(f"{inside}/{path.relative_to(REPO / folder).as_posix()}")
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel CI installed (FACTCHECK_WHEEL), else one built from this checkout."""
    given = os.environ.get("FACTCHECK_WHEEL")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(REPO)],
                   check=True, capture_output=True)
    return next(out.glob("factcheck_pcc-*.whl"))


def test_the_wheel_holds_every_source_file(wheel):
    inside = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(source_files() - inside)
    assert not missing, f"the wheel lacks {len(missing)} source files: {missing[:10]}"


def test_the_wheel_holds_nothing_outside_the_package(wheel):
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"factcheck"}


@pytest.mark.skipif(not os.environ.get("FACTCHECK_EXPECT_INSTALLED"),
                    reason="set by .ci/run, which installs factcheck from a wheel")
def test_the_suite_runs_against_the_installed_package():
    here = Path(factcheck.__file__).resolve()
    assert REPO not in here.parents, f"factcheck was imported from the checkout ({here}), not the installed wheel"
    from factcheck import prompts, retrievers

    assert Path(prompts.__file__).resolve().parent.parent == here.parent
    assert Path(retrievers.__file__).resolve().parent.parent == here.parent
