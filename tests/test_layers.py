"""The layers of the code stay in order, read from the imports themselves: every package
(or top-level module) of factcheck imports only packages below it, so there is no cycle
between packages, and no import hides inside a function to dodge one."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# the source folders and the package names they install as (setup.py)
FOLDERS = {"factcheck": "factcheck", "retrievers": "factcheck.retrievers", "prompts": "factcheck.prompts"}

# From the bottom: what everything may use (records, errors, words, files, HTTP, the sentence
# encoder, cost, prompts); settings; the model and the evidence sources; the stages of a check
# in the order a claim meets them; the record and the fitted profiles; the pipeline; what is
# built on it (claims from documents, reports, runs, fitting); the Python API; the command line.
LAYERS = [
    "version", "errors", "schema", "text", "files", "http", "embed", "cost", "prompts",
    "config",
    "model", "retrievers",
    "evidence", "reading", "routing",
    "record", "profiles",
    "pipeline",
    "claims", "report", "runs", "fitting",
    "api",
    "cli", "__main__", "",  # "": factcheck/__init__.py, which re-exports the API
]
RANK = {name: rank for rank, name in enumerate(LAYERS)}


def modules():
    for folder, package in FOLDERS.items():
        for path in (REPO / folder).rglob("*.py"):
            parts = path.relative_to(REPO / folder).with_suffix("").parts
            name = ".".join([package, *parts]).removesuffix(".__init__")
            yield name, path


ALL = dict(modules())


def import_nodes(name: str, path: Path):
    """(absolute module imported, whether inside a function) for each import of factcheck."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside = {id(node) for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
              for node in ast.walk(fn)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # "from . import cli" imports the module factcheck.cli; "from .x import y" imports x
            targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in ALL else target for a in node.names]
        else:
            continue
        for target in targets:
            if target == "factcheck" or target.startswith("factcheck."):
                yield target, id(node) in inside


def top(module: str) -> str:
    """The package (or top-level module) inside factcheck: factcheck.cli.check -> cli."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in ALL.items():
        here = top(name)
        graph.setdefault(here, set())
        for target, _ in import_nodes(name, path):
            if top(target) != here:
                graph[here].add(top(target))
    return graph


def test_every_package_has_a_place_in_the_layers():
    assert set(package_graph()) <= set(RANK), sorted(set(package_graph()) - set(RANK))


@pytest.mark.parametrize("package", sorted(package_graph()))
def test_a_package_imports_only_packages_below_it(package):
    above = {used for used in package_graph()[package] if RANK[used] >= RANK[package]}
    assert not above, f"{package or 'factcheck'} imports {sorted(above)}, which are not below it in LAYERS"


def test_no_cycle_between_packages():
    graph = package_graph()
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path + [node, nxt]))
            if nxt not in state:
                visit(nxt, path + [node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_no_import_of_factcheck_hides_inside_a_function():
    """An import inside a function is how a cycle hides; heavy third-party libraries may
    still load late (llama_cpp, bm25s, matplotlib), factcheck's own modules may not."""
    inside = sorted(f"{name} imports {target}" for name, path in ALL.items()
                    for target, nested in import_nodes(name, path) if nested)
    assert not inside, inside


def test_no_module_keeps_mutable_state_that_two_checkers_would_share():
    """No ``global`` rebinding, no memo on a method (it outlives and is shared by every
    instance), no patching another library's module attributes."""
    found = []
    for name, path in ALL.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                found.append(f"{name}: global {', '.join(node.names)}")
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and any(
                            "cache" in ast.unparse(d) for d in item.decorator_list):
                        found.append(f"{name}: {node.name}.{item.name} is memoised on the class")
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Attribute) and ast.unparse(t).startswith(("llama_cpp.", "lib."))
                    for t in node.targets):
                found.append(f"{name}: patches {ast.unparse(node.targets[0])}")
    assert not found, found


def test_no_module_is_over_the_size_a_reader_can_hold():
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in ALL.items()}
    assert max(sizes.values()) <= 500, sorted(sizes.items(), key=lambda kv: -kv[1])[:3]


def test_words_and_sentences_are_split_in_one_place():
    """Selection, the index, web ranking, queries and extraction share factcheck/text.py."""
    for name, path in ALL.items():
        if name == "factcheck.text":
            continue
        source = path.read_text(encoding="utf-8")
        for mark in ("import Stemmer", "STOPWORDS_EN", "bm25s.tokenize", "_SENTENCE_END", "[.!?]"):
            assert mark not in source, f"{name} splits words or sentences its own way ({mark})"


def test_bm25_is_one_library():
    """BM25 is bm25s wherever it is meant (the index, web ranking); nothing imports rank_bm25."""
    for name, path in ALL.items():
        assert "rank_bm25" not in path.read_text(encoding="utf-8"), name


def test_the_chat_template_is_split_around_messages_in_one_place():
    for name, path in ALL.items():
        if name != "factcheck.model.template":
            assert "\\ue000" not in path.read_text(encoding="utf-8"), f"{name} places message sentinels itself"
