"""``rfcalc report``: one self-contained interactive HTML page of a network's receptive fields.

The public entry is the function ``rfcalc.report`` (``page.py``); the package is named ``htmlreport`` so
that importing it never hides that function. ``data.py`` is what the page embeds, ``chart.py`` the growth
chart, ``image.py`` the images, ``text.py`` every word (en, ja), ``report.js`` / ``report.css`` the page's
own code, inlined; ``cli.py`` the subcommand.
"""
