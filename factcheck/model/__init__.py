"""Model backends behind one interface (base.py): llama.cpp in-process (local.py, the
default) or an OpenAI-compatible inference server (remote/); serve.py serves the
in-process model as such a server (``factcheck serve``)."""

from .base import Completion, LanguageModel, Message, ModelInfo, NextToken, Prompt

__all__ = ["Completion", "LanguageModel", "Message", "ModelInfo", "NextToken", "Prompt"]
