"""``python -m llama_cpp.server`` with llama.cpp's CPU weight repacking off, as the tests run
it: repacked, llama.cpp's AMX kernels (Intel Sapphire Rapids and later) segfault on the
default model's Q4_K weights at the first prompt (ggml-org/llama.cpp#20824), which would fail
the tests on such machines for a reason that is not factcheck's. Arguments are the server's.

    python tests/llama_cpp_python_server.py --model MODEL.gguf --port 8000 ...

The server builds its Llama itself, so this process (and only it) changes llama-cpp-python's
default model parameters; factcheck's own loads use ``factcheck.model.llama.load_without_repacking``.
"""

import llama_cpp.llama_cpp as lib
from llama_cpp.server.__main__ import main

_defaults = lib.llama_model_default_params


def _without_extra_buffers():
    params = _defaults()
    params.use_extra_bufts = False
    return params


if __name__ == "__main__":
    lib.llama_model_default_params = _without_extra_buffers
    main()
