"""llama.cpp in this process: the default backend.

Claims and evidence are tokenized as plain text, never as special tokens; the KV cache of
the last prompt is kept, so a following prompt that shares its prefix only evaluates the
new tokens.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..errors import GrammarError, ModelError
from .base import Completion, Message, ModelInfo, NextToken, Prompt
from .files import check_gguf
from .template import slot_messages, split_template


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    exp = np.exp(shifted)
    return exp / exp.sum()


class LlamaModel:
    """llama.cpp in-process. Keeps the KV cache of the last prompt so that a following
    prompt sharing its prefix only evaluates the new tokens."""

    supports_hidden = True
    supports_grammar = True

    def __init__(self, path: Path, sha256: str, *, n_ctx: int, threads: int, gpu_layers: int,
                 name: str | None = None) -> None:
        check_gguf(path)
        try:
            self._llm = load_without_repacking(
                model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                n_gpu_layers=gpu_layers, logits_all=False, verbose=False, n_batch=512,
            )
        except ImportError as exc:  # pragma: no cover - dependency of the package
            raise ModelError(f"llama-cpp-python is not installed: pip install factcheck-pcc ({exc})") from None
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(
                f"llama.cpp could not load {path} ({exc}); the file may be truncated or made for "
                f"a newer llama.cpp: re-download it or pass --model PATH to another GGUF"
            ) from None
        meta = dict(self._llm.metadata or {})
        arch = meta.get("general.architecture", "unknown")
        self.info = ModelInfo(
            path=path, name=name or meta.get("general.name", path.stem), sha256=sha256,
            size=path.stat().st_size,
            context_length=int(meta.get(f"{arch}.context_length", 0) or 0),
            n_ctx=self._llm.n_ctx(), chat_template=meta.get("tokenizer.chat_template"),
            architecture=arch, metadata=meta,
        )
        self._template = _compile_template(self.info.chat_template) if self.info.chat_template else None
        self._n_vocab = self._llm.n_vocab()
        self._pieces: list[str] | None = None
        self._parsed_grammars: dict[str, bool] = {}

    # -- tokens ----------------------------------------------------------------------

    def vocab_pieces(self) -> list[str]:
        if self._pieces is None:
            model = self._llm._model
            self._pieces = [
                model.token_to_piece(i).rstrip(b"\0").decode("utf-8", "replace")
                for i in range(self._n_vocab)
            ]
        return self._pieces

    def tokenize(self, text: str) -> list[int]:
        """Plain text to tokens; special-token syntax inside ``text`` stays text."""
        if not text:
            return []
        return self._llm.tokenize(text.encode("utf-8", "replace"), add_bos=False, special=False)

    def detokenize(self, tokens: list[int]) -> str:
        return self._llm.detokenize(tokens).decode("utf-8", "replace")

    def chat_tokens(self, messages: list[Message]) -> list[int]:
        """Render the chat template around the messages and tokenize it.

        The template's own text is tokenized with special tokens; message content is
        inserted as sentinels first and tokenized as plain text, so a claim containing
        ``<|im_start|>`` cannot open a new turn."""
        tokens: list[int] = []
        for piece in split_template(self.template_text(slot_messages([m.role for m in messages]))):
            tokens += self.tokenize(messages[piece].content) if isinstance(piece, int) else self.tokenize_special(piece)
        return tokens

    def template_text(self, messages: list[dict]) -> str:
        """The chat template rendered around ``messages`` (role/content dicts) as text, with
        the generation prompt, and the BOS token's text first where the model adds one."""
        if self._template is not None:
            rendered = self._template.render(
                messages=messages, add_generation_prompt=True,
                bos_token=self._token_text(self._llm.token_bos()),
                eos_token=self._token_text(self._llm.token_eos()),
            )
        else:  # no template in the file: a plain transcript
            rendered = "".join(f"{m['role'].title()}: {m['content']}\n\n" for m in messages) + "Assistant:"
        bos = self._token_text(self._llm.token_bos())
        if self._llm._model.add_bos_token() and bos and not rendered.startswith(bos):
            rendered = bos + rendered
        return rendered

    def tokenize_special(self, text: str) -> list[int]:
        """Tokens of template text, where special-token syntax is a special token. Never
        for claims or evidence."""
        return self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True) if text else []

    def render(self, messages: list[Message]) -> Prompt:
        tokens = self.chat_tokens(messages)
        return Prompt(messages=messages, tokens=tokens, length=len(tokens))

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llm._model.token_to_piece(token, special=True).rstrip(b"\0").decode("utf-8", "replace")

    # -- evaluation ------------------------------------------------------------------

    def _reusable_prefix(self, tokens: list[int]) -> int:
        """How many leading ``tokens`` are already in the KV cache (never all of them, so
        the last token is always evaluated and its logits are fresh)."""
        cached = self._llm.input_ids[: self._llm.n_tokens]
        limit = min(len(cached), len(tokens) - 1)
        if limit <= 0:
            return 0
        diff = np.nonzero(cached[:limit] != np.asarray(tokens[:limit]))[0]
        return int(diff[0]) if diff.size else limit

    def _prefill(self, tokens: list[int]) -> tuple[int, int]:
        """Bring the KV cache to ``tokens``, reusing the longest cached prefix.
        Returns (evaluated, reused)."""
        if len(tokens) > self.info.n_ctx:
            raise ModelError(f"prompt of {len(tokens)} tokens exceeds the context of {self.info.n_ctx}")
        reuse = self._reusable_prefix(tokens)
        self._llm.n_tokens = reuse  # eval() drops the KV cache from n_tokens on
        try:
            self._llm.eval(tokens[reuse:])
        except RuntimeError as exc:
            self._llm.reset()
            raise ModelError(f"llama.cpp failed to evaluate the prompt: {exc}") from None
        return len(tokens) - reuse, reuse

    def _last_logits(self) -> np.ndarray:
        import llama_cpp

        ptr = llama_cpp.llama_get_logits_ith(self._llm.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self._n_vocab,)).astype(np.float64)

    def next_token(self, prompt: Prompt, hidden: bool = False) -> NextToken:
        """The next-token distribution after ``prompt``; with ``hidden``, also the final
        hidden state (after the output norm) at the last position, from the same pass."""
        tokens = prompt.tokens
        start = time.perf_counter()
        if not hidden:
            evaluated, reused = self._prefill(tokens)
            return NextToken(probs=_softmax(self._last_logits()), evaluated=evaluated, reused=reused,
                             seconds=time.perf_counter() - start)
        # With embeddings on, llama.cpp makes every token of a batch an output (the output
        # projection for all positions), so the prompt runs without them and only the last
        # token is evaluated with them.
        evaluated, reused = self._prefill(tokens[:-1]) if len(tokens) > 1 else (0, 0)
        state = self._eval_last_with_hidden(tokens)
        return NextToken(probs=_softmax(self._last_logits()), evaluated=evaluated + 1, reused=reused,
                         seconds=time.perf_counter() - start, hidden=state)

    def _eval_last_with_hidden(self, tokens: list[int]) -> np.ndarray:
        import llama_cpp

        ctx = self._llm.ctx
        self._llm.n_tokens = len(tokens) - 1
        llama_cpp.llama_set_embeddings(ctx, True)
        try:
            self._llm.eval(tokens[-1:])
            ptr = llama_cpp.llama_get_embeddings_ith(ctx, -1)
            if not ptr:
                raise ModelError("llama.cpp returned no hidden state for this model")
            return np.ctypeslib.as_array(ptr, shape=(self._llm.n_embd(),)).astype(np.float32)
        except RuntimeError as exc:
            self._llm.reset()
            raise ModelError(f"llama.cpp failed to evaluate the prompt: {exc}") from None
        finally:
            llama_cpp.llama_set_embeddings(ctx, False)

    def grammar_is_valid(self, grammar: str) -> bool:
        """Whether llama.cpp parses ``grammar`` (GBNF). llama-cpp-python parses it only when
        generation starts and crashes the process (segfault) when it cannot. Grammars come
        from a few prompt files, so each is parsed here once."""
        import llama_cpp

        if grammar not in self._parsed_grammars:
            sampler = llama_cpp.llama_sampler_init_grammar(self._llm._model.vocab, grammar.encode("utf-8"), b"root")
            if sampler:
                llama_cpp.llama_sampler_free(sampler)
            self._parsed_grammars[grammar] = bool(sampler)
        return self._parsed_grammars[grammar]

    def complete(self, prompt: Prompt, max_tokens: int, temperature: float = 0.0,
                 grammar: str | None = None, seed: int | None = None) -> Completion:
        from llama_cpp import LlamaGrammar

        if grammar is not None and not self.grammar_is_valid(grammar):
            raise GrammarError("llama.cpp cannot parse the grammar for this generation (GBNF)")
        tokens = prompt.tokens
        start = time.perf_counter()
        reused = self._reusable_prefix(tokens)  # create_completion reuses the same prefix
        kwargs = {}
        if grammar is not None:
            kwargs["grammar"] = LlamaGrammar.from_string(grammar, verbose=False)
        if seed is not None:
            self._llm.set_seed(seed)
        try:
            out = self._llm.create_completion(
                prompt=tokens, max_tokens=max_tokens, temperature=temperature,
                top_p=0.95 if temperature > 0 else 1.0, top_k=40 if temperature > 0 else 1,
                stream=False, **kwargs,
            )
        except (RuntimeError, ValueError) as exc:
            self._llm.reset()
            raise ModelError(f"llama.cpp failed to generate: {exc}") from None
        usage = out["usage"]
        return Completion(
            text=out["choices"][0]["text"], prompt_tokens=max(0, usage["prompt_tokens"] - reused),
            reused=reused, generated=usage["completion_tokens"], seconds=time.perf_counter() - start,
        )


def load_without_repacking(**options):
    """A llama_cpp.Llama loaded without llama.cpp's CPU weight repacking.

    Repacking copies the quantized weights into a second, interleaved buffer while the
    mmapped originals stay resident: measured on the default model, peak RSS 1.90 GB with
    it and 1.31 GB without, at equal prompt speed (docs/experiments.md). And on CPUs with
    AMX, llama.cpp's repacked AMX kernels segfault on Q4_K weights at the first prompt
    (ggml-org/llama.cpp#20824). Llama() has no parameter for it; this instance's model
    parameters are taken as Llama sets them, with the extra buffer types turned off, so
    nothing outside this one load is changed."""
    from llama_cpp import Llama

    class WithoutRepacking(Llama):
        @property
        def model_params(self):
            return self.__dict__["_model_params"]

        @model_params.setter
        def model_params(self, params) -> None:
            params.use_extra_bufts = False
            self.__dict__["_model_params"] = params

    return WithoutRepacking(**options)


def _compile_template(source: str):
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(
        loader=jinja2.BaseLoader(), trim_blocks=True, lstrip_blocks=True,
        extensions=["jinja2.ext.loopcontrols"],
    )

    def raise_exception(message: str):
        raise jinja2.TemplateError(message)

    env.globals["raise_exception"] = raise_exception
    try:
        return env.from_string(source)
    except jinja2.TemplateError as exc:
        raise ModelError(f"the model's chat template does not compile: {exc}") from None
