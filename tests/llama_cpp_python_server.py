"""``python -m llama_cpp.server`` with llama.cpp's CPU weight repacking off, as the tests run
it: repacked, llama.cpp's AMX kernels (Intel Sapphire Rapids and later) segfault on the
default model's Q4_K weights at the first prompt (ggml-org/llama.cpp#20824), which would fail
the tests on such machines for a reason that is not factcheck's. Arguments are the server's.

    python tests/llama_cpp_python_server.py --model MODEL.gguf --port 8000 ...
"""

from llama_cpp.server.__main__ import main

from factcheck.model.llama import without_weight_repacking

if __name__ == "__main__":
    with without_weight_repacking():
        main()
