"""``rfcalc design``: the exact search for the cheapest layer stacks that reach a receptive field.

The public entry is the function ``rfcalc.design`` (``api.py``); the package is named ``designer`` so that
importing it never hides that function. ``search.py`` is the dynamic programme, ``space.py`` the vocabulary
and grammar, ``bounds.py`` the pruning bounds, ``dive.py`` the seeding dive, ``result.py`` the ``Design``,
``symbolic.py`` the closed forms, ``plot.py`` the front's picture, ``cli.py`` the subcommand.
"""
