"""Atomic file writes (a uniquely named temporary file next to the target, fsync, ``os.replace``),
strict JSON both ways, and an exclusive lock for read-merge-write updates shared between processes."""

from __future__ import annotations

import json
import math
import os
import uuid
from contextlib import contextmanager
from pathlib import Path

from .errors import TrainError

PARTIAL = ".partial-"  # every temporary name holds this; leftovers of killed processes are safe to delete


def temp_name(path, suffix: str = "") -> Path:
    """A temporary name next to ``path``, unique per process and call, so concurrent writers never collide.

    >>> temp_name("runs/model.keras", ".keras").name.startswith(".model.keras.partial-")
    True
    """
    path = Path(path)
    return path.with_name(f".{path.name}{PARTIAL}{os.getpid()}-{uuid.uuid4().hex[:8]}{suffix}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but is not ours
        return True
    return True


def remove_stale(folder) -> list[Path]:
    """Remove the temporary files in ``folder`` whose writing process has died (killed mid-write).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / ".r.json.partial-999999999-ab12cd34").write_text("[1")
    2
    >>> [p.name for p in remove_stale(d)], list(d.iterdir())
    (['.r.json.partial-999999999-ab12cd34'], [])
    """
    removed = []
    for p in Path(folder).glob(f".*{PARTIAL}*"):
        pid = p.name.split(PARTIAL, 1)[1].split("-", 1)[0]
        if p.is_file() and pid.isdigit() and not _alive(int(pid)):
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def fsync_path(path) -> None:
    """Flush a file (or a folder's entries) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def replacing(path, suffix: str = ""):
    """Yield a temporary path; on success it replaces ``path`` atomically, on error it is removed.

    ``suffix`` keeps an extension that a writer insists on (Keras wants ``.keras``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path, suffix)
    try:
        yield tmp
        fsync_path(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def dumps(obj) -> str:
    """Strict JSON (no bare NaN or Infinity), indented; a non-finite number is a ``TrainError``.

    >>> dumps({"loss": float("nan")})
    Traceback (most recent call last):
    ...
    training.errors.TrainError: refusing to write a non-finite number (NaN or Infinity) as JSON
    """
    try:
        return json.dumps(obj, indent=1, allow_nan=False) + "\n"
    except ValueError:
        raise TrainError("refusing to write a non-finite number (NaN or Infinity) as JSON") from None


def write_json(path, obj) -> None:
    """Write ``obj`` as strict, indented JSON, atomically.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.json"
    >>> write_json(p, {"a": 1}); read_json(p)
    {'a': 1}
    """
    text = dumps(obj)
    with replacing(path) as tmp:
        tmp.write_text(text)


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def loads(text: str):
    """Strict JSON: ``NaN``, ``Infinity`` and ``-Infinity`` are refused (``ValueError``) as json.loads would not.

    >>> loads("[NaN]")
    Traceback (most recent call last):
    ...
    ValueError: NaN is not JSON
    """
    return json.loads(text, parse_constant=_no_constant)


def read_json(path, default=None):
    """The strict JSON in ``path``, or ``default`` when the file does not exist."""
    path = Path(path)
    if not path.exists():
        return default
    return loads(path.read_text())


def finite(value) -> bool:
    """True for a real number that is neither NaN nor infinite.

    >>> finite(0.5), finite(float("inf")), finite("1")
    (True, False, False)
    """
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@contextmanager
def locked(path):
    """Hold an exclusive ``flock`` on ``path`` (created if needed) while the block runs.

    Every process that updates the same results.json takes this lock around read-merge-write, so no
    writer replaces the file with a copy that lacks another's run.
    """
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
