"""The in-memory data layer: action padding (scenes with fewer controls are widened) and the captions' text cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import worldsim.data
from worldsim.data import encode_captions, pad_actions


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


def test_a_dataset_with_more_captions_than_the_cache_holds_is_encoded_once(tmp_path, monkeypatch):
    from worldsim.text import TextEncoder

    monkeypatch.setattr(worldsim.data, "CAPTION_CACHE_SIZE", 2)
    captions = [f"a red ball moves left {'and a blue box ' * k}" for k in range(5)]
    first = encode_captions(captions, tmp_path / "text.safetensors")

    def refuse(self, texts):
        raise AssertionError(f"encoded again: {texts}")

    monkeypatch.setattr(TextEncoder, "encode", refuse)
    again = encode_captions(captions, tmp_path / "text.safetensors")
    for name in ("tokens", "mask", "pooled"):
        assert torch.equal(first[name], again[name])
