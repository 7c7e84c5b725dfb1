"""Every command in the README runs as shown.

The README's code lines are run in order in a folder holding a copy of `examples/`, through
bash, with `factcheck` the CLI driven by the scripted fake model (so option names, files and
pipes are checked in seconds); the tour's first commands also run on the real default model.
Commands that need the network or a user's own files are checked against `--help`: each
option they use must exist. The two set-up commands are what `.ci/run` runs.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
# Lines that need the network, a model server, or files and models of the user's own
NEEDS_MORE = re.compile(r"--web|--api-base|factcheck serve|llama-server|…|my_|my-index|~/models|model\.gguf")
INSTALLS = ("pip ", "CMAKE_ARGS=", "python3 -m venv")


def code_lines() -> list[str]:
    """The README's indented shell lines, in order (a line's trailing `# comment` dropped)."""
    lines, fenced = [], False
    for line in README.splitlines():
        if line.startswith("```"):  # a fenced block is not shell (the Python example)
            fenced = not fenced
            continue
        if fenced:
            continue
        if line.startswith("    ") and not line.startswith("     ") and not line.lstrip().startswith("|"):
            command = line.strip()
            command = re.sub(r"\s+#\s.*$", "", command)  # comments after two spaces or more
            lines.append(command)
    return lines


def runnable() -> list[str]:
    return [c for c in code_lines() if not c.startswith(INSTALLS) and not NEEDS_MORE.search(c)]


def only_checked() -> list[str]:
    return [c for c in code_lines() if not c.startswith(INSTALLS) and NEEDS_MORE.search(c) and "factcheck " in c]


def test_the_readme_holds_the_two_commands_ci_runs():
    ci = (REPO / ".ci" / "run").read_text()
    assert "readme_command main" in ci and "readme_command tests" in ci
    for mark in ("<!-- ci: main -->", "<!-- ci: tests -->"):
        after = README.split(mark, 1)[1].lstrip("\n").splitlines()[0]
        assert after.startswith("    pip install '.["), after
    assert len(README.splitlines()) <= 300


def _shim(tmp_path: Path) -> dict:
    """`factcheck` on PATH: the CLI with the scripted fake model, on the installed package."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "factcheck"
    script.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -P '
                      f'{shlex.quote(str(REPO / "tests" / "fake_cli.py"))} 0 "$@"\n')
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def test_every_runnable_readme_command_runs_as_shown(tmp_path):
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    env = _shim(tmp_path)
    commands = runnable()
    assert len(commands) >= 15  # the tour and the examples
    for command in commands:
        if "jq " in command and shutil.which("jq") is None:
            continue  # jq is the user's tool, not factcheck's
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120)
        # check: 0 or 1 is a verdict; anything else (batch's 1 included: error records) is a failure
        allowed = (0, 1) if "factcheck check" in command else (0,)
        assert proc.returncode in allowed, f"{command}\nexit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr, f"{command}\n{proc.stderr}"


def test_commands_that_need_the_network_or_your_files_use_real_options():
    from typer.testing import CliRunner

    from factcheck.cli import app

    checked = only_checked()
    assert checked
    for command in checked:
        for part in command.split("|"):
            words = shlex.split(part.replace("…", "x"))
            if "factcheck" not in words:
                continue
            words = words[words.index("factcheck") + 1:]
            sub = [w for w in words[:2] if not w.startswith("-")]
            if len(sub) == 2 and sub[1] not in ("info", "build", "show", "clear"):
                sub = sub[:1]  # 'check CLAIM', not a command group
            help_text = CliRunner().invoke(app, [*sub, "--help"]).stdout
            for option in (w.split("=")[0] for w in words if w.startswith("--")):
                assert option in help_text, f"{command}: {option} is not an option of factcheck {' '.join(sub)}"


@pytest.mark.model
def test_the_tour_reaches_real_evidence_with_the_real_model(tmp_path):
    """The tour's first commands, on the default model: the notes are indexed, and the check
    reads the note about the Eiffel Tower."""
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    factcheck = [sys.executable, "-P", "-m", "factcheck"]
    build = subprocess.run([*factcheck, "index", "build", "examples/notes", "-o", "notes-index"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    proc = subprocess.run([*factcheck, "check", "--json", "--ctx", "2048", "--index", "notes-index",
                           "The Eiffel Tower is in Berlin."], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr  # REFUTED: not every claim is supported
    record = json.loads(proc.stdout)
    assert record["basis"] == "evidence" and record["route"] == "retrieve"
    assert any("Paris" in e["text"] and e["title"] == "The Eiffel Tower" for e in record["evidence"])
    assert record["verdict"] == "REFUTED", record


def python_example() -> str:
    """The README's Python example (its one ```python block)."""
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) == 1, "the README shows one Python example"
    return blocks[0]


@pytest.mark.model
def test_the_readme_python_example_runs_on_the_real_model(tmp_path):
    """The Python API as the README shows it, on the default model over the tour's notes: the
    same verdict as the command line's, a claim from the notes supported, and a document's
    claims each placed at its sentence."""
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    env = {**os.environ, "FACTCHECK_CTX": "2048"}
    build = subprocess.run([sys.executable, "-P", "-m", "factcheck", "index", "build", "examples/notes", "-o",
                            "notes-index"], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert build.returncode == 0, build.stderr
    proc = subprocess.run([sys.executable, "-P", "-c", python_example()], cwd=tmp_path, capture_output=True,
                          text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("REFUTED ") and "Paris" in lines[0], lines
    assert lines[1] == "SUPPORTED Water boils at 100 degrees Celsius at sea level.", lines
    document = [line.split() for line in lines[2:]]
    assert document, "the document gave no claim"
    # each claim is placed at the start of its sentence: 0, or 30 ("It was completed in 1925.")
    assert {words[-1] for words in document} <= {"0", "30"}, lines
