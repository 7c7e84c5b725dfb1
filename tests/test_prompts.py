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
