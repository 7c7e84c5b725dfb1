"""The calibration set that ships with factcheck (set.toml; calibrate --builtin). Data only."""
