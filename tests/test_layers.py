"""The layers of the code stay in order: nothing imports from a layer above it. Every import
is read, those inside functions too (they are how heavy modules load late)."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# the source folders and the package names they install as (setup.py)
FOLDERS = {"factcheck": "factcheck", "retrievers": "factcheck.retrievers", "prompts": "factcheck.prompts"}

# The layers, from the bottom: records and errors; config; the model; the stages of a check
# (evidence, reading, routing) and the record they build; the pipeline; then what is built
# on top of it (runs, fitting, claims from documents) and the command line.
STAGES = {"evidence", "reading", "routing", "record", "schema", "cost"}
ABOVE_STAGES = {"pipeline", "runs", "fitting", "claims", "report", "cli"}
ABOVE_MODEL = STAGES | ABOVE_STAGES
# What the evidence sources may use of factcheck: their own small interface.
RETRIEVERS_MAY_USE = {"factcheck", "factcheck.schema", "factcheck.errors", "factcheck.config.paths", "factcheck.http",
                      "factcheck.evidence.embed", "factcheck.evidence.text"}


def modules():
    for folder, package in FOLDERS.items():
        for path in (REPO / folder).rglob("*.py"):
            parts = path.relative_to(REPO / folder).with_suffix("").parts
            name = ".".join([package, *parts]).removesuffix(".__init__")
            yield name, path


def imports(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports, absolute, at any depth of the file."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)  # "from . import cli"
    return {f for f in found if f.startswith("factcheck")}


def top(module: str) -> str:
    """The first name inside factcheck: factcheck.cli.check -> cli."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


ALL = dict(modules())


@pytest.mark.parametrize("name", sorted(ALL))
def test_no_module_imports_from_a_layer_above_it(name):
    used = {m for m in imports(name, ALL[name]) if m in ALL or m.rsplit(".", 1)[0] in ALL}
    here = top(name)
    if name.startswith("factcheck.retrievers"):
        outside = {m for m in used if not m.startswith("factcheck.retrievers")}
        outside = {m if m in ALL else m.rsplit(".", 1)[0] for m in outside}
        assert outside <= RETRIEVERS_MAY_USE, f"{name} reaches into {sorted(outside - RETRIEVERS_MAY_USE)}"
    if here != "cli" and name != "factcheck.__main__":
        assert not {m for m in used if top(m) == "cli"}, f"{name} imports the command line"
    if here == "model":
        reached = {top(m) for m in used} & (ABOVE_MODEL - {"schema", "cost"})
        assert not reached, f"{name} (a model backend) imports {sorted(reached)}"
    if name == "factcheck.http":  # shared by the model servers and the web sources: below both
        assert used <= {"factcheck", "factcheck.__version__"}, f"factcheck.http imports {sorted(used)}"
    if here == "config":
        reached = {top(m) for m in used} & ABOVE_STAGES
        assert not reached, f"{name} (settings and profiles) imports {sorted(reached)}"
    if here in STAGES:
        reached = {top(m) for m in used} & ABOVE_STAGES
        assert not reached, f"{name} (a stage of a check) imports {sorted(reached)}"


def test_no_module_is_over_the_size_a_reader_can_hold():
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in ALL.items()}
    assert max(sizes.values()) <= 500, sorted(sizes.items(), key=lambda kv: -kv[1])[:3]


def test_words_and_sentences_are_split_in_one_place():
    """Selection, the index, web ranking, queries and extraction share evidence/text.py."""
    for name, path in ALL.items():
        if name == "factcheck.evidence.text":
            continue
        source = path.read_text(encoding="utf-8")
        for mark in ("import Stemmer", "STOPWORDS_EN", "bm25s.tokenize", "_SENTENCE_END"):
            assert mark not in source, f"{name} splits words or sentences its own way ({mark})"
