"""What a long run shows while it works, on stderr: a spinner naming the claim in hand, and
a first Ctrl-C that is acknowledged at once and lets the claim in hand finish (a second one
stops at once). Nothing is shown when stderr is not a terminal, or with --quiet."""

from __future__ import annotations

import contextlib
import signal
import threading


class Activity:
    """``with Activity(total, show=…) as activity:`` then ``activity.working_on(n)`` per
    claim and ``activity.stopping`` to end the loop after a first Ctrl-C."""

    def __init__(self, total: int, *, show: bool, what: str = "checking") -> None:
        self.total, self.show, self.what = total, show, what
        self.stopping = False
        self._status = None
        self._previous = None

    def __enter__(self) -> Activity:
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            self._previous = signal.signal(signal.SIGINT, self._interrupted)
        if self.show:
            from rich.console import Console
            from rich.live import Live
            from rich.spinner import Spinner

            self._spinner = Spinner("dots", self._text(1), style="green")
            # no redirection: results stay on stdout; ``between`` clears the spinner around them
            self._status = Live(self._spinner, console=Console(stderr=True), transient=True,
                                redirect_stdout=False, redirect_stderr=False, refresh_per_second=8)
            self._status.start()
        return self

    @contextlib.contextmanager
    def between(self):
        """Print results and messages inside this: the spinner steps aside, then comes back."""
        if self._status is None:
            yield
            return
        self._status.stop()
        try:
            yield
        finally:
            self._status.start()

    def _text(self, number: int) -> str:
        return f"{self.what} claim {number} of {self.total}…" if self.total > 1 else f"{self.what}…"

    def working_on(self, number: int) -> None:
        self.say(self._text(number))

    def say(self, text: str) -> None:
        """Show ``text`` beside the spinner."""
        if self._status is not None:
            self._spinner.update(text=text)

    def _interrupted(self, signum, frame) -> None:
        if self.stopping:  # the second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.stopping = True
        from rich.console import Console

        Console(stderr=True, highlight=False).print("finishing the current claim; Ctrl-C again to stop now")

    def __exit__(self, *exc) -> None:
        if self._status is not None:
            self._status.stop()
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
