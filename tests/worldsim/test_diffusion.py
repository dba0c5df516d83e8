"""The flow objective, schedules and sampler."""

import pytest
import torch

from worldsim.diffusion import (
    Batch,
    FlowConfig,
    FlowSampler,
    SamplerConfig,
    add_noise,
    corrupt_prev,
    distill_loss,
    flow_loss,
    motion_weights,
    sample_noise_levels,
    schedule,
    to_target,
)

from .helpers import random_text, tiny_dit


def test_schedule_shapes_and_monotone():
    full = schedule("full", 4, 3)
    assert full.shape == (5, 3) and torch.all(full[0] == 1) and torch.all(full[-1] == 0)
    ar = schedule("autoregressive", 2, 3)
    assert ar.shape == (7, 3)
    assert torch.all(ar[:3, 1:] == 1) and torch.all(ar[2:, 0] == 0)  # frame 0 first, others still noise
    pyr = schedule("pyramid", 3, 3)
    assert pyr.shape == (6, 3)
    assert torch.all(pyr[:, 0] <= pyr[:, 1]) and torch.all(pyr[:, 1] <= pyr[:, 2])  # later frames noisier
    for m in (full, ar, pyr):
        assert torch.all(m[1:] <= m[:-1])


def test_unknown_schedule_mode_is_an_error():
    with pytest.raises(ValueError, match="unknown schedule mode"):
        schedule("zigzag", 2, 2)


def test_noise_levels_context_prefix_then_targets():
    sigma, is_target = sample_noise_levels(FlowConfig(context_noise=0.1, all_context_prob=0.0), 64, 5,
                                           torch.Generator().manual_seed(0))
    assert torch.all(sigma[~is_target] <= 0.1)
    assert torch.all(is_target[:, -1])  # the last step is a target
    assert torch.all(is_target[:, 1:] >= is_target[:, :-1])  # context is a prefix
    _, is_target = sample_noise_levels(FlowConfig(all_context_prob=0.5), 400, 5, torch.Generator().manual_seed(0))
    whole = ~is_target.any(1)  # clips that are all context: the heads learn their last step too
    assert 0.4 < whole.float().mean() < 0.6


def test_sampler_is_deterministic_under_a_seed():
    dit = tiny_dit()
    text = random_text(1)
    prev = torch.zeros(1, 1, 4, 8, 8)
    action = torch.zeros(1, 1, 2)
    first = torch.ones(1, 1, dtype=torch.bool)
    denoise = lambda x, s: dit(x, prev, s, action, first, text).velocity
    sampler = FlowSampler(SamplerConfig(steps=3))
    runs = [sampler.sample(denoise, torch.randn(1, 1, 4, 8, 8, generator=torch.Generator().manual_seed(7)))
            for _ in range(2)]
    torch.testing.assert_close(runs[0], runs[1], rtol=0, atol=0)


def test_euler_is_exact_for_a_straight_flow():
    x0, eps = torch.randn(2, 3, 4, 8, 8), torch.randn(2, 3, 4, 8, 8)
    denoise = lambda x, s: eps - x0  # the true velocity of the straight path
    for solver in ("euler", "heun"):
        out = FlowSampler(SamplerConfig(steps=2, solver=solver)).sample(denoise, eps)
        torch.testing.assert_close(out, x0)
    torch.testing.assert_close(add_noise(x0, torch.ones(2, 3), eps), eps)


def test_loss_goes_down_on_a_tiny_overfit_set():
    torch.manual_seed(0)
    dit = tiny_dit(randomise=False)
    B, n = 4, 3
    lat = torch.randn(B, n, 4, 8, 8)
    batch = Batch(lat, torch.roll(lat, 1, dims=1), torch.randn(B, n, 2), torch.zeros(B, n, dtype=torch.bool),
                  torch.randn(B, n), torch.zeros(B, n), random_text(B))
    opt = torch.optim.AdamW(dit.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(60):
        out = flow_loss(dit.train(), batch, FlowConfig(all_context_prob=0.0), g)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        losses.append(out.loss.item())
    assert sum(losses[-10:]) / 10 < 0.7 * sum(losses[:10]) / 10


def test_prev_corruption_noises_and_zeroes_first_steps():
    g = torch.Generator().manual_seed(0)
    prev = torch.ones(4, 3, 4, 16, 16)
    first = torch.tensor([[True, False, False], [False, False, False]]).repeat(2, 1)
    clean = corrupt_prev(prev, first, FlowConfig(prev_noise=0.0), g)
    torch.testing.assert_close(clean[~first], prev[~first])
    assert clean[first].abs().sum() == 0  # first steps have no previous frame
    noised = corrupt_prev(prev, first, FlowConfig(prev_noise=0.5), g)
    assert noised[first].abs().sum() == 0
    std = noised[~first].flatten(1).std(1)  # a level per step, uniform in [0, 0.5]
    assert (std <= 0.5 * 1.1).all() and std.max() > 0.1 and len(std.unique()) == len(std)


def test_motion_weights_single_out_cells_that_change():
    prev = torch.zeros(1, 2, 4, 8, 8)
    lat = prev.clone()
    lat[0, :, :, 2, 5] = 0.5  # one cell changes by 0.5 in every channel
    w = motion_weights(lat, prev, torch.tensor([[True, False]]), strength=4.0)
    assert w.shape == (1, 2, 8, 8)
    assert (w[0, 0] == 1).all()  # a first step has nothing to move from
    assert w[0, 1, 2, 5] == pytest.approx(3.0) and (w[0, 1].sum() - w[0, 1, 2, 5]) == pytest.approx(63.0)
    assert (motion_weights(lat, prev, torch.zeros(1, 2, dtype=torch.bool), 0.0) == 1).all()


def test_motion_weight_changes_the_loss_only_where_something_moves():
    dit = tiny_dit(randomise=True)
    B, n = 2, 3
    torch.manual_seed(2)
    lat = torch.randn(B, n, 4, 8, 8)
    action, none_first, text = torch.randn(B, n, 2), torch.zeros(B, n, dtype=torch.bool), random_text(B)
    loss = lambda prev, weight: flow_loss(dit.eval(), Batch(lat, prev, action, none_first, torch.zeros(B, n),
                                                             torch.zeros(B, n), text),
                                          FlowConfig(motion_weight=weight), torch.Generator().manual_seed(0)).flow
    still = lat.clone()  # every step equals its predecessor: all weights are 1
    torch.testing.assert_close(loss(still, 5.0), loss(still, 0.0))
    moving = torch.roll(lat, 1, dims=1)
    assert not torch.isclose(loss(moving, 5.0), loss(moving, 0.0))


def test_action_dropout_hides_a_clips_actions_from_the_model():
    dit = tiny_dit(residual_scale=0.5, null_action=True)
    B, n = 2, 3
    torch.manual_seed(1)
    lat, reward, text = torch.randn(B, n, 4, 8, 8), torch.randn(B, n), random_text(B)
    first = torch.zeros(B, n, dtype=torch.bool)

    def loss(action: torch.Tensor, dropout: float, model=dit) -> torch.Tensor:
        batch = Batch(lat, torch.roll(lat, 1, dims=1), action, first, reward, torch.zeros(B, n), text)
        return flow_loss(model.eval(), batch, FlowConfig(action_dropout=dropout), torch.Generator().manual_seed(0)).flow

    a, b = torch.randn(B, n, 2), torch.randn(B, n, 2)
    torch.testing.assert_close(loss(a, 1.0), loss(b, 1.0))  # every clip's actions unknown: they cannot matter
    assert not torch.isclose(loss(a, 0.0), loss(b, 0.0))
    with pytest.raises(ValueError, match="--null-action"):
        loss(a, 0.5, model=tiny_dit(residual_scale=0.5))


def test_distillation_teaches_one_move_to_land_where_the_teachers_two_moves_land():
    torch.manual_seed(0)
    teacher, student = tiny_dit(residual_scale=0.5).eval(), tiny_dit(residual_scale=0.5)
    student.load_state_dict(teacher.state_dict())
    B, n = 4, 3
    lat = torch.randn(B, n, 4, 8, 8)
    first = torch.zeros(B, n, dtype=torch.bool)
    batch = Batch(lat, torch.roll(lat, 1, dims=1), torch.randn(B, n, 2), first, torch.randn(B, n), torch.zeros(B, n),
                  random_text(B))
    cfg = FlowConfig(text_dropout=0.0)
    seeded = lambda: torch.Generator().manual_seed(0)

    # a student that is its teacher, asked to take the teacher's own moves, is already there
    same = distill_loss(student.eval(), teacher, batch, cfg, student_steps=2, teacher_steps=2, generator=seeded())
    assert same.flow < 1e-10
    with pytest.raises(ValueError, match="split evenly"):
        distill_loss(student, teacher, batch, cfg, student_steps=2, teacher_steps=3)

    def one_move_gap() -> float:  # the student's one move against the teacher's two, from pure noise
        eps = torch.randn(lat.shape, generator=seeded())
        sigma, args = torch.ones(B, n), (batch.prev, batch.action, first, batch.text)
        sigma[:, :-1] = 0.0  # clean context, the last step from pure noise
        start = add_noise(to_target(student, lat, batch.prev, first), sigma, eps)
        with torch.no_grad():
            x = start.clone()
            for s, s_next in ((1.0, 0.5), (0.5, 0.0)):
                level = sigma.clone()
                level[:, -1] = s
                v = teacher(x, args[0], level, *args[1:]).velocity
                x[:, -1] = x[:, -1] + (s_next - s) * v[:, -1]
            x_student = start[:, -1] - student(start, args[0], sigma, *args[1:]).velocity[:, -1]
        return (x_student - x[:, -1]).square().mean().item()

    before = one_move_gap()
    opt = torch.optim.AdamW(student.parameters(), lr=2e-3)
    losses = []
    for _ in range(80):
        out = distill_loss(student.train(), teacher, batch, FlowConfig(text_dropout=0.0, context_noise=0.0), 1, 2,
                           generator=torch.Generator().manual_seed(len(losses)))
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        losses.append(out.flow.item())
    assert sum(losses[-10:]) < 0.5 * sum(losses[:10])
    assert one_move_gap() < 0.5 * before
    assert all(not p.requires_grad or p.grad is None for p in teacher.parameters())


def test_return_weight_adds_loss_only_on_the_cells_in_focus():
    dit = tiny_dit(randomise=True)
    B, n = 2, 3
    torch.manual_seed(3)
    lat = torch.randn(B, n, 4, 8, 8)
    action, none_first, text = torch.randn(B, n, 2), torch.zeros(B, n, dtype=torch.bool), random_text(B)

    def loss(focus, weight):
        batch = Batch(lat, torch.roll(lat, 1, dims=1), action, none_first, torch.zeros(B, n), torch.zeros(B, n),
                      text, focus=focus)
        return flow_loss(dit.eval(), batch, FlowConfig(return_weight=weight), torch.Generator().manual_seed(0)).flow

    nothing = torch.zeros(B, n, 8, 8)
    torch.testing.assert_close(loss(nothing, 50.0), loss(nothing, 0.0))
    some = nothing.clone()
    some[:, -1, 2:5, 2:5] = 1.0  # the last step is always a target
    assert loss(some, 50.0) > loss(some, 0.0)
    with pytest.raises(ValueError, match="focus="):
        loss(None, 1.0)
