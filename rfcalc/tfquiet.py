"""Import TensorFlow without its start-up noise, so that a command's output starts with rfcalc's words.

TensorFlow 2.21 writes ``WARNING: All log messages before absl::InitializeLog() is called...`` and
``oneDNN custom operations are on...`` (twice each) from C++ straight to file descriptor 2 while
it is imported, whatever ``TF_CPP_MIN_LOG_LEVEL`` says. ``install()`` puts a finder on
``sys.meta_path`` that runs TensorFlow's first import (directly, or through ``import keras``) with
fd 2 sent to a temporary file, then restores it and passes on every line that is not one of those
(so real errors still show). Nothing else changes: oneDNN stays on, numbers stay the same.

>>> install(); install()  # idempotent; TensorFlow is not imported here
>>> sum(isinstance(f, _QuietFinder) for f in sys.meta_path) <= 1
True
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import sys
import tempfile

NOISE = (
    b"All log messages before absl::InitializeLog() is called",
    b"oneDNN custom operations are on",
    b"Unable to register cuDNN factory",
    b"Unable to register cuFFT factory",
    b"Unable to register cuBLAS factory",
    b"computation placer already registered",
    b"This TensorFlow binary is optimized to use available CPU instructions",
    b"To enable the following instructions",
    b"Could not find cuda drivers",
)


@contextlib.contextmanager
def quiet_retracing(tf):
    """TensorFlow's Python log held at ERROR: its "triggered tf.function retracing" warning counts the
    one function rfcalc traces per probed model or ERF layer, on purpose, as wasted retracing.

    >>> with quiet_retracing(tf):  # doctest: +SKIP
    ...     grads(batch)
    """
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def filtered_stderr(noise=NOISE):
    """Hold back the lines of C-level stderr (fd 2) that contain one of ``noise``; pass the rest on at the end."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable fd 2 (some embedded interpreters)
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            kept = b"".join(line for line in tmp if not any(n in line for n in noise))
            if kept:
                os.write(2, kept)


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        uninstall()  # the import is happening: once is enough
        with filtered_stderr():
            self.loader.exec_module(module)


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Wraps the loader of ``tensorflow`` so that its import runs under ``filtered_stderr``.

    It stays on ``sys.meta_path`` until TensorFlow is really imported (the loader removes it then):
    asking ``importlib.util.find_spec("tensorflow")`` whether it is installed must not disarm it.
    """

    busy = False

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow" or self.busy:
            return None
        self.busy = True  # the finders after this one answer the question below
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self.busy = False
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _QuietLoader(spec.loader)
        return spec


def install() -> None:
    """Make TensorFlow's first import quiet (no-op when it is already imported); sets TF_CPP_MIN_LOG_LEVEL=2 unless set."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules or any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietFinder())


def uninstall() -> None:
    """Remove the finder (it removes itself once TensorFlow is found)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietFinder)]


def tensorflow():
    """``import tensorflow``, quietly.

    >>> tensorflow  # doctest: +ELLIPSIS
    <function tensorflow at ...>
    """
    install()
    import tensorflow as tf

    return tf
