"""Fitting a profile for a model: measure labeled claims through the pipeline (samples.py),
then fit a section per label set (section.py: heads.py, bias.py, maps.py, router.py, on the
k-folds of cv.py), score it by replaying the pipeline's own decisions (replay.py), and write
it (calibrate.py; a calibration set of several corpora: calibration_set.py)."""
