import pytest

from factcheck import prompts


def test_every_prompt_file_loads_and_names_its_placeholders():
    assert prompts.placeholders("verdict_closed") == {"options", "claim"}
    assert prompts.placeholders("verdict_evidence") == {"options", "claim", "evidence"}


def test_missing_placeholder_is_an_error():
    with pytest.raises(KeyError, match="missing placeholders \\['claim'\\]"):
        prompts.render("verdict_closed", options="x")


def test_unused_value_is_an_error():
    with pytest.raises(KeyError, match="unused values \\['extra'\\]"):
        prompts.render("verdict_closed", options="x", claim="c", extra="e")


def test_values_are_inserted_verbatim_even_with_braces():
    text = prompts.render("verdict_closed", options="OPTS", claim="{evidence} and {claim}")
    assert "<claim>{evidence} and {claim}</claim>" in text


def test_the_joint_evidence_prompt_is_the_one_the_benchmark_measured():
    """benchmarks/reader_prompts.py chose the evidence-first question on fit claims; the
    pipeline must ask exactly that (evidence, then the claim, then the question)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "reader_prompts.py"
    spec = importlib.util.spec_from_file_location("reader_prompts", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    shipped = prompts.render("verdict_sentences", evidence="[1] E.", claim="C.",
                             options=prompts.load("options_evidence").strip())
    measured = bench.EVIDENCE_FIRST.format(evidence="[1] E.", claim="C.") + bench.QUESTIONS["evidence_first"][0]
    assert shipped == measured
    assert shipped.index("<evidence>") < shipped.index("<claim>") < shipped.index("Answer with exactly one word")
