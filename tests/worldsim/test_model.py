"""Invariants of the DiT: identity at init, causality, windowing, cache equivalence, shapes."""

import pytest
import torch

from worldsim.diffusion import from_target, to_target
from worldsim.model import MODELS, DiT, DiTBlock, DiTConfig, TextCond, attention, rope, rope_tables

from .helpers import random_inputs, random_text, tiny_dit


def test_zero_initialised_block_is_identity():
    cfg = DiTConfig(latent_channels=4, latent_size=8, width=32, depth=1, heads=2, text_dim=16)
    dit = DiT(cfg)  # the real initialisation: adaLN gates and cross-attention outputs start at zero
    block: DiTBlock = dit.blocks[0]
    x = torch.randn(2, 3, 16, 32)  # (B, n, L, D)
    c = torch.randn(2, 3, 32)  # (B, n, D)
    out = block(x, c, dit.blocks[0].cross.text_kv(random_text(2)), None, 0, False)
    torch.testing.assert_close(out, x)


def test_fresh_model_predicts_zero_velocity():
    dit = DiT(DiTConfig(latent_channels=4, latent_size=8, width=32, depth=2, heads=2, text_dim=16))
    out = dit(*random_inputs(dit), random_text(2))
    assert out.velocity.abs().max() == 0


def test_frame_does_not_see_future_frames():
    dit = tiny_dit(window=8)
    x, prev, sigma, action, first = random_inputs(dit, steps=4)
    text = random_text(2)
    base = dit(x, prev, sigma, action, first, text)
    x2, prev2, action2 = x.clone(), prev.clone(), action.clone()
    x2[:, 2:] += 1.0
    prev2[:, 2:] -= 1.0
    action2[:, 2:] = 5.0
    changed = dit(x2, prev2, sigma, action2, first, text)
    torch.testing.assert_close(changed.velocity[:, :2], base.velocity[:, :2])
    torch.testing.assert_close(changed.reward[:, :2], base.reward[:, :2])
    assert not torch.allclose(changed.velocity[:, 2:], base.velocity[:, 2:])


def test_window_bounds_attention():
    dit = tiny_dit(window=2, depth=1)  # one layer: step t sees steps t-1 and t only
    x, prev, sigma, action, first = random_inputs(dit, steps=4)
    text = random_text(2)
    base = dit(x, prev, sigma, action, first, text)
    x2 = x.clone()
    x2[:, 0] += 3.0
    changed = dit(x2, prev, sigma, action, first, text)
    torch.testing.assert_close(changed.velocity[:, 2:], base.velocity[:, 2:])
    assert not torch.allclose(changed.velocity[:, 1], base.velocity[:, 1])


def test_memory_recalls_the_steps_before_the_window_and_no_older_ones():
    dit = tiny_dit(window=2, depth=1, memory=2)  # one layer: step t sees t-1 whole, t-3 and t-2 pooled
    x, prev, sigma, action, first = random_inputs(dit, steps=6)
    text = random_text(2)
    base = dit(x, prev, sigma, action, first, text)
    x2 = x.clone()
    x2[:, 0] += 3.0
    changed = dit(x2, prev, sigma, action, first, text)
    differs = [not torch.allclose(changed.velocity[:, t], base.velocity[:, t]) for t in range(6)]
    assert differs == [True, True, True, True, False, False]
    with pytest.raises(ValueError, match="memory_pool"):
        tiny_dit(memory=2, memory_pool=3)  # a 4 x 4 token grid
    with pytest.raises(ValueError, match="memory must be"):
        dit.set_memory(-1)


def test_merged_patches_pool_the_memory_over_the_merged_grid():
    dit = tiny_dit(width=48, heads=2, spatial_rope=True, memory=2)  # 4 x 4 tokens
    dit.merge_patches(2)  # 2 x 2 tokens, pooled into one memory token a step
    merged = tiny_dit(width=48, heads=2, spatial_rope=True, memory=2, patch=(1, 4, 4))
    merged.load_state_dict(dit.state_dict())
    inputs, text = random_inputs(dit, steps=6), random_text(2)
    torch.testing.assert_close(dit(*inputs, text).velocity, merged(*inputs, text).velocity)
    with pytest.raises(ValueError, match="memory_pool"):
        tiny_dit(memory=2, memory_pool=2).merge_patches(4)  # a 1 x 1 grid


def test_memory_tokens_average_squares_of_each_steps_token_grid():
    attn = tiny_dit(memory=2).blocks[0].attn  # a 4 x 4 token grid, pooled 2 x 2
    keys = torch.arange(2 * 16, dtype=torch.float32).reshape(1, 1, 2 * 16, 1)  # two steps, row-major tokens
    pooled = attn._pooled(keys, steps=2)[0, 0, :, 0]
    square = lambda step, r, c: torch.tensor([16 * step + 4 * (r + i) + c + j for i in (0, 1) for j in (0, 1)])
    expected = [square(s, r, c).float().mean() for s in (0, 1) for r in (0, 2) for c in (0, 2)]
    torch.testing.assert_close(pooled, torch.stack(expected))


def test_frame_sink_reaches_past_the_window_but_not_first_steps():
    dit = tiny_dit(window=2, depth=1, sink=True)
    x, prev, sigma, action, first = random_inputs(dit, steps=4)
    text, sink_sigma = random_text(2), torch.full((2, 1), 0.02)
    sink = torch.randn(x[:, :1].shape)
    base = dit(x, prev, sigma, action, first, text, sink=sink, sink_sigma=sink_sigma)
    changed = dit(x, prev, sigma, action, first, text, sink=sink + 1.0, sink_sigma=sink_sigma)
    assert not torch.allclose(changed.velocity[:, 3], base.velocity[:, 3])  # beyond the window of 2
    torch.testing.assert_close(changed.velocity[:, 0], base.velocity[:, 0])  # a first step is the sink
    with pytest.raises(ValueError, match="frame sink"):
        dit(x, prev, sigma, action, first, text)
    only_first = dit(x[:, :1], prev[:, :1], sigma[:, :1], action[:, :1], first[:, :1], text)
    torch.testing.assert_close(only_first.velocity, base.velocity[:, :1])


def test_adding_a_sink_to_a_trained_model_changes_nothing_until_it_trains():
    dit = tiny_dit()
    inputs, text = random_inputs(dit), random_text(2)
    before = dit(*inputs, text).velocity
    dit.add_sink()
    sink = torch.randn(inputs[0][:, :1].shape)
    after = dit(*inputs, text, sink=sink, sink_sigma=torch.zeros(2, 1)).velocity
    torch.testing.assert_close(after, before)
    assert dit.cfg.sink and all(hasattr(b, "sink") for b in dit.blocks)


def test_adding_spatial_rope_to_a_trained_model_makes_it_the_spatial_model_with_its_weights():
    dit = tiny_dit(width=48, heads=2)
    inputs, text = random_inputs(dit), random_text(2)
    before = dit(*inputs, text).velocity  # builds the step-only tables, which must not be reused
    dit.add_spatial_rope()
    spatial = tiny_dit(width=48, heads=2, spatial_rope=True)
    spatial.load_state_dict(dit.state_dict())
    after = dit(*inputs, text).velocity
    torch.testing.assert_close(after, spatial(*inputs, text).velocity)
    assert dit.cfg.spatial_rope and not torch.allclose(after, before)
    with pytest.raises(ValueError, match="head dim of at least 6"):
        tiny_dit(width=8, heads=2).add_spatial_rope()


@pytest.mark.parametrize("spatial_rope", [False, True])
def test_merged_patches_embed_the_mean_of_their_patches_and_read_each_patch_as_before(spatial_rope):
    dit = tiny_dit(width=48, heads=2, spatial_rope=spatial_rope, change_input=True)  # 2x2 cells: 16 tokens
    x = torch.randn(2, 1, 4, 8, 8)
    fine_in = dit.patch_embed(torch.cat([dit.patchify(x), dit.patchify(-x)], -1))  # (B, 1, 16, D)
    fine_change = dit.change_embed(dit.patchify(x))
    h = torch.randn(2, 1, 4, 48)  # one merged token's features per 2 x 2 patches
    spread = h.reshape(2, 1, 2, 2, 48).repeat_interleave(2, 2).repeat_interleave(2, 3).reshape(2, 1, 16, 48)
    fine_out = dit.unpatchify(dit.final.linear(spread))
    dit.merge_patches(2)
    assert dit.cfg.patch == (1, 4, 4) and dit.cfg.tokens_per_step == 4
    by_token = lambda t: t.reshape(2, 1, 2, 2, 2, 2, -1).permute(0, 1, 2, 4, 3, 5, 6).reshape(2, 1, 4, 4, -1)
    merged_in = dit.patch_embed(torch.cat([dit.patchify(x), dit.patchify(-x)], -1))
    torch.testing.assert_close(merged_in, by_token(fine_in).mean(3))
    torch.testing.assert_close(dit.change_embed(dit.patchify(x)), by_token(fine_change).mean(3))
    torch.testing.assert_close(dit.unpatchify(dit.final.linear(h)), fine_out)
    merged = tiny_dit(width=48, heads=2, spatial_rope=spatial_rope, change_input=True, patch=(1, 4, 4))
    merged.load_state_dict(dit.state_dict())
    inputs, text = random_inputs(dit), random_text(2)
    torch.testing.assert_close(dit(*inputs, text).velocity, merged(*inputs, text).velocity)
    with pytest.raises(ValueError, match="does not tile"):
        dit.merge_patches(3)


@pytest.mark.parametrize("spatial_rope, memory, chunks", [(False, 0, [1] * 6), (True, 0, [1] * 6), (False, 2, [1] * 8),
                                                           (True, 2, [1] * 8), (True, 2, [2, 1, 4, 1])])
def test_kv_cache_matches_full_forward(spatial_rope, memory, chunks):
    """Steps committed one at a time, or several at once (a context), attend as in one full pass."""
    dit = tiny_dit(window=3, spatial_rope=spatial_rope, memory=memory)
    steps = sum(chunks)
    x, prev, sigma, action, first = random_inputs(dit, steps=steps)
    text = random_text(2)
    full = dit(x, prev, sigma, action, first, text)
    cache = dit.new_cache(text)
    starts = [sum(chunks[:i]) for i in range(len(chunks))]
    outs = [dit(x[:, t:t + c], prev[:, t:t + c], sigma[:, t:t + c], action[:, t:t + c], first[:, t:t + c],
                text, cache=cache, commit=True).velocity for t, c in zip(starts, chunks)]
    torch.testing.assert_close(torch.cat(outs, 1), full.velocity, atol=1e-5, rtol=1e-4)
    assert cache.steps == 2 + memory  # window - 1 steps kept, and the memory's


@pytest.mark.parametrize("spatial_rope, memory", [(False, 0), (True, 0), (False, 2), (True, 2)])
def test_rollout_passes_that_reuse_the_rotated_cache_equal_the_general_ones(spatial_rope, memory, monkeypatch):
    """Without gradients, the passes between two commits rotate the cached keys once; every pass (each
    sampling move at its own noise, then the commit) gives exactly what the general path gives."""
    from worldsim.model import CausalSelfAttention

    dit = tiny_dit(window=3, spatial_rope=spatial_rope, memory=memory).eval()
    x, prev, sigma, action, first = random_inputs(dit, steps=9)
    text = random_text(2)

    def roll(gradients: bool) -> list[torch.Tensor]:  # with gradients every pass takes the general path
        cache, outs = dit.new_cache(text), []
        with torch.set_grad_enabled(gradients):
            for t in range(9):
                step = (prev[:, t:t + 1], sigma[:, t:t + 1], action[:, t:t + 1], first[:, t:t + 1], text)
                for move in (1.0, 0.5):  # two sampling moves, then the commit
                    outs.append(dit(x[:, t:t + 1] * move, *step[:1], step[1] * move, *step[2:], cache=cache).velocity)
                outs.append(dit(x[:, t:t + 1], *step, cache=cache, commit=True).velocity)
        return [o.detach() for o in outs]

    held, used = CausalSelfAttention._held, []
    monkeypatch.setattr(CausalSelfAttention, "_held", lambda *a: used.append(1) or held(*a))
    reused = roll(gradients=False)
    passes = len(used)
    assert passes >= len(reused) * dit.cfg.depth // 2  # once the cache is full, every pass of every layer
    general = roll(gradients=True)
    assert len(used) == passes
    for a, b in zip(reused, general, strict=True):
        assert torch.equal(a, b)


def test_the_cache_keeps_one_shape_from_the_first_commit_so_a_compiled_pass_is_reused():
    dit = tiny_dit(window=4).eval()
    x, prev, sigma, action, first = random_inputs(dit, steps=8)
    text = random_text(2)
    cache = dit.new_cache(text)
    net = torch.compile(dit, backend="eager")  # dynamo's guards without a compiler
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    shapes = set()
    with torch.no_grad():
        for t in range(8):
            step = (x[:, t:t + 1], prev[:, t:t + 1], sigma[:, t:t + 1], action[:, t:t + 1], first[:, t:t + 1])
            net(*step, text, cache=cache)  # a sampling pass
            net(*step, text, cache=cache, commit=True)
            shapes.add((tuple(cache.keys[0].shape), tuple(cache.valid.shape), cache.valid.is_contiguous()))
    assert shapes == {((2, dit.cfg.heads, 3 * dit.cfg.tokens_per_step, dit.cfg.width // dit.cfg.heads), (2, 3), True)}
    assert cache.valid[:, 0].all()  # full after window - 1 commits
    # the empty cache's first pass and its commit, then one graph for every later sampling pass and commit
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] <= 4


def _scores_in_every_place(attn, q: torch.Tensor, k: torch.Tensor) -> list[torch.Tensor]:
    """One query and key (head dim 24) put in every place of a 4x4 grid of one step: their scores ``(L, L)``
    under each group of ``attn``'s heads."""
    L = 16
    return [rope(q.expand(1, 1, L, 24), t)[0, 0] @ rope(k.expand(1, 1, L, 24), t)[0, 0].T
            for t in attn._tables(1, L, 24, q.device)]


def test_spatial_rope_scores_depend_on_the_offset_between_tokens_not_their_place():
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(2, 24, generator=g)
    # head dim 24: 8 channels by step, 8 by row, 8 by column
    (by_place,) = _scores_in_every_place(tiny_dit(spatial_rope=True, width=48, heads=2).blocks[0].attn, q, k)
    at = lambda r, c: r * 4 + c  # noqa: E731
    torch.testing.assert_close(by_place[at(0, 0), at(1, 2)], by_place[at(2, 1), at(3, 3)])  # offset (1, 2) twice
    assert not torch.isclose(by_place[at(0, 0), at(1, 2)], by_place[at(0, 0), at(2, 1)])  # another offset
    # temporal RoPE only: every place alike
    (plain,) = _scores_in_every_place(tiny_dit(width=48, heads=2).blocks[0].attn, q, k)
    torch.testing.assert_close(plain, plain[0, 0].expand_as(plain))
    with pytest.raises(ValueError, match="head dim of at least 6"):
        DiTConfig(width=8, heads=2, spatial_rope=True)


def test_rope_tables_rotate_each_slice_by_its_own_position():
    x = torch.randn(1, 1, 3, 8)
    pos = [torch.tensor([0, 1, 2]), torch.tensor([5, 0, 7])]
    out = rope(x, rope_tables(pos, [4, 4], 100.0))
    for p, sl in zip(pos, (slice(0, 4), slice(4, 8)), strict=True):
        angle = p.float()[:, None] * 100.0 ** (-torch.arange(0, 4, 2).float() / 4)  # (3, 2)
        a, b = x[0, 0, :, sl][:, :2], x[0, 0, :, sl][:, 2:]  # each channel and its partner
        want = torch.cat([a * angle.cos() - b * angle.sin(), a * angle.sin() + b * angle.cos()], -1)
        torch.testing.assert_close(out[0, 0, :, sl], want)
    torch.testing.assert_close(out.norm(dim=-1), x.norm(dim=-1))  # a rotation keeps lengths


def test_text_changes_output_and_empty_text_is_finite():
    dit = tiny_dit()
    inputs = random_inputs(dit)
    a = dit(*inputs, random_text(2)).velocity
    b = dit(*inputs, TextCond.empty(2, 16)).velocity
    assert torch.isfinite(b).all()
    assert not torch.allclose(a, b)


def test_action_changes_prediction():
    dit = tiny_dit()
    x, prev, sigma, action, first = random_inputs(dit)
    text = random_text(2)
    a = dit(x, prev, sigma, action, first, text).velocity
    b = dit(x, prev, sigma, action + 1.0, first, text).velocity
    assert not torch.allclose(a[:, 1:], b[:, 1:])


def test_temporal_patch_groups_frames_into_steps():
    dit = tiny_dit(patch=(2, 2, 2))
    x, prev, sigma, action, first = random_inputs(dit, steps=3)  # 6 latent frames, 3 steps
    out = dit(x, prev, sigma, action, first, random_text(2))
    assert out.velocity.shape == x.shape and out.reward.shape == (2, 3)


def test_bad_shapes_give_clear_errors():
    dit = tiny_dit()
    x, prev, sigma, action, first = random_inputs(dit)
    with pytest.raises(ValueError, match="action has shape"):
        dit(x, prev, sigma, action[..., :1], first, random_text(2))
    with pytest.raises(ValueError, match="x has shape"):
        dit(x[:, :, :2], prev, sigma, action, first, random_text(2))


def test_presets_build():
    for name, factory in MODELS.items():
        model = factory(action_dim=2)
        assert model.cfg.action_dim == 2, name


def test_residual_target_round_trips_and_keeps_first_steps_as_latents():
    dit = tiny_dit(residual_scale=0.25)
    _, prev, _, _, first = random_inputs(dit, steps=3)
    z = torch.randn_like(prev)
    y = to_target(dit, z, prev, first)
    torch.testing.assert_close(from_target(dit, y, prev, first), z)
    torch.testing.assert_close(y[:, 0], z[:, 0])  # an episode's first step has no predecessor
    torch.testing.assert_close(y[:, 1:], (z[:, 1:] - prev[:, 1:]) / 0.25)
    assert to_target(dit, prev, prev, first)[:, 1:].abs().max() == 0  # nothing moved is the exact zero


def test_autoencoder_round_trip_keeps_the_frames_shape_and_matches_encode_decode():
    import numpy as np

    from .helpers import tiny_world_model

    ae = tiny_world_model().autoencoder
    frames = np.random.default_rng(0).integers(0, 256, (2, 3, 32, 32, 3), dtype=np.uint8)
    out = ae.round_trip(frames)
    assert out.shape == frames.shape and out.dtype == np.uint8
    with torch.no_grad():
        np.testing.assert_array_equal(out, ae.decode(ae.encode(torch.from_numpy(frames))).numpy())
    assert ae.round_trip(frames[0, 0]).shape == (32, 32, 3)  # one frame, no leading axes


def test_unknown_action_input_starts_as_a_no_op_then_tells_known_from_unknown():
    dit = tiny_dit()
    inputs, text = random_inputs(dit), random_text(2)
    x, prev, sigma, action, first = inputs
    before = dit(*inputs, text).velocity
    dit.add_null_action()  # a trained model gains the input for fine-tuning
    assert dit.cfg.null_action
    unknown = torch.zeros_like(first)
    zero_actions = dit(x, prev, sigma, torch.zeros_like(action), first, text).velocity
    torch.testing.assert_close(dit(*inputs, text).velocity, before)
    torch.testing.assert_close(dit(*inputs, text, action_known=unknown).velocity, zero_actions)  # values hidden
    with torch.no_grad():
        dit.action_embed[0].weight[:, -1].normal_(0, 0.1)  # as after training with action dropout
    zero_actions = dit(x, prev, sigma, torch.zeros_like(action), first, text).velocity
    assert not torch.allclose(dit(*inputs, text, action_known=unknown).velocity, zero_actions)
    with pytest.raises(ValueError, match="action_known must be bool"):
        dit(*inputs, text, action_known=unknown.float())
    with pytest.raises(ValueError, match="--null-action"):
        tiny_dit()(*inputs, text, action_known=unknown)


def test_change_input_starts_as_a_no_op_then_reads_the_change():
    dit = tiny_dit()
    inputs, text = random_inputs(dit), random_text(2)
    change = torch.randn_like(inputs[0])
    before = dit(*inputs, text).velocity
    dit.add_change_input()  # a trained model gains the input for fine-tuning
    assert dit.cfg.change_input
    torch.testing.assert_close(dit(*inputs, text, prev_change=change).velocity, before)
    with torch.no_grad():
        dit.change_embed.weight.normal_(0, 0.1)  # as after training
    moved = dit(*inputs, text, prev_change=change).velocity
    assert not torch.allclose(moved, before)
    torch.testing.assert_close(dit(*inputs, text).velocity, dit(*inputs, text, prev_change=0 * change).velocity)
    with pytest.raises(ValueError, match="prev_change has shape"):
        dit(*inputs, text, prev_change=change[:, :1])


def test_offset_heads_start_as_a_no_op_then_turn_by_row_and_column():
    dit = tiny_dit(width=48, heads=2)
    inputs, text = random_inputs(dit), random_text(2)
    before = dit(*inputs, text).velocity
    dit.add_offset_heads(2)  # a trained model gains them for fine-tuning
    assert dit.cfg.offset_heads == 2
    attn = dit.blocks[0].attn
    assert attn.groups == ((2, False), (2, True))  # its own heads turn by step alone, the new ones by place too
    torch.testing.assert_close(dit(*inputs, text).velocity, before)
    with torch.no_grad():
        for block in dit.blocks:
            block.attn.proj_offset.weight.normal_(0, 0.1)  # as after training
    assert not torch.allclose(dit(*inputs, text).velocity, before)
    # the new heads' scores depend on the offset between two tokens (a 4x4 grid of one step), the old ones' do not
    q, k = torch.randn(2, 24, generator=torch.Generator().manual_seed(0))
    scores = _scores_in_every_place(attn, q, k)
    torch.testing.assert_close(scores[0], scores[0][0, 0].expand_as(scores[0]))
    assert not torch.allclose(scores[1], scores[1][0, 0].expand_as(scores[1]))
    with pytest.raises(ValueError, match="already has 2 offset heads"):
        dit.add_offset_heads(2)
    with pytest.raises(ValueError, match="offset_heads must be >= 0"):
        DiTConfig(offset_heads=-1)


def test_layout_tokens_start_as_a_no_op_then_shape_only_first_frames():
    dit = tiny_dit()
    inputs, text = random_inputs(dit), random_text(2)
    before = dit(*inputs, text).velocity
    dit.add_layout(6)  # a trained model gains layout tokens for fine-tuning
    layout = torch.randn(2, 3, 6)
    layout[:, 2] = 0.0  # a padding row: no entity
    with_layout = TextCond(text.tokens, text.mask, text.pooled, layout)
    torch.testing.assert_close(dit(*inputs, with_layout).velocity, before)
    with torch.no_grad():
        for block in dit.blocks:
            block.layout.proj.weight.normal_(0, 0.1)  # as after training
    x, prev, sigma, action, first = inputs  # step 0 of each clip is a first step
    assert not torch.allclose(dit(*inputs, with_layout).velocity[:, 0], before[:, 0])
    no_first = (x, prev, sigma, action, torch.zeros_like(first))  # steps with a previous frame skip the layout
    torch.testing.assert_close(dit(*no_first, with_layout).velocity, dit(*no_first, text).velocity)
    dropped = with_layout.drop(torch.tensor([False, True]))
    assert not dropped.layout[0].any() and dropped.layout[1].equal(layout[1])
    with pytest.raises(ValueError, match="layout has shape"):
        dit(*inputs, TextCond(text.tokens, text.mask, text.pooled, torch.randn(2, 3, 5)))
    with pytest.raises(ValueError, match="reads 6 layout features"):
        dit.add_layout(5)


def test_attention_under_cpu_bfloat16_autocast_trains_in_float32_and_returns_bfloat16():
    """A training pass on a CPU under bfloat16 autocast: attention runs in float32 (the CPU's bfloat16
    kernel is slow backwards), hands back bfloat16 like the layers around it, and passes gradients;
    without gradients (a rollout) the bfloat16 kernel runs as it is."""
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, 8, 16) for _ in range(3))
    mask = torch.rand(2, 1, 8, 8) > 0.3
    mask[..., 0] = True  # every query sees at least one key
    exact = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    qb, kb, vb = (t.bfloat16().requires_grad_() for t in (q, k, v))
    seen = []
    real = torch.nn.functional.scaled_dot_product_attention

    def spy(*args, **kwargs):
        seen.append(args[0].dtype)
        return real(*args, **kwargs)

    with torch.autocast("cpu", dtype=torch.bfloat16), pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.nn.functional, "scaled_dot_product_attention", spy)
        out = attention(qb, kb, vb, mask)
        with torch.no_grad():
            attention(qb, kb, vb, mask)
    assert seen == [torch.float32, torch.bfloat16]
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), exact, atol=0.05, rtol=0.05)
    out.float().sum().backward()
    assert all(t.grad is not None and t.grad.dtype == torch.bfloat16 and t.grad.abs().sum() > 0 for t in (qb, kb, vb))


def test_exact_gelu_is_the_same_curve_and_a_checkpoint_without_the_field_keeps_tanh():
    """The exact GELU changes a model's outputs only at float16-rounding level, yet it is a different
    function, so a config written before the field existed loads with the tanh form it was trained with."""
    from worldsim.checkpoint import config_from_dict
    from worldsim.worldmodel import DIT_BOUNDS, RETIRED_DIT_FIELDS

    tanh, exact = tiny_dit(), tiny_dit(exact_gelu=True)
    exact.load_state_dict(tanh.state_dict())
    x, prev, sigma, action, first = random_inputs(tanh)
    text = random_text(x.shape[0])
    a = tanh(x, prev, sigma, action, first, text).velocity
    b = exact(x, prev, sigma, action, first, text).velocity
    assert not torch.equal(a, b)
    torch.testing.assert_close(a, b, atol=2e-3, rtol=2e-3)
    assert isinstance(tanh.blocks[0].mlp[1], torch.nn.GELU) and tanh.blocks[0].mlp[1].approximate == "tanh"
    assert exact.blocks[0].mlp[1].approximate == "none"
    saved = {k: v for k, v in vars(exact.cfg).items() if k != "exact_gelu"}
    saved["patch"] = list(saved["patch"])
    old = config_from_dict(DiTConfig, saved, where="old", bounds=DIT_BOUNDS, retired=RETIRED_DIT_FIELDS)
    assert old.exact_gelu is False
    assert config_from_dict(DiTConfig, {**saved, "exact_gelu": True}, where="new").exact_gelu is True
