"""What this CPU can do for ``--precision bf16``: bfloat16 pays off only with AMX (Intel Sapphire Rapids
and later); without it, oneDNN emulates or converts and bf16 runs slower than float32 (docs/baselines.md)."""

from __future__ import annotations

from pathlib import Path

AMX_FLAGS = ("amx_bf16", "amx_tile")


def cpu_flags(cpuinfo="/proc/cpuinfo") -> frozenset[str] | None:
    """The ``flags`` of the first CPU in ``/proc/cpuinfo``, or None where there is no such file (not Linux)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(("flags", "Features")) and ":" in line:
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def bf16_warning(flags=None) -> str | None:
    """One line when ``--precision bf16`` will not speed training up on this CPU, else None.

    >>> bf16_warning(frozenset({"avx512f", "avx512_bf16"}))  # doctest: +ELLIPSIS
    '--precision bf16: this CPU has no AMX (amx_bf16, amx_tile); bfloat16 ...'
    >>> bf16_warning(frozenset({"amx_bf16", "amx_tile"})) is None
    True
    """
    flags = cpu_flags() if flags is None else flags
    if flags is None or all(f in flags for f in AMX_FLAGS):
        return None
    return (
        "--precision bf16: this CPU has no AMX (amx_bf16, amx_tile); bfloat16 will likely train slower "
        "than float32 here (see docs/baselines.md)"
    )
