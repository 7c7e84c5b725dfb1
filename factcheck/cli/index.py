"""factcheck index build / info, and search."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from factcheck.retrievers.local_index import LocalIndex, build_index, read_manifest

from .app import app, command_group, say
from .render import BatchProgress, print_index_info, print_passages

index_app = command_group("index", "Build and inspect local BM25 indexes.")


@index_app.command("build")
def index_build(
    sources: Annotated[list[str], typer.Argument(metavar="SOURCE", help="JSON Lines corpora ({id,title,text}), folders of .txt/.md files, or '-' for JSON Lines on stdin.")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Index folder to write.")],
    passage_words: Annotated[int, typer.Option("--passage-words", metavar="N", min=20, max=1000, help="Words per passage; documents are split at sentence ends.")] = 100,
    vectors: Annotated[bool, typer.Option("--vectors", help="Also embed every passage by meaning (all-MiniLM-L6-v2; ~11 ms a one-sentence passage on 2 cores), so checks that choose evidence by meaning search the whole index by meaning as well as by words.")] = False,
) -> None:
    """Split documents into passages and build a persistent BM25 index."""

    if vectors:
        with BatchProgress(0, 0, label="embedding passages") as bar:
            manifest = build_index(sources, out, max_words=passage_words, vectors=True, on_progress=bar.reached)
    else:
        manifest = build_index(sources, out, max_words=passage_words)
    for skipped in manifest["skipped"][:10]:
        say("skipped", "yellow", skipped)
    if manifest["skipped_count"] > 10:
        say("…", "yellow", f"and {manifest['skipped_count'] - 10} more skipped")
    say("indexed", "", f"{manifest['documents']} documents as {manifest['passages']} passages "
                        f"into {out} in {manifest['build_seconds']} s")


@index_app.command("info")
def index_info(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="Index folder.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show what an index holds and how it was built."""
    import json

    manifest = read_manifest(folder)
    if json_out:
        print(json.dumps(manifest))
        return

    print_index_info(manifest)


@app.command()
def search(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="Index folder.")],
    query: Annotated[str, typer.Argument(metavar="QUERY", help="Search query.")],
    k: Annotated[int, typer.Option("--k", "-k", metavar="N", min=1, max=1000, help="Passages to return.")] = 5,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON passage a line.")] = False,
    meaning: Annotated[bool, typer.Option("--meaning", help="Search by meaning (cosine; the index must be built with --vectors) instead of BM25.")] = False,
) -> None:
    """Search a local index and print ranked passages with their BM25 scores (or cosines)."""

    index = LocalIndex(folder)
    passages = index.search_by_meaning(query, k) if meaning else index.search(query, k)
    print_passages(passages, json_out=json_out)
