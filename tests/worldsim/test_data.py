"""The in-memory data layer: action padding, the one place scenes with fewer controls are widened."""

from __future__ import annotations

import numpy as np
import pytest

from worldsim.data import pad_actions


def test_pad_actions_widens_the_last_axis_with_zeros_and_refuses_to_narrow():
    a = np.arange(6, dtype=np.float64).reshape(3, 2)
    padded = pad_actions(a, 4)
    assert padded.shape == (3, 4) and padded.dtype == np.float32
    np.testing.assert_array_equal(padded[:, :2], a)
    assert not padded[:, 2:].any()
    assert pad_actions(np.ones((2, 5, 2)), 3).shape == (2, 5, 3)  # batched episodes
    np.testing.assert_array_equal(pad_actions(a, 2), a)
    with pytest.raises(ValueError, match="do not fit a model that takes 1"):
        pad_actions(a, 1)
