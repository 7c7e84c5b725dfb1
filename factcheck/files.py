"""Files: reading one the user named, with each way it can fail said in one line, and
writing one whole or not at all (a reader, or a run that is stopped, never sees half a file)."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .errors import FactcheckError, InputError


def open_user_file(name: str | Path, what: str, *, error: type[FactcheckError] = InputError) -> IO[bytes]:
    """``name`` open for reading bytes ('-': standard input, read whole). Raises ``error``
    naming ``what`` ("input file", "document", "records file", …) and why it cannot be read."""
    if str(name) == "-":
        return io.BytesIO(sys.stdin.buffer.read())
    path = Path(name)
    try:
        if path.is_dir():  # opening a folder fails differently by platform: say it plainly
            raise IsADirectoryError
        return path.open("rb")
    except FileNotFoundError:
        raise error(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise error(f"{what} is a directory, not a file: {path}") from None
    except PermissionError:
        raise error(f"{what} is not readable: {path}") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None


def read_user_text(name: str | Path, what: str, *, error: type[FactcheckError] = InputError,
                   hint: str = "") -> str:
    """The UTF-8 text of ``name`` ('-': standard input); ``hint`` is added to the error when
    it is not UTF-8."""
    with open_user_file(name, what, error=error) as fh:
        data = fh.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = "standard input" if str(name) == "-" else str(name)
        raise error(f"{where} is not UTF-8 text (byte {exc.start}){hint}") from None


@contextlib.contextmanager
def atomic_file(path: Path, mode: str = "w") -> Iterator[IO]:
    """A file to write ``path`` through: it takes the place of ``path`` when the block ends
    without an error, and is removed otherwise. Text modes write UTF-8."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # unique per process and thread, beside the target so the rename stays on one file system
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with tmp.open(mode, **({} if "b" in mode else {"encoding": "utf-8"})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all."""
    with atomic_file(path, "wb" if isinstance(data, bytes) else "w") as fh:
        fh.write(data)
