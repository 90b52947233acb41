"""The course notebook's models by name, one table for ``rfcalc`` and ``rfcalc-train``.

A preset is a spec plus the head the notebook puts on it: ``rfcalc model2`` prints what the
notebook's ``model2.summary()`` prints (174,214 parameters). ``rfcalc-train`` adds the head itself
and reads only the spec (``SPECS``).

>>> from rfcalc import analyze
>>> spec, head = PRESETS["model2"]
>>> analyze(spec, head=head).total_params
174214
"""

from __future__ import annotations

# name -> (spec, head): the notebook's model1 ([1-8]) and model2 ([1-10]), Flatten/Dense(20)/Dense(10) heads
PRESETS = {
    "model1": ("c3,p2", "seed"),
    "model2": ("c3,c3,p2", "seed"),
}
SPECS = {name: spec for name, (spec, _) in PRESETS.items()}


def lookup(name: str):
    """``(spec, head)`` of a preset (case and spaces ignored), or None for anything else.

    >>> lookup(" Model1 "), lookup("c3")
    (('c3,p2', 'seed'), None)
    """
    return PRESETS.get(name.strip().lower()) if isinstance(name, str) else None
