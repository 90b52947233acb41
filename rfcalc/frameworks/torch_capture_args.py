"""What route 0's op handlers share: binding a torch call's arguments by name, exact ints and axes,
the tensor behind an argument, and the two ways a capture stops (``Cannot``: the exporter takes
over; ``Bound``: the capture is run again at the size asked for).

>>> ints(3, 2), axis_of(-1, 4)
([3, 3], 3)
"""

from __future__ import annotations


class Cannot(Exception):
    """The forward makes a call route 0 does not translate (the exporter takes over)."""


class Bound(Exception):
    """The forward reads a size or makes a call whose ONNX form holds one size only."""


SIZE_FREE = frozenset(
    {"dim", "ndim", "dtype", "device", "is_floating_point", "is_cuda", "requires_grad", "layout"}
    | {"is_contiguous", "get_device", "_assert", "is_complex", "is_sparse", "is_quantized", "grad_fn"}
)
SIZE_READS = frozenset({"shape", "size", "numel", "__len__", "nelement"})
INT64_MAX = 2**63 - 1


def bind(args, kwargs, names, defaults):
    """``args``/``kwargs`` by parameter name (``names`` in order; ``defaults`` for the optional ones)."""
    if len(args) > len(names):
        raise Cannot(f"{len(args)} positional arguments")
    got = dict(defaults)
    got.update(zip(names, args))
    for k, v in kwargs.items():
        if k not in names:
            raise Cannot(f"argument {k!r}")
        got[k] = v
    if len(got) < len(names):
        raise Cannot("a required argument is missing")
    return got


def as_int(v) -> int:
    if type(v) is not int:
        raise Cannot(f"{v!r} is not a Python int")
    return v


def ints(v, n: int) -> list:
    """An int or a sequence of ``n`` ints (or of one) as a list of ``n`` ints."""
    if isinstance(v, (tuple, list)):
        vals = [as_int(x) for x in v]
        if len(vals) == 1:
            return vals * n
        if len(vals) != n:
            raise Cannot(f"{v!r} has not {n} entries")
        return vals
    return [as_int(v)] * n


def axis_of(d, rank: int) -> int:
    d = as_int(d)
    if not -rank <= d < rank:
        raise Cannot(f"axis {d} of a rank-{rank} tensor")
    return d % rank


def tensor_of(g, t):
    if not g.is_tensor(t):
        raise Cannot(f"{type(t).__name__} where a tensor is read")
    return t


# ---------------------------------------------------------------------------- windows
