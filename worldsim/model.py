"""Spacetime-patch diffusion transformer (DiT) conditioned on actions and text.

The network that stands in for the physics engine. It denoises latent video one step at a time:

* latents are cut into spacetime patches ``(pt, ph, pw)``; each step's tokens also carry the
  previous step's clean latent, concatenated before the input projection (GameNGen, DIAMOND), so
  "nothing moved" is the easy default and motion is learned on top;
* every block is adaLN-Zero modulated by a per-step conditioning vector: noise level + action
  (the action that led to the step) + pooled text (DiT, Peebles & Xie 2023);
* self-attention is full within a step and causal across steps, banded to a window of ``W`` steps,
  with temporal RoPE (Su et al. 2021) and fixed 2-D sin-cos positions in space; token-level text
  enters through cross-attention;
* optionally (``memory``) every step also attends to the ``M`` steps before its window, coarsely: their
  keys and values averaged over squares of tokens, so a step that went out of the window (an object
  that went under the slab) is still recalled at a quarter of the cost, as video models keep older
  frames at a lower resolution than the recent ones;
* optionally (``offset_heads``) every block has more heads whose RoPE also turns by each token's row
  and column, so their scores depend on the offset between two tokens; added to a model trained
  without that, they start as a no-op beside the heads it has;
* reward and termination heads read the pooled tokens of each step;
* optionally (``sink``) every step also attends to a *frame sink*: the episode's first frame, kept
  clean for the whole rollout beside the rolling window (the frame sink of LongLive, Yang et al.
  2025), through its own attention layer. A first frame has no sink to look at: it is the sink.

Because attention is banded and causal, a step's keys and values depend only on the ``W + M`` steps
up to it, so a :class:`KVCache` of committed steps reproduces a full recompute exactly. RoPE
positions are taken relative to the window, so a rollout can run for any number of steps.

Notation in shape comments: ``B`` batch, ``n`` steps, ``L`` tokens per step, ``D`` width,
``H`` heads, ``d`` head dim, ``P`` values per patch (``pt*ph*pw*C``), ``m`` cached steps,
``S`` text tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from einops import rearrange, repeat
from torch import Tensor, nn

# --------------------------------------------------------------------------------------------
#                                         Config
# --------------------------------------------------------------------------------------------


@dataclass
class DiTConfig:
    """Architecture of the DiT. Every value that comes from the data is passed in, never patched."""

    latent_channels: int = 8
    """C: channels of the autoencoder latent."""
    latent_size: int = 16
    """Height and width of the latent."""
    patch: tuple[int, int, int] = (1, 2, 2)
    """(pt, ph, pw): latent frames per step, and spatial patch size. pt > 1 gives action repeat."""
    width: int = 192
    """D: transformer width."""
    depth: int = 4
    """Number of DiT blocks."""
    heads: int = 6
    """Attention heads; width must divide by it."""
    mlp_ratio: float = 4.0
    """Hidden width of the MLP as a multiple of D."""
    action_dim: int = 4
    """Action values per step (several agents: concatenated in a fixed agent order)."""
    text_dim: int = 384
    """Width of the text encoder's embeddings (all-MiniLM-L6-v2: 384)."""
    window: int = 8
    """W: steps a step may attend to, itself included. Bounds the KV cache."""
    memory: int = 0
    """M: steps before the window a step also attends to, each one coarsely: its keys and values
    averaged over ``memory_pool`` x ``memory_pool`` tokens. An object hidden for longer than the window
    (under the slab) is still in this memory, at a fraction of the cost of a window that long."""
    memory_pool: int = 2
    """Tokens per side averaged into one memory token; the token grid must divide by it."""
    rope_base: float = 100.0
    """Base of the temporal RoPE frequencies; windows are short, so a small base suffices."""
    residual_scale: float = 0.0
    """0: the network denoises each step's latent itself. > 0: it denoises the change from the
    previous step, divided by this scale (the change's std in the training data), so a static
    scene is the exact zero and only what moves has to be generated. First steps are always
    denoised as latents."""
    sink: bool = False
    """Every step after the first also attends to the episode's first frame, which stays in the
    cache for the whole rollout (a frame sink): a clean reference of every object's colour and shape
    that does not drift with the window."""
    spatial_heads: bool = False
    """The reward and termination heads read every token in its place (:class:`SpatialHeads`), not
    only the tokens' mean: a reward that depends on where things are, such as the agent's distance
    to a goal, is not a function of the mean."""
    layout_dim: int = 0
    """Features per layout token (worldsim.envs.layout); 0: no layout. A first frame (a step with
    no predecessor) then also attends to one token per agent, object, goal and slab of the scene it
    should show (what it is, its colour, shape, size and place), as GLIGEN grounds an image model in
    boxes; later steps see their previous frame instead and skip it."""
    null_action: bool = False
    """The action embedder also reads whether each step's action is known (1) or not (0, its values
    then zero). Trained with action dropout, the model also predicts a step without its action, and
    a rollout can guide towards the actions taken as classifier-free guidance does towards text."""
    change_input: bool = False
    """Every step also reads its predecessor's change from the step before that (``prev`` minus the
    latent two steps back; zeros where there is none), patch by patch beside ``prev``: how each part
    of the scene moved last, so a glide or a push can be continued from it instead of being worked
    out by attention across the cached frames."""
    spatial_rope: bool = False
    """Self-attention also rotates queries and keys by each token's row and column (axial RoPE on
    part of every head), so attention scores depend on how far apart two tokens are, not only on
    where each one is: following something that moved a token to the left is the same lookup
    everywhere in the frame. Changes what a trained model computes, so it is set before training."""
    offset_heads: int = 0
    """Attention heads per block beside ``heads`` that always turn by row and column as well as by step
    (as ``spatial_rope`` turns every head), with projections of their own. Added to a model trained
    without ``spatial_rope`` (:meth:`DiT.add_offset_heads`), they start as a no-op: its heads keep what
    they learned, and the new ones learn the offset lookups (following what moved a token over) that
    ``spatial_rope`` would have given it from the start."""
    exact_gelu: bool = False
    """The MLPs use GELU in its exact (erf) form rather than DiT's tanh approximation: the same curve
    to within float16 rounding, and several times cheaper on CPUs, whose tanh is slow. Kept as it was
    trained, so a model computes exactly what it learned."""

    def __post_init__(self) -> None:
        pt, ph, pw = self.patch
        if self.width % self.heads:
            raise ValueError(f"width {self.width} must be divisible by heads {self.heads}")
        if (self.width // self.heads) % 2:
            raise ValueError(f"head dim {self.width // self.heads} must be even for RoPE")
        if self.latent_size % ph or self.latent_size % pw:
            raise ValueError(f"latent_size {self.latent_size} must be divisible by patch {self.patch[1:]}")
        if self.window < 1:
            raise ValueError(f"window must be >= 1, got {self.window}")
        if self.memory < 0 or self.memory_pool < 1:
            raise ValueError(f"memory must be >= 0 and memory_pool >= 1, got {self.memory}, {self.memory_pool}")
        rows, cols = self.latent_size // ph, self.latent_size // pw
        if self.memory and (rows % self.memory_pool or cols % self.memory_pool):
            raise ValueError(f"the {rows} x {cols} token grid does not divide into memory_pool {self.memory_pool} "
                             "squares")
        if (self.spatial_rope or self.offset_heads) and self.width // self.heads < 6:
            raise ValueError(f"spatial_rope and offset_heads need a head dim of at least 6, got "
                             f"{self.width // self.heads}")
        if self.offset_heads < 0:
            raise ValueError(f"offset_heads must be >= 0, got {self.offset_heads}")
        if self.layout_dim < 0:
            raise ValueError(f"layout_dim must be >= 0, got {self.layout_dim}")

    @property
    def span(self) -> int:
        """Steps a step attends to: itself and ``window - 1`` before it, whole, and ``memory`` more, pooled."""
        return self.window + self.memory

    @property
    def tokens_per_step(self) -> int:
        return (self.latent_size // self.patch[1]) * (self.latent_size // self.patch[2])

    @property
    def patch_dim(self) -> int:
        pt, ph, pw = self.patch
        return pt * ph * pw * self.latent_channels


@dataclass
class TextCond:
    """Text conditioning for a batch: token embeddings, their mask and the pooled embedding.

    An empty prompt (all-False mask, zero pooled vector) is the unconditional input used for
    classifier-free guidance; a learned null token keeps cross-attention well defined.
    """

    tokens: Tensor  # (B, S, text_dim)
    mask: Tensor  # (B, S) bool, True = real token
    pooled: Tensor  # (B, text_dim)
    layout: Tensor | None = None  # (B, K, layout_dim) scene layout tokens; all-zero rows are no entity

    @classmethod
    def empty(cls, batch: int, text_dim: int = 384, device: torch.device | str = "cpu") -> TextCond:
        return cls(torch.zeros(batch, 1, text_dim, device=device),
                   torch.zeros(batch, 1, dtype=torch.bool, device=device),
                   torch.zeros(batch, text_dim, device=device))

    def drop(self, keep: Tensor) -> TextCond:
        """Rows where ``keep`` (B,) is False become the empty prompt, layout included (for guidance dropout)."""
        layout = None if self.layout is None else self.layout * keep[:, None, None]
        return TextCond(self.tokens * keep[:, None, None], self.mask & keep[:, None],
                        self.pooled * keep[:, None], layout)

    def index(self, rows: Tensor) -> TextCond:
        return TextCond(self.tokens[rows], self.mask[rows], self.pooled[rows],
                        None if self.layout is None else self.layout[rows])


@dataclass
class DiTOutput:
    """What one forward pass returns."""

    velocity: Tensor  # (B, n*pt, C, h, w) flow-matching velocity, eps - x0
    reward: Tensor  # (B, n) predicted reward for the transition into each step
    done_logit: Tensor  # (B, n) termination logit for each step


@dataclass
class KVCache:
    """Keys and values of committed steps, per layer, in a rolling window of window - 1 steps (and the
    ``memory`` steps before them, which are attended to pooled: :attr:`DiTConfig.memory`).

    Keys are stored before RoPE and rotated at use with window-relative positions. valid marks
    which cached steps each batch row may attend to, so rows can be reset independently. From the
    first commit on, the cache holds window - 1 steps, the missing ones padded on the left and not
    valid, so every later pass has the same shapes (which a compiled graph needs to be reused).
    """

    window: int
    memory: int = 0
    keys: list[Tensor | None] = field(default_factory=list)  # per layer (B, H, m*L, d)
    values: list[Tensor | None] = field(default_factory=list)  # per layer (B, H, m*L, d)
    valid: Tensor | None = None  # (B, m) bool
    text_kv: list[tuple[Tensor, Tensor]] | None = None  # per layer cross-attention K, V
    text_mask: Tensor | None = None  # (B, S+1) bool, null token included
    sink_kv: list[tuple[Tensor, Tensor]] | None = None  # per layer sink K, V (B, H, L, d), never evicted
    mem_keys: list[Tensor | None] = field(default_factory=list)  # per layer (B, H, M*Lp, d), pooled
    mem_values: list[Tensor | None] = field(default_factory=list)
    # per layer, between two commits: the cached keys as rotated for the passes of one step, beside their
    # values, with room for the new steps (see CausalSelfAttention._held); and the step's mask
    held: dict = field(default_factory=dict, repr=False)

    @property
    def steps(self) -> int:
        return 0 if self.valid is None else self.valid.shape[1]

    @property
    def span(self) -> int:
        """Steps kept once full: the window's, less the new step, and the memory's."""
        return self.window - 1 + self.memory

    def nbytes(self) -> int:
        tensors = [t for t in self.keys + self.values + self.mem_keys + self.mem_values if t is not None]
        for kv in (self.text_kv or []) + (self.sink_kv or []):
            tensors += list(kv)
        return sum(t.numel() * t.element_size() for t in tensors)


# --------------------------------------------------------------------------------------------
#                                 Embedders and positions
# --------------------------------------------------------------------------------------------


def left_pad(t: Tensor, size: int, dim: int) -> Tensor:
    """``t`` padded with zeros (False for bool) before its start along ``dim`` to ``size``."""
    missing = size - t.shape[dim]
    if missing <= 0:
        return t.contiguous()
    shape = list(t.shape)
    shape[dim] = missing
    return torch.cat([t.new_zeros(shape), t], dim=dim)


def sinusoidal(x: Tensor, dim: int, max_period: float = 10000.0) -> Tensor:
    """Sinusoidal features of a float tensor ``(...)`` -> ``(..., dim)``."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=x.device) / half)  # (dim/2,)
    angles = x[..., None].float() * freqs  # (..., dim/2)
    return torch.cat([angles.cos(), angles.sin()], dim=-1)


def sincos_2d(height: int, width: int, dim: int) -> Tensor:
    """Fixed 2-D sin-cos positions ``(height*width, dim)``: half the channels for rows, half for columns."""
    rows, cols = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    emb = torch.cat([sinusoidal(rows.flatten(), dim // 2), sinusoidal(cols.flatten(), dim // 2)], -1)
    return emb  # (h*w, dim)


class NoiseLevelEmbedder(nn.Module):
    """Noise level sigma in [0, 1] -> ``(..., D)``."""

    def __init__(self, width: int, freq_dim: int = 256):
        super().__init__()
        self.freq_dim = freq_dim
        self.mlp = nn.Sequential(nn.Linear(freq_dim, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, sigma: Tensor) -> Tensor:
        return self.mlp(sinusoidal(sigma * 1000.0, self.freq_dim))


Tables = tuple[Tensor, Tensor, tuple[int, ...]]
"""RoPE tables: ``cos`` and signed ``sin`` ``(N, d)`` and the widths of the head's slices (:func:`rope_tables`)."""


def rope_tables(positions: list[Tensor], widths: list[int], base: float) -> Tables:
    """Rotate-half RoPE on consecutive slices of a head, as tables for :func:`rope`.

    Slice ``i`` (``widths[i]`` channels, even) is rotated by ``positions[i]`` ``(N,)``, pairing its first
    half with its second. Returns ``cos`` and signed ``sin`` ``(N, d)`` and the slice widths, so a rotation
    is ``x * cos + swap_halves(x) * sin``, however many slices.
    """
    cos, sin = [], []
    for pos, w in zip(positions, widths, strict=True):
        freqs = base ** (-torch.arange(0, w, 2, device=pos.device, dtype=torch.float32) / w)  # (w/2,)
        angles = pos[:, None].float() * freqs  # (N, w/2)
        cos += [angles.cos()] * 2
        sin += [-angles.sin(), angles.sin()]  # first half: x1 c - x2 s; second: x2 c + x1 s
    return torch.cat(cos, -1), torch.cat(sin, -1), tuple(widths)


def swap_halves(x: Tensor, widths: tuple[int, ...]) -> Tensor:
    """``x`` with the two halves of each consecutive slice of its last dim (``widths``) swapped: copies of
    contiguous blocks, several times faster on a CPU than gathering the channels by an index."""
    parts, start = [], 0
    for w in widths:
        half = w // 2
        parts += [x[..., start + half : start + w], x[..., start : start + half]]
        start += w
    return torch.cat(parts, -1)


def token_grid(cfg: DiTConfig) -> tuple[int, int]:
    """Rows and columns of a step's tokens."""
    return cfg.latent_size // cfg.patch[1], cfg.latent_size // cfg.patch[2]


def rope(x: Tensor, tables: Tables) -> Tensor:
    """Rotate ``x`` ``(B, H, N, d)`` by :func:`rope_tables`' ``(cos, sin, widths)``."""
    cos, sin, widths = tables
    return x * cos.to(x.dtype) + swap_halves(x, widths) * sin.to(x.dtype)


# --------------------------------------------------------------------------------------------
#                                        Attention
# --------------------------------------------------------------------------------------------


def attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None) -> Tensor:
    """Scaled dot-product attention of ``q`` (B, H, N, d) over ``k``, ``v`` (B, H, K, d); ``mask``
    broadcasts to (B, H, N, K), True = visible. On a CPU, bfloat16 inputs with gradients on (a training
    pass under bfloat16 autocast) are attended in float32 and the output cast back: the CPU's bfloat16
    attention kernel is much slower backwards than its float32 one, while the matrix products around
    it gain from bfloat16. Without gradients (a rollout) the bfloat16 kernel runs as it is."""
    if q.device.type == "cpu" and q.dtype == torch.bfloat16 and torch.is_grad_enabled():
        with torch.autocast("cpu", enabled=False):
            return F.scaled_dot_product_attention(q.float(), k.float(), v.float(), attn_mask=mask).to(q.dtype)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


class CausalSelfAttention(nn.Module):
    """Self-attention that is full within a step, causal across steps, banded to ``window`` steps, and
    (``memory``) to the pooled tokens of the ``memory`` steps before the window."""

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        self.heads, self.window, self.base = cfg.heads, cfg.window, cfg.rope_base
        self.memory, self.pool = cfg.memory, cfg.memory_pool
        self.qkv = nn.Linear(cfg.width, 3 * cfg.width)
        self.proj = nn.Linear(cfg.width, cfg.width)
        self.tokens, self.spatial = token_grid(cfg), cfg.spatial_rope  # the step's rows and columns of tokens
        self.offset_heads = 0
        self._table_cache: dict[tuple, tuple[Tables, ...]] = {}
        if cfg.offset_heads:
            self.add_offset_heads(cfg.offset_heads, cfg.width // cfg.heads)

    def add_offset_heads(self, n: int, head_dim: int) -> None:
        """``n`` heads more (``DiTConfig.offset_heads``), turned by step, row and column, with their own
        projections; the output's starts at zero, so the layer computes what it did before."""
        device = self.qkv.weight.device
        self.offset_heads = n
        self.qkv_offset = nn.Linear(self.qkv.in_features, 3 * n * head_dim).to(device)
        nn.init.xavier_uniform_(self.qkv_offset.weight)
        nn.init.zeros_(self.qkv_offset.bias)
        self.proj_offset = nn.Linear(n * head_dim, self.proj.out_features, bias=False).to(device)
        nn.init.zeros_(self.proj_offset.weight)

    @property
    def groups(self) -> tuple[tuple[int, bool], ...]:
        """The heads in groups that turn alike, in order: (how many, whether by row and column too)."""
        if not self.offset_heads:
            return ((self.heads, self.spatial),)
        if self.spatial:
            return ((self.heads + self.offset_heads, True),)
        return ((self.heads, False), (self.offset_heads, True))

    @property
    def recalled_tokens(self) -> int:
        """Tokens a step keeps in the memory: its grid pooled over ``pool`` x ``pool`` squares."""
        return self.tokens[0] * self.tokens[1] // self.pool ** 2

    def _tables(self, steps: int, L: int, d: int, device: torch.device, pool: int = 1) -> tuple[Tables, ...]:
        """RoPE tables for ``steps`` steps of ``L`` tokens (window-relative step 0 first), one per group of
        heads (:attr:`groups`): by step over the whole head, or by step, row and column on three slices
        of it; with ``pool``, for tokens pooled over ``pool`` x ``pool`` squares, each at its square's
        centre. Kept for the next call with the same shape, which in a rollout is every call once the
        window is full."""
        if torch.compiler.is_compiling():  # a compiled graph folds them in; keeping them would add a guard
            return self._make_tables(steps, L, d, device, pool)
        key = (steps, L, d, device, self.groups, pool)
        if key not in self._table_cache:
            if len(self._table_cache) >= 8:  # training draws many shapes; a rollout reuses two
                self._table_cache.clear()
            self._table_cache[key] = self._make_tables(steps, L, d, device, pool)
        return self._table_cache[key]

    def _make_tables(self, steps: int, L: int, d: int, device: torch.device, pool: int = 1) -> tuple[Tables, ...]:
        t = torch.arange(steps, device=device).repeat_interleave(L)
        ds = (d // 3) // 2 * 2  # channels per spatial axis, even
        idx = torch.arange(L, device=device).repeat(steps)
        cols = self.tokens[1] // pool
        centre = (pool - 1) / 2  # a pooled token sits at the middle of the tokens it averages
        rows, columns = (idx // cols) * pool + centre, (idx % cols) * pool + centre
        return tuple(rope_tables([t, rows, columns], [d - 2 * ds, ds, ds], self.base) if spatial
                     else rope_tables([t], [d], self.base) for _, spatial in self.groups)

    def _turn(self, x: Tensor, tables: tuple[Tables, ...], rows: slice) -> Tensor:
        """``x`` ``(B, H, N, d)`` rotated, each group of heads by its own ``tables`` at the token ``rows``."""
        if len(tables) == 1:
            cos, sin, widths = tables[0]
            return rope(x, (cos[rows], sin[rows], widths))
        parts, start = [], 0
        for (heads, _), (cos, sin, widths) in zip(self.groups, tables, strict=True):
            parts.append(rope(x[:, start:start + heads], (cos[rows], sin[rows], widths)))
            start += heads
        return torch.cat(parts, dim=1)

    def _qkv(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Queries, keys and values ``(B, H, n*L, d)`` of ``x`` ``(B, n, L, D)``, the offset heads last."""
        q, k, v = rearrange(self.qkv(x), "b n l (three h d) -> three b h (n l) d", three=3, h=self.heads)
        if not self.offset_heads:
            return q, k, v
        qo, ko, vo = rearrange(self.qkv_offset(x), "b n l (three h d) -> three b h (n l) d", three=3,
                               h=self.offset_heads)
        return torch.cat([q, qo], 1), torch.cat([k, ko], 1), torch.cat([v, vo], 1)

    def _out(self, out: Tensor, n: int) -> Tensor:
        """The heads' outputs ``(B, H, n*L, d)`` projected back to ``(B, n, L, D)``."""
        if not self.offset_heads:
            return self.proj(rearrange(out, "b h (n l) d -> b n l (h d)", n=n))
        base, extra = out[:, :self.heads], out[:, self.heads:]
        return (self.proj(rearrange(base, "b h (n l) d -> b n l (h d)", n=n))
                + self.proj_offset(rearrange(extra, "b h (n l) d -> b n l (h d)", n=n)))

    def _pooled(self, t: Tensor, steps: int) -> Tensor:
        """Keys or values ``(B, H, steps*L, d)`` averaged over ``pool`` x ``pool`` squares of each step's
        token grid: ``(B, H, steps*L/pool^2, d)``."""
        (rows, cols), p = self.tokens, self.pool
        squares = t.reshape(*t.shape[:2], steps, rows // p, p, cols // p, p, t.shape[-1])
        return squares.mean(dim=(4, 6)).flatten(2, 4)

    def forward(self, x: Tensor, cache: KVCache | None, layer: int, commit: bool) -> Tensor:
        B, n, L, D = x.shape
        q, k, v = self._qkv(x)
        past = cache.steps if cache is not None else 0
        window = cache.window if cache is not None else self.window
        memory = cache.memory if cache is not None else self.memory
        S = past + n
        start = S - n - (cache.keys[layer].shape[2] // L if past else 0)  # the first step held whole; those
        lo = max(start, past - window + 1)  # before are in the cache's memory; the oldest a new step sees whole
        first, end = max(0, past - window - memory + 1), S - window  # the steps some new step recalls
        recalls = memory and end > first
        tables = self._tables(S, L, q.shape[-1], x.device)  # window-relative positions
        new = slice(past * L, None)  # the new steps come last
        q_rot = self._turn(q, tables, new)
        # a pass of a rollout (no gradients, the cache full, every recalled step in its memory): the cached
        # steps were rotated once for all the passes of this step, and only the new ones are rotated here
        if (past and lo == start and not (recalls and end > start) and not torch.is_grad_enabled()
                and not torch.compiler.is_compiling()):
            keys, values, mask = self._held(cache, layer, k, v, L, tables, (lo, first, end, recalls))
            out = attention(q_rot, keys, values, mask)  # (B, H, n*L, d)
            if commit:
                self._commit(cache, layer, torch.cat([cache.keys[layer], k], dim=2),
                             torch.cat([cache.values[layer], v], dim=2), L)
            return self._out(out, n)
        if past:  # the cache holds its window's steps whole and, before them, its memory's pooled
            k_all = torch.cat([cache.keys[layer], k], dim=2)  # (B, H, (m+n)*L, d)
            v_all = torch.cat([cache.values[layer], v], dim=2)
        else:
            k_all, v_all = k, v
        keys = self._turn(k_all[:, :, (lo - start) * L:], tables, slice(lo * L, None))
        values = v_all[:, :, (lo - start) * L:]
        if recalls:
            k_mem, v_mem = self._recalled(cache, layer, k_all, v_all, L, range(first, end), start, S)
            keys, values = torch.cat([keys, k_mem], dim=2), torch.cat([values, v_mem], dim=2)
        cached = cache.valid if past else torch.ones(B, 0, dtype=torch.bool, device=x.device)
        mask = self._mask(cached, B, n, L, past, window, memory, lo, first, end)
        out = attention(q_rot, keys, values, mask)  # (B, H, n*L, d)
        if commit and cache is not None:
            self._commit(cache, layer, k_all, v_all, L)
        return self._out(out, n)

    def _held(self, cache: KVCache, layer: int, k: Tensor, v: Tensor, L: int,
              tables: tuple[Tables, ...],
              steps: tuple[int, int, int, bool]) -> tuple[Tensor, Tensor, Tensor]:
        """Keys, values and mask of a rollout's pass over new steps ``k``, ``v`` (rotated by the pass's
        ``tables`` at the last rows), the same as the general path's, with the cached steps rotated once
        per commit: the passes of one step (each denoising move and the commit) share them. They are laid out as the
        general path lays them out (the window's steps from ``lo``, the new ones last, then the recalled
        ``first`` to ``end`` from the memory), in a buffer whose new steps' rows each pass overwrites."""
        lo, first, end, recalls = steps
        past, n, whole = cache.steps, k.shape[2] // L, cache.keys[layer].shape[2] // L
        entry = cache.held.get(layer)
        if entry is None or entry[0] is not cache.keys[layer] or entry[1] != n:
            parts_k = [self._turn(cache.keys[layer], tables, slice(lo * L, past * L)), k]
            parts_v = [cache.values[layer], v]
            if recalls:  # every recalled step is in the memory, so the window's keys are not read
                k_mem, v_mem = self._recalled(cache, layer, cache.keys[layer], cache.values[layer], L,
                                              range(first, end), past - whole, past + n)
                parts_k.append(k_mem)
                parts_v.append(v_mem)
            entry = (cache.keys[layer], n, torch.cat(parts_k, dim=2), torch.cat(parts_v, dim=2))
            cache.held[layer] = entry
        keys, values = entry[2], entry[3]
        rows = slice(whole * L, (whole + n) * L)
        keys[:, :, rows] = self._turn(k, tables, slice(past * L, None))
        values[:, :, rows] = v
        mask = cache.held.get("mask")
        if mask is None or mask[0] is not cache.valid or mask[1] != n:
            mask = (cache.valid, n, self._mask(cache.valid, k.shape[0], n, L, past, cache.window, cache.memory, lo,
                                               first, end))
            cache.held["mask"] = mask
        return keys, values, mask[2]

    def _recalled(self, cache: KVCache | None, layer: int, k_all: Tensor, v_all: Tensor, L: int, steps: range,
                  start: int, S: int) -> tuple[Tensor, Tensor]:
        """The recalled ``steps`` (:meth:`_recall`) of a pass over ``S`` steps, their keys rotated at their
        pooled tokens' places."""
        k_mem, v_mem = self._recall(cache, layer, k_all, v_all, L, steps, start)
        Lp = self.recalled_tokens
        tables = self._tables(S, Lp, k_mem.shape[-1], k_mem.device, self.pool)
        return self._turn(k_mem, tables, slice(steps.start * Lp, steps.stop * Lp)), v_mem

    def _mask(self, cached: Tensor, B: int, n: int, L: int, past: int, window: int, memory: int, lo: int,
              first: int, end: int) -> Tensor:
        """The attention mask ``(B, 1, n*L, keys)`` of new steps after a cache whose steps are ``cached``
        ``(B, past)`` valid: the window's steps from ``lo`` whole, then the recalled ``first`` to ``end``."""
        valid = torch.cat([cached, torch.ones(B, n, dtype=torch.bool, device=cached.device)], dim=1)  # (B, S)
        steps_k = torch.arange(past + n, device=cached.device)  # (S,) window-relative positions
        steps_q = steps_k[past:]  # (n,)
        seen = steps_k[None, lo:]  # (1, S-lo)
        allowed = (seen <= steps_q[:, None]) & (seen > steps_q[:, None] - window)
        mask = repeat(allowed[None] & valid[:, None, lo:], "b i j -> b 1 (i l1) (j l2)", l1=L, l2=L)
        if memory and end > first:
            gap = steps_q[:, None] - steps_k[None, first:end]  # (n, end-first)
            recalled = ((gap >= window) & (gap < window + memory))[None] & valid[:, None, first:end]
            mask = torch.cat([mask, repeat(recalled, "b i j -> b 1 (i l1) (j l2)", l1=L, l2=self.recalled_tokens)],
                             dim=-1)
        return mask

    def _recall(self, cache: KVCache | None, layer: int, k_all: Tensor, v_all: Tensor, L: int, steps: range,
                start: int) -> tuple[Tensor, Tensor]:
        """Pooled keys and values of ``steps``: those before ``start`` from the cache's memory (which ends
        at ``start``), the rest pooled from ``k_all`` and ``v_all`` (``L`` tokens a step, from ``start`` on)."""
        first, end = steps.start, steps.stop
        parts = []
        if first < start:  # in a rollout, every recalled step comes from the cache's memory
            Lp = self.recalled_tokens
            held = cache.mem_keys[layer].shape[2] // Lp  # steps in the memory, the last one just before `start`
            cut = slice((first - start + held) * Lp, None)
            parts.append((cache.mem_keys[layer][:, :, cut], cache.mem_values[layer][:, :, cut]))
        a = max(first, start)
        if end > a:
            rows = slice((a - start) * L, (end - start) * L)
            parts.append((self._pooled(k_all[:, :, rows], end - a), self._pooled(v_all[:, :, rows], end - a)))
        return torch.cat([p[0] for p in parts], dim=2), torch.cat([p[1] for p in parts], dim=2)

    def _commit(self, cache: KVCache, layer: int, k_all: Tensor, v_all: Tensor, L: int) -> None:
        """Keep the last ``window - 1`` steps whole and pool the ones that leave them into the memory (its
        last ``memory`` steps kept), each left-padded to a fixed size."""
        keep = (cache.window - 1) * L
        leaving = max(0, k_all.shape[2] - keep)
        for name, t in (("keys", k_all), ("values", v_all)):
            getattr(cache, name)[layer] = left_pad(t[:, :, leaving:], keep, dim=2)
            if cache.memory:
                Lp = self.recalled_tokens
                kept = getattr(cache, f"mem_{name}")[layer]
                pooled = self._pooled(t[:, :, :leaving], leaving // L)
                recalled = pooled if kept is None else torch.cat([kept, pooled], dim=2)
                getattr(cache, f"mem_{name}")[layer] = left_pad(recalled[:, :, -cache.memory * Lp:],
                                                                cache.memory * Lp, dim=2)


class CrossAttention(nn.Module):
    """Image tokens attend to text tokens (plus a learned null token, always visible)."""

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        self.heads = cfg.heads
        self.q = nn.Linear(cfg.width, cfg.width)
        self.kv = nn.Linear(cfg.text_dim, 2 * cfg.width)
        self.proj = nn.Linear(cfg.width, cfg.width)
        self.null = nn.Parameter(torch.zeros(1, 1, cfg.text_dim))

    def text_kv(self, text: TextCond) -> tuple[Tensor, Tensor, Tensor]:
        B = text.tokens.shape[0]
        tokens = torch.cat([self.null.expand(B, -1, -1), text.tokens], dim=1)  # (B, S+1, text_dim)
        mask = torch.cat([torch.ones(B, 1, dtype=torch.bool, device=tokens.device), text.mask], dim=1)
        k, v = rearrange(self.kv(tokens), "b s (two h d) -> two b h s d", two=2, h=self.heads)
        return k, v, mask  # (B, H, S+1, d) x2, (B, S+1)

    def forward(self, x: Tensor, k: Tensor, v: Tensor, mask: Tensor) -> Tensor:
        B, n, L, D = x.shape
        q = rearrange(self.q(x), "b n l (h d) -> b h (n l) d", h=self.heads)
        out = attention(q, k, v, mask[:, None, None, :])  # (B, H, n*L, d)
        return self.proj(rearrange(out, "b h (n l) d -> b n l (h d)", n=n))


class SideAttention(nn.Module):
    """Image tokens attend to a side set of tokens (the frame sink, the scene layout) at one layer.

    The output projection starts at zero, so adding the layer to a trained model changes nothing
    until it trains.
    """

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        self.heads = cfg.heads
        self.norm = nn.LayerNorm(cfg.width, eps=1e-6)
        self.q = nn.Linear(cfg.width, cfg.width)
        self.kv = nn.Linear(cfg.width, 2 * cfg.width)
        self.proj = nn.Linear(cfg.width, cfg.width)
        self.zero_output()

    def zero_output(self) -> None:
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def attend(self, x: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None) -> Tensor:
        """``x`` (B, n, L, D) attends to keys and values (B, H, K, d), ``mask`` (B, K) True = visible."""
        n = x.shape[1]
        q = rearrange(self.q(self.norm(x)), "b n l (h d) -> b h (n l) d", h=self.heads)
        out = attention(q, k, v, None if mask is None else mask[:, None, None, :])
        return self.proj(rearrange(out, "b h (n l) d -> b n l (h d)", n=n))  # (B, n, L, D)


class SinkAttention(SideAttention):
    """Image tokens attend to the frame sink's tokens at the same layer. The sink carries no temporal
    position: it is a reference, not a step of the window."""

    def sink_kv(self, h: Tensor) -> tuple[Tensor, Tensor]:
        """Keys and values ``(B, H, L, d)`` of the sink's hidden states ``h`` ``(B, 1, L, D)``."""
        k, v = rearrange(self.kv(self.norm(h)), "b 1 l (two h d) -> two b h l d", two=2, h=self.heads)
        return k, v

    def forward(self, x: Tensor, k: Tensor, v: Tensor, first: Tensor) -> Tensor:
        return self.attend(x, k, v) * (~first)[:, :, None, None]  # a first step is the sink: nothing to look at


class LayoutAttention(SideAttention):
    """A first frame's image tokens attend to the scene's layout tokens (plus a learned null token,
    always visible). Steps that have a previous frame skip it."""

    def __init__(self, cfg: DiTConfig):
        super().__init__(cfg)
        self.null = nn.Parameter(torch.zeros(1, 1, cfg.width))

    def forward(self, x: Tensor, tokens: Tensor, mask: Tensor, first: Tensor) -> Tensor:
        """``x`` (B, n, L, D); layout ``tokens`` (B, K, D) with ``mask`` (B, K); ``first`` (B, n)."""
        B = x.shape[0]
        tokens = torch.cat([self.null.expand(B, -1, -1), tokens], dim=1)  # (B, K+1, D)
        mask = torch.cat([torch.ones(B, 1, dtype=torch.bool, device=x.device), mask], dim=1)
        k, v = rearrange(self.kv(tokens), "b k (two h d) -> two b h k d", two=2, h=self.heads)
        return self.attend(x, k, v, mask) * first[:, :, None, None]


# --------------------------------------------------------------------------------------------
#                                         Blocks
# --------------------------------------------------------------------------------------------


def modulate(x: Tensor, shift: Tensor, scale: Tensor) -> Tensor:
    """adaLN: ``x`` (B, n, L, D) with per-step ``shift``/``scale`` (B, n, D)."""
    return x * (1 + scale[:, :, None]) + shift[:, :, None]


class DiTBlock(nn.Module):
    """adaLN-Zero block: self-attention, text cross-attention, MLP."""

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        D = cfg.width
        self.norm1 = nn.LayerNorm(D, elementwise_affine=False, eps=1e-6)
        self.attn = CausalSelfAttention(cfg)
        self.norm2 = nn.LayerNorm(D, eps=1e-6)
        self.cross = CrossAttention(cfg)
        self.norm3 = nn.LayerNorm(D, elementwise_affine=False, eps=1e-6)
        hidden = int(D * cfg.mlp_ratio)
        gelu = nn.GELU(approximate="none" if cfg.exact_gelu else "tanh")
        self.mlp = nn.Sequential(nn.Linear(D, hidden), gelu, nn.Linear(hidden, D))
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(D, 6 * D))
        if cfg.sink:
            self.sink = SinkAttention(cfg)
        if cfg.layout_dim:
            self.layout = LayoutAttention(cfg)

    def forward(self, x: Tensor, c: Tensor, text_kv: tuple[Tensor, Tensor, Tensor],
                cache: KVCache | None, layer: int, commit: bool,
                sink: tuple[Tensor, Tensor, Tensor] | None = None,
                layout: tuple[Tensor, Tensor, Tensor] | None = None) -> Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.ada(c).chunk(6, dim=-1)  # each (B, n, D)
        x = x + gate1[:, :, None] * self.attn(modulate(self.norm1(x), shift1, scale1), cache, layer, commit)
        if sink is not None:  # (k, v, first)
            x = x + self.sink(x, *sink)  # (B, n, L, D)
        x = x + self.cross(self.norm2(x), *text_kv)  # (B, n, L, D)
        if layout is not None:  # (tokens, mask, first)
            x = x + self.layout(x, *layout)
        x = x + gate2[:, :, None] * self.mlp(modulate(self.norm3(x), shift2, scale2))
        return x


class FinalLayer(nn.Module):
    def __init__(self, cfg: DiTConfig):
        super().__init__()
        self.norm = nn.LayerNorm(cfg.width, elementwise_affine=False, eps=1e-6)
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(cfg.width, 2 * cfg.width))
        self.linear = nn.Linear(cfg.width, cfg.patch_dim)

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        shift, scale = self.ada(c).chunk(2, dim=-1)  # (B, n, D) each
        return self.linear(modulate(self.norm(x), shift, scale))  # (B, n, L, P)


# --------------------------------------------------------------------------------------------
#                                          DiT
# --------------------------------------------------------------------------------------------


class SpatialHeads(nn.Module):
    """Reward and termination from a step's tokens in their places: each token is squeezed to a few
    features, the features of all ``L`` tokens are flattened in order, and an MLP reads them, so the
    heads can tell where things are relative to each other.

    ``(B, n, L, D)`` tokens -> ``(B, n, 2)`` (reward, termination logit).
    """

    FEATURES = 8
    HIDDEN = 128

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        self.squeeze = nn.Sequential(nn.LayerNorm(cfg.width), nn.Linear(cfg.width, self.FEATURES))
        self.mlp = nn.Sequential(nn.Linear(cfg.tokens_per_step * self.FEATURES, self.HIDDEN), nn.SiLU(),
                                 nn.Linear(self.HIDDEN, 2))

    def forward(self, h: Tensor) -> Tensor:
        return self.mlp(rearrange(self.squeeze(h), "b n l f -> b n (l f)"))


class DiT(nn.Module):
    """Action- and text-conditioned spacetime-patch DiT with a reward and a termination head."""

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        self.cfg = cfg
        D = cfg.width
        self.patch_embed = nn.Linear(2 * cfg.patch_dim, D)  # noisy patch ++ previous clean patch
        h = cfg.latent_size // cfg.patch[1]
        w = cfg.latent_size // cfg.patch[2]
        self.register_buffer("pos", sincos_2d(h, w, D), persistent=False)  # (L, D)
        self.noise_embed = NoiseLevelEmbedder(D)
        self.action_embed = nn.Sequential(nn.Linear(cfg.action_dim + 1 + int(cfg.null_action), D), nn.SiLU(),
                                          nn.Linear(D, D))
        self.text_embed = nn.Linear(cfg.text_dim, D)
        if cfg.layout_dim:
            self.layout_embed = nn.Sequential(nn.Linear(cfg.layout_dim, D), nn.SiLU(), nn.Linear(D, D))
        if cfg.change_input:
            self.change_embed = nn.Linear(cfg.patch_dim, D)
        self.blocks = nn.ModuleList(DiTBlock(cfg) for _ in range(cfg.depth))
        self.final = FinalLayer(cfg)
        # reward, termination logit
        self.heads = SpatialHeads(cfg) if cfg.spatial_heads else nn.Sequential(nn.LayerNorm(D), nn.Linear(D, 2))
        self.initialize_weights()

    def initialize_weights(self) -> None:
        """Xavier linears; adaLN gates, the output layer and cross-attention outputs start at zero,
        so every block starts as the identity."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        for block in self.blocks:
            nn.init.zeros_(block.ada[-1].weight)
            nn.init.zeros_(block.ada[-1].bias)
            if block.attn.offset_heads:
                nn.init.zeros_(block.attn.proj_offset.weight)
            nn.init.zeros_(block.cross.proj.weight)
            nn.init.zeros_(block.cross.proj.bias)
        for m in self.modules():
            if isinstance(m, SideAttention):
                m.zero_output()  # the Xavier pass above filled it
        nn.init.zeros_(self.final.ada[-1].weight)
        nn.init.zeros_(self.final.ada[-1].bias)
        nn.init.zeros_(self.final.linear.weight)
        nn.init.zeros_(self.final.linear.bias)
        nn.init.normal_(self.noise_embed.mlp[0].weight, std=0.02)
        nn.init.normal_(self.noise_embed.mlp[2].weight, std=0.02)
        if self.cfg.change_input:
            self._init_change_embed()

    def _init_change_embed(self) -> None:
        """It starts at zero, so the change input starts as a no-op."""
        nn.init.zeros_(self.change_embed.weight)
        nn.init.zeros_(self.change_embed.bias)

    def add_change_input(self) -> None:
        """Give a trained model the change input (``change_input``) for fine-tuning; it starts as a
        no-op, so the model's outputs are unchanged until it trains."""
        if self.cfg.change_input:
            return
        self.cfg.change_input = True
        self.change_embed = nn.Linear(self.cfg.patch_dim, self.cfg.width).to(self.patch_embed.weight.device)
        self._init_change_embed()

    def add_spatial_heads(self) -> None:
        """Replace the pooled reward and termination heads with :class:`SpatialHeads` (fresh weights)
        for fine-tuning; the rest of the model is unchanged."""
        if self.cfg.spatial_heads:
            return
        self.cfg.spatial_heads = True
        self.heads = SpatialHeads(self.cfg).to(self.noise_embed.mlp[0].weight.device)

    def add_layout(self, layout_dim: int) -> None:
        """Give a trained model layout tokens for its first frames (``layout_dim``) for fine-tuning; their
        attention starts as a no-op, so the model's outputs are unchanged until it trains."""
        if self.cfg.layout_dim:
            if self.cfg.layout_dim != layout_dim:
                raise ValueError(f"the model reads {self.cfg.layout_dim} layout features, not {layout_dim}")
            return
        if layout_dim < 1:
            raise ValueError(f"layout_dim must be >= 1, got {layout_dim}")
        self.cfg.layout_dim = layout_dim
        device = self.noise_embed.mlp[0].weight.device
        D = self.cfg.width
        self.layout_embed = nn.Sequential(nn.Linear(layout_dim, D), nn.SiLU(), nn.Linear(D, D)).to(device)
        for block in self.blocks:
            block.layout = LayoutAttention(self.cfg).to(device)

    def add_null_action(self) -> None:
        """Give a trained model the known-action input (``null_action``) for fine-tuning with action
        dropout; its weights start at zero, so the model's outputs are unchanged until it trains."""
        if self.cfg.null_action:
            return
        self.cfg.null_action = True
        old = self.action_embed[0]
        new = nn.Linear(old.in_features + 1, old.out_features).to(old.weight.device)
        with torch.no_grad():
            new.weight.zero_()
            new.weight[:, :-1] = old.weight
            new.bias.copy_(old.bias)
        self.action_embed[0] = new

    def set_window(self, window: int) -> None:
        """Attend to ``window`` steps (a step and the ``window - 1`` before it) from now on; train on
        clips at least that long before rolling out with it."""
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.cfg.window = window
        for block in self.blocks:
            block.attn.window = window

    def set_memory(self, memory: int) -> None:
        """Also attend to the pooled tokens of the ``memory`` steps before the window from now on
        (:attr:`DiTConfig.memory`); train on clips of at least window + memory steps. No new weights:
        the memory's keys and values are the layers' own, averaged."""
        replace(self.cfg, memory=memory)  # DiTConfig's own checks (the bound, the token grid)
        self.cfg.memory = memory
        for block in self.blocks:
            block.attn.memory = memory

    def add_spatial_rope(self) -> None:
        """Rotate a trained model's attention by row and column as well as step (``spatial_rope``)
        from now on. Unlike the other additions this is not a no-op: two slices of every head that
        turned by step turn by row and by column instead, so fine-tune before rolling out."""
        if self.cfg.spatial_rope:
            return
        replace(self.cfg, spatial_rope=True)  # DiTConfig's own checks (the head dim)
        self.cfg.spatial_rope = True
        for block in self.blocks:
            block.attn.spatial = True

    def add_offset_heads(self, n: int) -> None:
        """Give every block ``n`` attention heads more that turn by row and column as well as by step
        (:attr:`DiTConfig.offset_heads`), for fine-tuning; their output starts at zero, so the model's
        outputs are unchanged until it trains."""
        if self.cfg.offset_heads:
            raise ValueError(f"the model already has {self.cfg.offset_heads} offset heads a block")
        replace(self.cfg, offset_heads=n)  # DiTConfig's own checks (the head dim, the count)
        if n == 0:
            return
        self.cfg.offset_heads = n
        for block in self.blocks:
            block.attn.add_offset_heads(n, self.cfg.width // self.cfg.heads)

    def merge_patches(self, k: int) -> None:
        """Let each token cover ``k`` x ``k`` of a trained model's patches from now on (``k**2`` fewer
        tokens a step, so a cheaper step). A merged token's embedding starts as the mean of its
        patches' embeddings, and its output as each of its patches' outputs read from it; the model's
        outputs change, so fine-tune before rolling out."""
        pt, ph, pw = self.cfg.patch
        if k < 1 or self.cfg.latent_size % (k * ph) or self.cfg.latent_size % (k * pw):
            raise ValueError(f"merging {k} x {k} patches of {ph} x {pw} cells does not tile the "
                             f"{self.cfg.latent_size} x {self.cfg.latent_size} latent; pick k that divides "
                             f"{self.cfg.latent_size // max(ph, pw)}")
        if k == 1:
            return
        if self.cfg.spatial_heads:
            raise ValueError("the spatial reward heads read every token in its place and cannot be merged; "
                             "merge patches of a model with the pooled heads")
        replace(self.cfg, patch=(pt, k * ph, k * pw))  # DiTConfig's own checks (a memory's token grid)
        C = self.cfg.latent_channels
        fine = "pt r s c"  # one patch's values, as DiT.patchify lays them out
        merged = "(pt a r b s c)"  # a merged token's: k x k patches, each row of cells a*ph + r

        def spread_inputs(w: Tensor) -> Tensor:  # (D, P) -> (D, k*k*P): the mean of the patches' embeddings
            w = rearrange(w, f"d ({fine}) -> d {fine}", pt=pt, r=ph, s=pw, c=C)
            return repeat(w, f"d {fine} -> d {merged}", a=k, b=k) / k**2

        def spread_outputs(w: Tensor) -> Tensor:  # (P, ...) -> (k*k*P, ...): every patch read as before
            w = rearrange(w, f"({fine}) ... -> {fine} ...", pt=pt, r=ph, s=pw, c=C)
            return repeat(w, f"{fine} ... -> {merged} ...", a=k, b=k)

        def linear(old: nn.Linear, weight: Tensor, bias: Tensor) -> nn.Linear:
            new = nn.Linear(weight.shape[1], weight.shape[0]).to(old.weight.device, old.weight.dtype)
            with torch.no_grad():
                new.weight.copy_(weight)
                new.bias.copy_(bias)
            return new

        with torch.no_grad():
            noisy, prev = self.patch_embed.weight.chunk(2, dim=1)
            merged_embed = torch.cat([spread_inputs(noisy), spread_inputs(prev)], 1)
            self.patch_embed = linear(self.patch_embed, merged_embed, self.patch_embed.bias)
            if self.cfg.change_input:
                self.change_embed = linear(self.change_embed, spread_inputs(self.change_embed.weight),
                                           self.change_embed.bias)
            out = self.final.linear
            self.final.linear = linear(out, spread_outputs(out.weight), spread_outputs(out.bias))
        self.cfg.patch = (pt, k * ph, k * pw)
        h, w = token_grid(self.cfg)
        self.pos = sincos_2d(h, w, self.cfg.width).to(self.pos.device, self.pos.dtype)
        for block in self.blocks:
            block.attn.tokens = (h, w)

    def add_sink(self) -> None:
        """Give a trained model the frame sink (``sink``) for fine-tuning; its attention starts as a
        no-op, so the model's outputs are unchanged until it trains."""
        if self.cfg.sink:
            return
        self.cfg.sink = True
        device = self.noise_embed.mlp[0].weight.device
        for block in self.blocks:
            block.sink = SinkAttention(self.cfg).to(device)

    # -- patches --

    def patchify(self, x: Tensor) -> Tensor:
        """Latents ``(B, n*pt, C, h, w)`` -> tokens ``(B, n, L, P)``."""
        pt, ph, pw = self.cfg.patch
        return rearrange(x, "b (n pt) c (h ph) (w pw) -> b n (h w) (pt ph pw c)", pt=pt, ph=ph, pw=pw)

    def unpatchify(self, t: Tensor) -> Tensor:
        """Tokens ``(B, n, L, P)`` -> latents ``(B, n*pt, C, h, w)``."""
        pt, ph, pw = self.cfg.patch
        h = self.cfg.latent_size // ph
        return rearrange(t, "b n (h w) (pt ph pw c) -> b (n pt) c (h ph) (w pw)", h=h, pt=pt, ph=ph, pw=pw)

    # -- conditioning --

    def condition(self, sigma: Tensor, action: Tensor, first: Tensor, text: TextCond,
                  action_known: Tensor | None = None) -> Tensor:
        """Per-step conditioning vector ``(B, n, D)`` from noise level, action and pooled text (and
        whether the action is known, with ``null_action``)."""
        a = torch.cat([action, first[..., None].to(action.dtype)], dim=-1)  # (B, n, A+1)
        if self.cfg.null_action:
            known = torch.ones_like(first) if action_known is None else action_known
            known = known[..., None].to(action.dtype)  # (B, n, 1)
            a = torch.cat([a[..., :-1] * known, a[..., -1:], known], dim=-1)  # (B, n, A+2)
        return self.noise_embed(sigma) + self.action_embed(a) + self.text_embed(text.pooled)[:, None]  # (B, n, D)

    def text_kv(self, text: TextCond) -> list[tuple[Tensor, Tensor, Tensor]]:
        """Cross-attention keys, values and mask per layer; constant over a rollout, so cacheable."""
        return [block.cross.text_kv(text) for block in self.blocks]

    def sink_kv(self, sink: Tensor, sigma: Tensor, text: TextCond,
                text_kv: list[tuple[Tensor, Tensor, Tensor]] | None = None) -> list[tuple[Tensor, Tensor]]:
        """Sink keys and values per layer; constant over a rollout, so cacheable.

        Args:
            sink: The episode's first latent ``(B, pt, C, h, w)``, noised to level ``sigma`` ``(B, 1)``.
            text: Text conditioning for the batch.
            text_kv: Its cross-attention keys, values and mask (:meth:`text_kv`), when already computed.

        The sink runs through the blocks as a first step on its own; each layer's sink attention reads
        the sink's hidden states at that layer's input.
        """
        if not self.cfg.sink:
            raise ValueError("this model has no frame sink (DiTConfig.sink is False)")
        B = sink.shape[0]
        first = torch.ones(B, 1, dtype=torch.bool, device=sink.device)
        action = torch.zeros(B, 1, self.cfg.action_dim, device=sink.device)
        tokens = self.patchify(sink)  # (B, 1, L, P)
        h = self.patch_embed(torch.cat([tokens, torch.zeros_like(tokens)], -1)) + self.pos  # no previous frame
        c = self.condition(sigma, action, first, text)  # (B, 1, D)
        text_kv = text_kv if text_kv is not None else self.text_kv(text)
        kvs = []
        for i, block in enumerate(self.blocks):
            kvs.append(block.sink.sink_kv(h))
            if i + 1 < len(self.blocks):
                h = block(h, c, text_kv[i], None, i, False)  # (B, 1, L, D)
        return kvs

    def prime_sink(self, cache: KVCache, sink: Tensor, sigma: Tensor, text: TextCond) -> None:
        """Write the sink's keys and values into ``cache`` (see :meth:`sink_kv`), reusing the text keys
        and values it holds."""
        text_kv = [(k, v, cache.text_mask) for k, v in cache.text_kv] if cache.text_kv is not None else None
        cache.sink_kv = self.sink_kv(sink, sigma, text, text_kv)

    # -- forward --

    def forward(
        self,
        x: Tensor,
        prev: Tensor,
        sigma: Tensor,
        action: Tensor,
        first: Tensor,
        text: TextCond,
        cache: KVCache | None = None,
        commit: bool = False,
        sink: Tensor | None = None,
        sink_sigma: Tensor | None = None,
        action_known: Tensor | None = None,
        prev_change: Tensor | None = None,
    ) -> DiTOutput:
        """Predict the flow-matching velocity of ``n`` new steps.

        Args:
            x: Noisy targets ``(B, n*pt, C, h, w)`` at per-step noise levels ``sigma``: latents, or
                their change from ``prev`` when ``residual_scale`` is set (:func:`worldsim.diffusion.to_target`).
            prev: Clean latents of each step's predecessor, same shape as ``x`` (zeros where
                ``first``).
            sigma: Noise level per step ``(B, n)`` in [0, 1]; 0 is clean, 1 is pure noise.
            action: Action that led into each step ``(B, n, action_dim)`` (zeros where ``first``).
            first: ``(B, n)`` bool, True for a step with no predecessor (an episode's first frame).
            text: Text conditioning for the batch.
            cache: Committed past steps to attend to. ``None`` attends within ``x`` only.
            commit: Append these steps' keys and values to ``cache`` (rolling the window).
            sink: For ``sink`` models, the episode's first latent ``(B, pt, C, h, w)`` noised to
                ``sink_sigma`` ``(B, 1)``; not needed when ``cache`` holds the sink
                (:meth:`prime_sink`) or when every step is a first step. Other models ignore it.
            action_known: ``(B, n)`` bool, False for a step whose action is unknown (``null_action``
                models; default all known).
            prev_change: ``change_input`` models: each step's ``prev`` minus the latent before it,
                same shape as ``x`` (default zeros: no motion known). Other models ignore it.

        Returns:
            :class:`DiTOutput` with the velocity ``eps - x0`` and the reward/termination heads.
        """
        self._check_inputs(x, prev, sigma, action, first)
        if action_known is not None:
            if not self.cfg.null_action:
                raise ValueError("this model has no unknown-action input; fine-tune it with --null-action "
                                 "and --flow.action-dropout first")
            if action_known.shape != first.shape or action_known.dtype != torch.bool:
                raise ValueError(f"action_known must be bool {tuple(first.shape)}, got {action_known.dtype} "
                                 f"{tuple(action_known.shape)}")
        tokens = torch.cat([self.patchify(x), self.patchify(prev)], dim=-1)  # (B, n, L, 2P)
        h = self.patch_embed(tokens) + self.pos  # (B, n, L, D)
        if self.cfg.change_input and prev_change is not None:  # absent: zeros, which the embedder maps to 0 + bias
            if prev_change.shape != x.shape:
                raise ValueError(f"prev_change has shape {tuple(prev_change.shape)}, expected x's {tuple(x.shape)}")
            h = h + self.change_embed(self.patchify(prev_change))
        elif self.cfg.change_input:
            h = h + self.change_embed.bias
        c = self.condition(sigma, action, first, text, action_known)  # (B, n, D)
        if cache is not None and cache.text_kv is not None:
            text_kv = [(k, v, cache.text_mask) for k, v in cache.text_kv]
        else:
            text_kv = self.text_kv(text)
        sink_kv = self._sink_kv(first, text, text_kv, cache, sink, sink_sigma)
        layout = self._layout(text, first)
        for i, block in enumerate(self.blocks):
            h = block(h, c, text_kv[i], cache, i, commit,
                      None if sink_kv is None else (*sink_kv[i], first), layout)  # (B, n, L, D)
        if commit and cache is not None:
            keep = cache.span
            new_valid = torch.ones(x.shape[0], min(sigma.shape[1], keep), dtype=torch.bool, device=x.device)
            old = max(0, cache.steps - (keep - new_valid.shape[1]))  # the oldest ones drop out
            valid = new_valid if cache.valid is None else torch.cat([cache.valid[:, old:], new_valid], dim=1)
            cache.valid = left_pad(valid, keep, dim=1)
        velocity = self.unpatchify(self.final(h, c))  # (B, n*pt, C, h, w)
        heads = self.heads(h if self.cfg.spatial_heads else h.mean(dim=2))  # (B, n, 2)
        return DiTOutput(velocity, heads[..., 0], heads[..., 1])

    def _layout(self, text: TextCond, first: Tensor) -> tuple[Tensor, Tensor, Tensor] | None:
        """Embedded layout tokens, their mask and ``first``, when this model reads a layout, the text
        carries one and some step is a first step; else None (the layout layers are skipped)."""
        if not self.cfg.layout_dim or text.layout is None or not bool(first.any()):
            return None
        if text.layout.shape[-1] != self.cfg.layout_dim or text.layout.shape[0] != first.shape[0]:
            raise ValueError(f"layout has shape {tuple(text.layout.shape)}, expected ({first.shape[0]}, K, "
                             f"{self.cfg.layout_dim})")
        mask = text.layout.abs().sum(-1) > 0  # (B, K)
        return self.layout_embed(text.layout), mask, first

    def _sink_kv(self, first: Tensor, text: TextCond, text_kv: list[tuple[Tensor, Tensor, Tensor]],
                 cache: KVCache | None, sink: Tensor | None,
                 sink_sigma: Tensor | None) -> list[tuple[Tensor, Tensor]] | None:
        if not self.cfg.sink:
            return None
        if cache is not None and cache.sink_kv is not None:
            return cache.sink_kv
        if sink is not None:
            if sink_sigma is None:
                raise ValueError("pass sink_sigma, the noise level (B, 1) of the sink latent")
            return self.sink_kv(sink, sink_sigma, text, text_kv)
        if bool(first.all()):
            return None  # first steps do not look at a sink
        raise ValueError("this model attends to a frame sink: pass sink= (the episode's first latent) "
                         "or a cache primed with DiT.prime_sink")

    def new_cache(self, text: TextCond | None = None, window: int | None = None) -> KVCache:
        """An empty cache for a rollout of window ``window`` (default: the trained window), with the
        text keys/values precomputed when ``text`` is given."""
        cache = KVCache(window=window or self.cfg.window, memory=self.cfg.memory, keys=[None] * self.cfg.depth,
                        values=[None] * self.cfg.depth, mem_keys=[None] * self.cfg.depth,
                        mem_values=[None] * self.cfg.depth)
        if text is not None:
            kvm = self.text_kv(text)
            cache.text_kv = [(k, v) for k, v, _ in kvm]
            cache.text_mask = kvm[0][2]
        return cache

    def _check_inputs(self, x: Tensor, prev: Tensor, sigma: Tensor, action: Tensor, first: Tensor) -> None:
        cfg = self.cfg
        B, T = x.shape[:2]
        n = T // cfg.patch[0]
        expected = (cfg.latent_channels, cfg.latent_size, cfg.latent_size)
        if tuple(x.shape[2:]) != expected or T % cfg.patch[0]:
            raise ValueError(f"x has shape {tuple(x.shape)}, expected (B, n*{cfg.patch[0]}, *{expected})")
        if prev.shape != x.shape:
            raise ValueError(f"prev has shape {tuple(prev.shape)}, expected x's shape {tuple(x.shape)}")
        if sigma.shape != (B, n) or first.shape != (B, n):
            raise ValueError(f"sigma {tuple(sigma.shape)} and first {tuple(first.shape)} must be (B, n)=({B}, {n})")
        if action.shape != (B, n, cfg.action_dim):
            raise ValueError(f"action has shape {tuple(action.shape)}, expected ({B}, {n}, {cfg.action_dim})")


# --------------------------------------------------------------------------------------------
#                                         Presets
# --------------------------------------------------------------------------------------------


def DiT_XS(**kw) -> DiT:
    """2 blocks, width 64: tests and smoke runs."""
    return DiT(DiTConfig(depth=2, width=64, heads=4, **kw))


def DiT_S(**kw) -> DiT:
    """4 blocks, width 192: trains on a CPU in hours; the shipped model."""
    return DiT(DiTConfig(depth=4, width=192, heads=6, **kw))


def DiT_B(**kw) -> DiT:
    """8 blocks, width 384: for a GPU."""
    return DiT(DiTConfig(depth=8, width=384, heads=6, **kw))


MODELS = {"XS": DiT_XS, "S": DiT_S, "B": DiT_B}
