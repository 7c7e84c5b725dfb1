"""Run the factcheck CLI in a subprocess with the scripted fake model (crash tests).

    python -m tests.fake_cli DELAY_SECONDS factcheck-args...
"""

import sys

import factcheck.loader
from factcheck.cli import main

from .fakes import FakeModel

if __name__ == "__main__":
    delay = float(sys.argv[1])
    factcheck.loader.open_model = lambda settings, progress=None: FakeModel(delay=delay)
    sys.argv = ["factcheck", *sys.argv[2:]]
    main()
