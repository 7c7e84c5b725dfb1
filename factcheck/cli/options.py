"""Every option that is a setting, declared once; commands take the ones they need."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

# Every option that is a setting, declared once: name -> (type, flags, metavar, help).
_SETTINGS = {
    "model": (Path, ("--model", "-m",), "PATH",
              "GGUF model file, or gemma3-270m (the gemma extra) (default: the bundled Qwen2.5-Coder-1.5B). "
              "Env FACTCHECK_MODEL."),
    "gpu_layers": (int, ("--gpu-layers",), "N",
                   "Layers to offload to the GPU (-1 all). Env FACTCHECK_GPU_LAYERS."),
    "threads": (int, ("--threads",), "N",
                "CPU threads. Env FACTCHECK_THREADS."),
    "ctx": (int, ("--ctx",), "TOKENS",
            "Context length in tokens (default 4096). Env FACTCHECK_CTX."),
    "api_base": (str, ("--api-base",), "URL",
                 "Use the model behind an OpenAI-compatible server (llama-server, llama-cpp-python, vLLM), e.g. http://127.0.0.1:8080/v1. Env FACTCHECK_API_BASE."),
    "api_key": (str, ("--api-key",), "KEY",
                "API key for --api-base. Env FACTCHECK_API_KEY, else OPENAI_API_KEY."),
    "api_model": (str, ("--api-model",), "NAME",
                  "The model's name on the server (default: the first it lists). Env FACTCHECK_API_MODEL."),
    "labels": (str, ("--labels",), "three|binary",
               "three (SUPPORTED/REFUTED/NOT_ENOUGH_INFO) or binary (SUPPORTED/REFUTED). Env FACTCHECK_LABELS."),
    "index": (list[Path], ("--index", "-i",), "DIR",
              "Local index folder (from 'factcheck index build'); repeatable. Env FACTCHECK_INDEX."),
    "zim": (list[Path], ("--zim",), "FILE",
            "Kiwix ZIM archive (offline Wikipedia, e.g. wikipedia_en_all_nopic.zim), read in process; repeatable. Env FACTCHECK_ZIM."),
    "web": (str, ("--web",), "wikipedia|searxng|kiwix",
            "Web source: wikipedia, searxng, or kiwix (a kiwix-serve serving ZIM archives). Env FACTCHECK_WEB."),
    "web_url": (str, ("--web-url",), "URL",
                "MediaWiki api.php URL (default English Wikipedia), SearXNG or kiwix-serve base URL. Env FACTCHECK_WEB_URL."),
    "kiwix_book": (str, ("--kiwix-book",), "NAME",
                   "The book to search when the kiwix-serve at --web-url holds several (its name, e.g. wikipedia_en_all_nopic_2024-06). Env FACTCHECK_KIWIX_BOOK."),
    "k": (int, ("--k", "-k",), "N",
          "Passages retrieved per search (default: the profile's, 5 for three labels and 20 for binary with the default model); the best sentences of them are shown. Env FACTCHECK_K."),
    "selection": (str, ("--selection",), "words|meaning",
                  "How the evidence sentences shown are chosen from the passages: by the claim's words (BM25) or by meaning (a small sentence encoder, ~0.2 s per claim on a CPU; finds paraphrases). Default: the profile's (meaning for binary labels, words for three). Env FACTCHECK_SELECTION."),
    "consistency": (str, ("--consistency",), "framings|rationales|none",
                    "PCC's four-way routing with gamma from framings (no generation) or rationales (the paper's); none: the profile's fitted router. Env FACTCHECK_CONSISTENCY."),
    "alpha": (float, ("--alpha",), "X",
              "Threshold on certainty tau (default 0.5). Env FACTCHECK_ALPHA."),
    "beta": (float, ("--beta",), "X",
             "Threshold on consistency gamma (default 0.9). Env FACTCHECK_BETA."),
    "route": (str, ("--route",), "auto|direct|retrieve|deep",
              "auto (default), direct, retrieve or deep. Env FACTCHECK_ROUTE."),
    "max_hops": (int, ("--max-hops",), "N",
                 "Deep search hops (default 3). Env FACTCHECK_MAX_HOPS."),
    "escalate_below": (float, ("--escalate-below",), "P",
                       "Escalate an unsure reading: when the verdict read from evidence has confidence under P, search wider and read the next best sentences too (default: the profile's, when its fit found that it pays; 0 never). Env FACTCHECK_ESCALATE_BELOW."),
    "adapt": (str, ("--adapt",), "auto|batch|none",
              "Adapt verdicts to the batch's domain without labels: batch calibration divides out the mean reading of the claims read so far, once 50 are read from evidence (records say so in 'adaptation'). auto (default): with binary labels only, where it measured best; none: as the profile reads them. Env FACTCHECK_ADAPT."),
    "profile": (Path, ("--profile",), "PATH",
                "Profile fitted by factcheck calibrate (default: found by the model's SHA-256). Env FACTCHECK_PROFILE."),
    "min_confidence": (float, ("--min-confidence",), "P", "Answer only when sure: a verdict whose confidence is under P is kept but marked abstained (unsure, leaning to it) and does not count as settled. Env FACTCHECK_MIN_CONFIDENCE."),
    "target_accuracy": (float, ("--target-accuracy",), "A", "Answer only when sure, by the accuracy wanted: the confidence at which the profile's held-out risk-coverage curve reaches A (factcheck model info shows it). Env FACTCHECK_TARGET_ACCURACY."),
    "config": (Path, ("--config",), "PATH",
               "TOML config file (default ~/.config/factcheck/config.toml). Env FACTCHECK_CONFIG."),
    "if_sources_fail": (str, ("--if-sources-fail",), "error|model",
                        "When every evidence source fails for a claim: an error record (default; exit 3), or the model's own verdict, warned. Env FACTCHECK_IF_SOURCES_FAIL."),
}

NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the result cache.")]


# Commands take the ones they need through @setting_options and receive them as one dict,
# ``flags``; each is unset (None) unless given, so the layers below a flag (environment,
# config file, profile) show through.
SETTING_OPTIONS = {
    name: Annotated[Optional[kind], typer.Option(*flags, metavar=metavar, help=help_text, show_default=False)]
    for name, (kind, flags, metavar, help_text) in _SETTINGS.items()
}
ReportOpt = Annotated[Optional[Path], typer.Option(
    "--report", metavar="PATH", show_default=False,
    help="Also write a fact-check report: HTML, or Markdown for a .md name (factcheck report).")]
MODEL_OPTIONS = ("model", "gpu_layers", "threads", "ctx", "api_base", "api_key", "api_model", "config")
SOURCE_OPTIONS = ("index", "zim", "web", "web_url", "kiwix_book", "k", "selection", "if_sources_fail")
ROUTING_OPTIONS = ("consistency", "alpha", "beta", "route", "max_hops", "escalate_below", "profile")
SURE_OPTIONS = ("min_confidence", "target_accuracy")
ADAPT_OPTIONS = ("adapt",)


# The settings of a command that checks claims (check, batch).
CHECK_OPTIONS = ("labels", *SOURCE_OPTIONS, *ROUTING_OPTIONS, *SURE_OPTIONS, *MODEL_OPTIONS)


def setting_options(*names: str):
    """Add the options ``names`` (keys of SETTING_OPTIONS) to a command's signature, after
    its own parameters; the command gets their values as ``flags`` (None: not given)."""
    import functools
    import inspect

    def decorate(command):
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "flags"]
        added = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=SETTING_OPTIONS[n], default=None)
                 for n in names]

        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            return command(*args, flags={n: kwargs.pop(n, None) for n in names}, **kwargs)

        wrapper.__signature__ = inspect.Signature(own + added)
        return wrapper

    return decorate


