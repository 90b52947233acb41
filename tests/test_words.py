"""English articles by sound, as the numbers are read aloud (issue 18, point 11)."""

from __future__ import annotations

import pytest

from rfcalc import compare, explain
from rfcalc.words import article, with_article

CASES = {  # what follows -> the article a reader says before it
    "1×1": "a",
    "5×5": "a",
    "7×7": "a",
    "8×8": "an",
    "11×11": "an",
    "18×18": "an",
    "12×12": "a",
    "17×17": "a",
    "80×80": "an",
    "83×83": "an",
    "89": "an",
    "90×90": "a",
    "108": "a",
    "110": "a",
    "180": "a",
    "800": "an",
    "899×899": "an",
    "8000": "an",
    "8,192": "an",
    "11000": "an",
    "18,000": "an",
    "1100": "a",
    "80000": "an",
    "800000": "an",
    "8000000": "an",
    "11000000": "an",
    "1000": "a",
    "224×224×3": "a",
    "32x32x3": "a",
    "0": "a",
    "input": "an",
    "region": "a",
    "8x8x1": "an",
    "1-D input": "a",
    "8-pixel": "an",
}


@pytest.mark.parametrize("text,want", sorted(CASES.items()))
def test_article_by_sound(text, want):
    assert article(text) == want
    assert with_article(text) == f"{want} {text}"


def test_explain_says_an_8x8_and_an_11x11():
    text = explain("c3,c3", input_shape=(8, 8, 3)).text
    assert "on an 8×8×3 input" in text and " a 8" not in text
    assert "from an 11×11 region" in explain("c3*5").text
    assert "from a 5×5 region" in explain("c3,c3").text


def test_compare_and_japanese_stay_natural():
    assert "on an 8x8x3 input" in str(compare(["c3"], input_shape=(8, 8, 3)).__rich__().title)
    ja = explain("c3*5", lang="ja", input_shape=(8, 8, 3)).text
    assert "11×11の領域" in ja and "an " not in ja


def test_design_titles_say_an_8x8_field():
    from rfcalc import design

    d = design(rf=8, input_shape=(8, 8, 3), max_depth=4)
    assert "reach an 8x8 field on an 8x8x3 input" in d.title()
