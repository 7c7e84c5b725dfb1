"""Prompt templates for factcheck, one file each, with ``{name}`` placeholders."""
