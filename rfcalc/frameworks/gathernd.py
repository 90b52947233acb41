"""ONNX GatherND's index semantics: which data coordinates each output reads (pure Python, exact ints).

``data`` of rank ``r`` and ``indices`` of rank ``q`` whose last axis has ``m`` entries: the first
``batch_dims`` (``b``) axes of both are the same batch axes; every index vector ``indices[I]``
picks the data coordinates of axes ``b .. b+m-1`` (negative values count from the end of their
axis), and the output ``indices.shape[:-1] + data.shape[b+m:]`` holds, at ``(I, rest)``,
``data[I[:b], indices[I], rest]``. ``picks`` checks all that and returns the picked coordinates;
``onnx_fold`` takes values with them (a constant side graph) and ``onnx_select`` fields.

>>> picks((3, 4), (2, 1), (2, 0), 0)            # rows 2 and 0 of a 3 x 4 matrix
((2, 4), [(2,), (0,)])
>>> picks((2, 3), (2, 1), (-1, 0), 1)
((2,), [(2,), (0,)])
"""

from __future__ import annotations

from math import prod

from ..errors import ShapeError


def picks(data_dims, index_dims, values, batch_dims: int = 0) -> tuple:
    """``(output dims, coords)``: per index vector (row-major over ``index_dims[:-1]``), the data
    coordinates it picks on axes ``batch_dims .. batch_dims + m - 1``, negatives resolved.

    Raises ``ShapeError`` naming the values for a ``batch_dims`` or index rank the data cannot
    take, batch axes that differ, or an index outside its axis.
    """
    data_dims, index_dims = tuple(int(d) for d in data_dims), tuple(int(d) for d in index_dims)
    r, q, b = len(data_dims), len(index_dims), int(batch_dims)
    if q < 1 or r < 1:
        raise ShapeError(f"GatherND needs data and indices of rank 1 or more. Received: dims {data_dims}, {index_dims}")
    if not 0 <= b < min(q, r):
        raise ShapeError(
            f"batch_dims={b} is outside what data of rank {r} and indices of rank {q} allow (0 .. {min(q, r) - 1})"
        )
    if data_dims[:b] != index_dims[:b]:
        raise ShapeError(f"the {b} batch axes differ: data {data_dims[:b]}, indices {index_dims[:b]}")
    if 0 in index_dims or 0 in data_dims:
        raise ShapeError(f"GatherND of data {data_dims} by indices {index_dims} picks nothing: a dim is 0")
    m = index_dims[-1]
    if not 1 <= m <= r - b:
        raise ShapeError(
            f"index vectors of {m} entries pick axes of data of rank {r} after {b} batch axes: "
            f"GatherND takes 1 .. {r - b}"
        )
    values = tuple(int(v) for v in values)
    if len(values) != prod(index_dims):
        raise ShapeError(f"indices of dims {index_dims} hold {len(values)} values")
    axes = data_dims[b : b + m]
    coords = []
    for at in range(0, len(values), m):
        vec = values[at : at + m]
        for v, n, a in zip(vec, axes, range(b, b + m)):
            if not -n <= v < n:
                raise ShapeError(
                    f"index {v} is outside axis {a} of size {n} (data dims {data_dims}); "
                    f"GatherND takes -{n} .. {n - 1} there. Received: the index vector {list(vec)}"
                )
        coords.append(tuple(v % n for v, n in zip(vec, axes)))
    return index_dims[:-1] + data_dims[b + m :], coords


def take(data_dims, data_values, index_dims, coords, batch_dims: int = 0) -> tuple:
    """The output values of a GatherND on a constant: ``coords`` from ``picks``.

    >>> take((2, 2), (1, 2, 3, 4), (2, 1), [(1,), (0,)])
    (3, 4, 1, 2)
    """
    b, m = int(batch_dims), int(index_dims[-1])
    data_dims = tuple(data_dims)
    inner = prod(data_dims[b + m :])
    strides = [prod(data_dims[a + 1 :]) for a in range(len(data_dims))]
    per_batch = prod(index_dims[b:-1])
    out = []
    for i, c in enumerate(coords):
        batch = i // per_batch if b else 0
        base = sum(d * s for d, s in zip(_unravel(batch, data_dims[:b]), strides)) if b else 0
        base += sum(v * strides[b + j] for j, v in enumerate(c))
        out.extend(data_values[base : base + inner])
    return tuple(out)


def _unravel(i: int, dims) -> list:
    out = []
    for d in reversed(dims):
        i, r = divmod(i, d)
        out.append(r)
    return out[::-1]


__all__ = ["picks", "take"]
