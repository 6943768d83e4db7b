"""The tokeniser's code point table, built at start-up, is the one the str predicates give (its faster build
tests only alphanumeric code points for digits and letters)."""

from __future__ import annotations

import numpy as np

from socialscore.text.token_numba import ALPHA, DIGIT, N_CODE_POINTS, WORD, code_point_flags


def test_code_point_flags_are_the_str_predicates_of_every_code_point() -> None:
    every = "".join(map(chr, range(N_CODE_POINTS)))
    expected = np.fromiter(map(str.isalnum, every), np.uint8, count=N_CODE_POINTS) * np.uint8(WORD)
    expected[ord("_")] |= WORD
    expected |= np.fromiter(map(str.isdecimal, every), np.uint8, count=N_CODE_POINTS) * np.uint8(DIGIT)
    expected |= np.fromiter(map(str.isalpha, every), np.uint8, count=N_CODE_POINTS) * np.uint8(ALPHA)
    flags = code_point_flags()
    assert flags.dtype == np.uint8 and flags.shape == (N_CODE_POINTS,)
    np.testing.assert_array_equal(flags, expected)
