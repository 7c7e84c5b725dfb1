"""Profiles: what ``factcheck calibrate`` fits for a model (``profile.py`` finds, reads and writes
them), and the ones that ship with factcheck, one TOML file per model SHA-256."""
