"""``factcheck serve``: the model behind llama-cpp-python's OpenAI-compatible server, loaded
the way factcheck loads it in process, for ``--api-base`` clients on other machines or
in other processes.

Why not ``python -m llama_cpp.server`` as it comes: that loads with llama.cpp's CPU weight
repacking, and on CPUs with AMX (Intel Sapphire Rapids and later) llama.cpp's AMX kernels
crash on this model's Q4_K weights at the first prompt (segfault in
``ggml_backend_amx_mul_mat``, ggml-org/llama.cpp#20824). Loading without repacking avoids
it, saves 0.6 GB, and gives the kernels the shipped profile was fitted with.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from ..errors import InputError, ModelNotInstalled

SERVER_EXTRA_HINT = "pip install 'factcheck-pcc[server]'"


def _server_modules():
    try:
        import uvicorn
        from llama_cpp.server.app import create_app
        from llama_cpp.server.settings import ModelSettings, ServerSettings
    except ImportError as exc:
        raise ModelNotInstalled(f"factcheck serve needs llama-cpp-python's server ({exc.name} is missing): "
                                f"{SERVER_EXTRA_HINT}") from None
    return uvicorn, create_app, ModelSettings, ServerSettings


def build_server_app(model: Path, *, n_ctx: int, threads: int, gpu_layers: int, api_key: str | None = None):
    """The ASGI app serving ``model`` (loaded now, without weight repacking). Its one model
    is listed under the file's path, so a client recognises the default model by name.
    With ``api_key``, requests without it as a Bearer token get HTTP 401."""
    from .local import without_weight_repacking

    _uvicorn, create_app, ModelSettings, ServerSettings = _server_modules()
    # logits_all: llama-cpp-python returns log-probabilities only with it on
    model_settings = ModelSettings(model=str(model), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                                   n_gpu_layers=gpu_layers, logits_all=True, verbose=False)
    with without_weight_repacking():
        return create_app(server_settings=ServerSettings(api_key=api_key), model_settings=[model_settings])


def check_port_free(host: str, port: int) -> None:
    """Fail in one line before the model loads, not after, if the address cannot be bound."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port} ({exc.strerror or exc}): pass another --port or --host") from None


def serve(settings, *, host: str, port: int, api_key: str | None = None) -> None:
    """Serve the model ``settings`` name (the default model unless --model) until
    interrupted; one line on stderr says where. The address is checked before the model
    loads, so a taken port fails at once."""
    from ..loader import model_file

    uvicorn, *_ = _server_modules()
    check_port_free(host, port)
    path, _sha256, _name = model_file(settings)
    app = build_server_app(path, n_ctx=settings.ctx, threads=settings.threads, gpu_layers=settings.gpu_layers,
                           api_key=api_key)
    keyed = ", key required" if api_key else ""
    print(f"serving {path.name} at http://{host}:{port}/v1{keyed} "
          f"(factcheck ... --api-base http://{host}:{port}/v1); Ctrl+C stops", file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
