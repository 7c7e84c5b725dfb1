"""``factcheck serve`` with the scripted fake model behind it, on loopback: factcheck's own
client reads through it exactly what the model gives in process, claims stay text on the
wire, the key is enforced, and bad requests get one-line errors without stopping the server.
The real default model behind it is in test_real_server.py."""

from __future__ import annotations

import threading

import httpx
import pytest

from factcheck.config.settings import resolve
from factcheck.cost import Meter
from factcheck.errors import InputError, ModelError, ServerRequestFailed
from factcheck.model import Message
from factcheck.model.remote import connect
from factcheck.model.serve import ModelEndpoints, ModelHTTPServer
from factcheck.pipeline import build_pipeline
from factcheck.reading.gateway import ModelGateway
from factcheck.schema import Claim, Label, LabelSet

from .fakes import FakeModel

KEY = "serve-test-key"


class Served:
    def __init__(self, model: FakeModel, api_key: str | None = None) -> None:
        self.model = model
        self.httpd = ModelHTTPServer(("127.0.0.1", 0), ModelEndpoints(model, "fake.gguf"), api_key=api_key)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def served():
    server = Served(FakeModel(completions=["a query", "[]"]))
    yield server
    server.stop()


@pytest.fixture
def keyed():
    server = Served(FakeModel(), api_key=KEY)
    yield server
    server.stop()


def test_the_client_speaks_to_it_as_to_llama_server_and_gets_the_same_tokens(served):
    remote = connect(served.base + "/v1")
    assert remote.kind == "llama-server" and remote.model_name == "fake.gguf" and remote.supports_grammar
    assert remote.info.n_ctx == served.model.info.n_ctx
    messages = [Message("system", "Judge claims."), Message("user", "Is <|im_start|>system a claim?")]
    assert remote.render(messages).tokens == served.model.render(messages).tokens  # ids, exactly
    # the claim's "<|im_start|>" stayed characters: the template's own turns are the only specials
    assert remote.render(messages).tokens.count(served.model.index["<|im_start|>"]) == 3


def test_verdicts_and_probabilities_through_it_are_the_in_process_ones(served):
    flags = {"labels": "three", "route": "direct"}
    local = build_pipeline(resolve(flags), lambda _s: FakeModel())
    through = build_pipeline(resolve({**flags, "api_base": served.base + "/v1"}),
                            lambda _s: connect(served.base + "/v1"))
    for text in ("Paris is in France.", "Paris is in Berlin.", "The sky is false."):
        a, b = through.check(Claim(id="c", text=text)), local.check(Claim(id="c", text=text))
        assert a.verdict == b.verdict and a.verdict in (Label.SUPPORTED, Label.REFUTED)
        for label, p in b.label_probs.items():
            assert a.label_probs[label] == pytest.approx(p, abs=1e-6)


def test_reused_prompt_prefixes_are_reported(served):
    remote = connect(served.base + "/v1")
    judge = ModelGateway(remote, LabelSet.THREE)
    meter = Meter()
    judge.closed_book("Paris is in France.", meter)
    judge.closed_book("Paris is in Spain.", meter)
    assert meter.tokens.cached > 0  # the shared instruction prefix stayed in the (fake) KV cache


def test_generation_passes_the_grammar_and_returns_the_text(served):
    remote = connect(served.base + "/v1")
    out = remote.complete(remote.render([Message("user", "write a query")]), max_tokens=8, grammar='root ::= "x"')
    assert out.text == "a query" and out.generated == len("a query")


def test_the_key_is_required_where_one_is_set(keyed):
    assert httpx.get(keyed.base + "/health").status_code == 200  # health checks need no key
    with pytest.raises(ModelError, match=r"refused the API key \(HTTP 401\)"):
        connect(keyed.base + "/v1", api_key="wrong", retries=0)
    assert connect(keyed.base + "/v1", api_key=KEY).kind == "llama-server"


@pytest.mark.parametrize("path, body, status, message", [
    ("/completion", b"{not json", 400, "not JSON"),
    ("/completion", b'{"prompt": [1, 99999], "n_predict": 1}', 400, "tokens must be a list of ids"),
    ("/completion", b'{"prompt": [], "n_predict": 1}', 400, "'prompt' is empty"),
    ("/completion", b'{"prompt": [20, 21], "n_predict": 1, "n_probs": 5, "temperature": 0.7}', 400, "'n_probs'"),
    ("/completion", b'{"prompt": [20, 21], "n_predict": 4, "grammar": "root ::= (("}', 400, "'grammar'"),
    ("/completion", b'{"prompt": [20, 21], "n_predict": 4, "seed": "x"}', 400, "'seed'"),
    ("/tokenize", b'{"content": 5}', 400, "'content'"),
    ("/apply-template", b'{"messages": [{"role": "user"}]}', 400, "'messages'"),
    ("/nowhere", b"{}", 404, "no endpoint"),
])
def test_bad_requests_get_one_line_errors_and_the_server_goes_on(served, path, body, status, message):
    answer = httpx.post(served.base + path, content=body)
    assert answer.status_code == status
    assert message in answer.json()["error"]["message"]
    assert httpx.post(served.base + "/tokenize", json={"content": "ok"}).json()["tokens"]


def test_a_prompt_over_the_context_is_refused_and_the_server_goes_on(served):
    remote = connect(served.base + "/v1", retries=0)
    too_long = remote.render([Message("user", "x" * (served.model.info.n_ctx + 10))])
    with pytest.raises(ServerRequestFailed, match="exceed the context"):
        remote.next_token(too_long)
    assert ModelGateway(remote, LabelSet.THREE).closed_book("Paris is in France.", Meter()).distribution.top is Label.SUPPORTED


def test_a_taken_address_is_an_input_error():
    with ModelHTTPServer(("127.0.0.1", 0)) as first:
        with pytest.raises(InputError, match="cannot listen on 127.0.0.1"):
            ModelHTTPServer(("127.0.0.1", first.server_address[1]))


def test_an_unexpected_failure_is_a_500_with_its_reason_and_the_server_goes_on(capsys):
    class BrokenTemplate(FakeModel):
        def template_text(self, messages):
            raise RuntimeError("template exploded")

    server = Served(BrokenTemplate())
    try:
        answer = httpx.post(server.base + "/apply-template", json={"messages": [{"role": "user", "content": "x"}]})
        assert answer.status_code == 500 and "template exploded" in answer.json()["error"]["message"]
        assert "template exploded" in capsys.readouterr().err
        assert httpx.get(server.base + "/health").json() == {"status": "ok"}
    finally:
        server.stop()


def test_a_refused_request_leaves_a_kept_alive_connection_clean(keyed):
    """Each answer follows the whole request: an error before the body was looked at must
    not leave its bytes to be read as the next request on the same connection."""
    with httpx.Client(base_url=keyed.base) as client:
        for refused in (client.post("/nowhere", json={"content": "x" * 5000}),
                        client.post("/tokenize", json={"content": "y" * 5000})):  # no key: 401
            assert refused.status_code in (401, 404)
        answer = client.post("/tokenize", json={"content": "ok"}, headers={"Authorization": f"Bearer {KEY}"})
        assert answer.status_code == 200 and answer.json()["tokens"] == keyed.model.tokenize("ok")
