"""The profiles that ship with factcheck, one per model SHA-256 (config/profile.py finds them). Data only."""
