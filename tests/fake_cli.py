"""Run the factcheck CLI in a subprocess with the scripted fake model (crash tests).

    python -P tests/fake_cli.py DELAY_SECONDS factcheck-args...

``-P`` keeps the working directory off ``sys.path``, so ``factcheck`` is the installed package
(from a wheel in CI), never the checkout's folder of the same name.
"""

import sys
from pathlib import Path

# fakes.py lives beside this file; appended, so it cannot shadow an installed package
sys.path.append(str(Path(__file__).resolve().parent))

from fakes import FakeModel  # noqa: E402

import factcheck.model.loader  # noqa: E402
from factcheck.cli import main  # noqa: E402

if __name__ == "__main__":
    delay = float(sys.argv[1])
    factcheck.model.loader.open_model = lambda settings, progress=None: FakeModel(delay=delay)
    sys.argv = ["factcheck", *sys.argv[2:]]
    main()
