"""Every option that is a setting, declared once; commands take the ones they need."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

def _setting(kind, *flags: str, metavar: str, help: str):
    """An option that is a setting: unset (None) unless given, so the layers below it show."""
    return Annotated[Optional[kind], typer.Option(*flags, metavar=metavar, help=help, show_default=False)]


ModelOpt = _setting(Path, "--model", "-m", metavar="PATH",
                    help="GGUF model file (default: the bundled Qwen2.5-Coder-1.5B). Env FACTCHECK_MODEL.")
GpuOpt = _setting(int, "--gpu-layers", metavar="N",
                  help="Layers to offload to the GPU (-1 all). Env FACTCHECK_GPU_LAYERS.")
ThreadsOpt = _setting(int, "--threads", metavar="N",
                      help="CPU threads. Env FACTCHECK_THREADS.")
CtxOpt = _setting(int, "--ctx", metavar="TOKENS",
                  help="Context length in tokens (default 4096). Env FACTCHECK_CTX.")
ApiBaseOpt = _setting(str, "--api-base", metavar="URL",
                      help="Use the model behind an OpenAI-compatible server (llama-server, llama-cpp-python, vLLM), e.g. http://127.0.0.1:8080/v1. Env FACTCHECK_API_BASE.")
ApiKeyOpt = _setting(str, "--api-key", metavar="KEY",
                     help="API key for --api-base. Env FACTCHECK_API_KEY, else OPENAI_API_KEY.")
ApiModelOpt = _setting(str, "--api-model", metavar="NAME",
                       help="The model's name on the server (default: the first it lists). Env FACTCHECK_API_MODEL.")
LabelsOpt = _setting(str, "--labels", metavar="three|binary",
                     help="three (SUPPORTED/REFUTED/NOT_ENOUGH_INFO) or binary (SUPPORTED/REFUTED). Env FACTCHECK_LABELS.")
IndexOpt = _setting(list[Path], "--index", "-i", metavar="DIR",
                    help="Local index folder (from 'factcheck index build'); repeatable. Env FACTCHECK_INDEX.")
WebOpt = _setting(str, "--web", metavar="wikipedia|searxng",
                  help="Web source: wikipedia or searxng. Env FACTCHECK_WEB.")
WebUrlOpt = _setting(str, "--web-url", metavar="URL",
                     help="MediaWiki api.php URL (default English Wikipedia) or SearXNG base URL. Env FACTCHECK_WEB_URL.")
KOpt = _setting(int, "--k", "-k", metavar="N",
                help="Passages retrieved per search (default: the profile's, 5 for three labels and 20 for binary with the default model); the best sentences of them are shown. Env FACTCHECK_K.")
SelectionOpt = _setting(str, "--selection", metavar="words|meaning",
                        help="How the evidence sentences shown are chosen from the passages: by the claim's words (BM25) or by meaning (a small sentence encoder, ~0.2 s per claim on a CPU; finds paraphrases). Default: the profile's (meaning for binary labels, words for three). Env FACTCHECK_SELECTION.")
ConsistencyOpt = _setting(str, "--consistency", metavar="framings|rationales|none",
                          help="PCC's four-way routing with gamma from framings (no generation) or rationales (the paper's); none: the profile's fitted router. Env FACTCHECK_CONSISTENCY.")
AlphaOpt = _setting(float, "--alpha", metavar="X",
                    help="Threshold on certainty tau (default 0.5). Env FACTCHECK_ALPHA.")
BetaOpt = _setting(float, "--beta", metavar="X",
                   help="Threshold on consistency gamma (default 0.9). Env FACTCHECK_BETA.")
RouteOpt = _setting(str, "--route", metavar="auto|direct|retrieve|deep",
                    help="auto (default), direct, retrieve or deep. Env FACTCHECK_ROUTE.")
HopsOpt = _setting(int, "--max-hops", metavar="N",
                   help="Deep search hops (default 3). Env FACTCHECK_MAX_HOPS.")
ProfileOpt = _setting(Path, "--profile", metavar="PATH",
                      help="Profile fitted by factcheck calibrate (default: found by the model's SHA-256). Env FACTCHECK_PROFILE.")
IfSourcesFailOpt = _setting(str, "--if-sources-fail", metavar="error|model",
                            help="When every evidence source fails for a claim: an error record (default; exit 3), or the model's own verdict, warned. Env FACTCHECK_IF_SOURCES_FAIL.")
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the result cache.")]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", metavar="PATH", help="TOML config file (default ~/.config/factcheck/config.toml). Env FACTCHECK_CONFIG.", show_default=False)]


# Every option that is a setting, declared once; commands take the ones they need through
# @setting_options and receive them as one dict, ``flags``.
SETTING_OPTIONS = {
    "labels": LabelsOpt, "index": IndexOpt, "web": WebOpt, "web_url": WebUrlOpt, "k": KOpt,
    "selection": SelectionOpt, "consistency": ConsistencyOpt, "alpha": AlphaOpt, "beta": BetaOpt, "route": RouteOpt,
    "max_hops": HopsOpt,
    "profile": ProfileOpt, "model": ModelOpt, "gpu_layers": GpuOpt, "threads": ThreadsOpt, "ctx": CtxOpt,
    "if_sources_fail": IfSourcesFailOpt, "api_base": ApiBaseOpt, "api_key": ApiKeyOpt, "api_model": ApiModelOpt, "config": ConfigOpt,
}
MODEL_OPTIONS = ("model", "gpu_layers", "threads", "ctx", "api_base", "api_key", "api_model", "config")
SOURCE_OPTIONS = ("index", "web", "web_url", "k", "selection", "if_sources_fail")
ROUTING_OPTIONS = ("consistency", "alpha", "beta", "route", "max_hops", "profile")


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


