"""Self-Forcing: distribution matching on the model's own rollouts (worldsim.self_forcing)."""

import copy
from pathlib import Path

import pytest
import torch

from worldsim.diffusion import Batch
from worldsim.self_forcing import Critic, SelfForcingConfig, dmd_direction, in_target_of, self_forcing_loss
from worldsim.worldmodel import WorldModel

from .helpers import random_text, tiny_dit
from .test_train_e2e import data  # noqa: F401  (the module's collected store)


def _batch(B: int = 2, n: int = 5) -> Batch:
    g = torch.Generator().manual_seed(0)
    lat = torch.randn(B, n, 4, 8, 8, generator=g)
    return Batch(lat, torch.roll(lat, 1, 1), torch.randn(B, n, 2, generator=g), torch.zeros(B, n, dtype=torch.bool),
                 torch.zeros(B, n), torch.zeros(B, n), random_text(B))


def _grads(dit) -> list[torch.Tensor]:
    return [p.grad for p in dit.parameters() if p.grad is not None]


def test_the_direction_is_zero_where_the_scores_agree_and_points_from_real_to_fake():
    y = torch.randn(3, 1, 4, 8, 8)
    x0 = torch.randn_like(y)
    assert dmd_direction(x0, x0, y).abs().max() == 0
    # a fake score whose clean estimate sits further along +1 than the real one's: the direction is +1 everywhere
    away = dmd_direction(x0, x0 + 1.0, y)
    assert (away > 0).all()
    scale = (y - x0).abs().flatten(1).mean(1)
    torch.testing.assert_close(away[:, 0, 0, 0, 0], 1.0 / scale)


def test_targets_convert_between_models_that_denoise_the_change_at_other_scales():
    a, b, plain = tiny_dit(residual_scale=0.5), tiny_dit(residual_scale=0.25), tiny_dit(residual_scale=0.0)
    z, prev = torch.randn(2, 1, 4, 8, 8), torch.randn(2, 1, 4, 8, 8)
    first = torch.tensor([[False], [True]])  # a first step has no previous frame: its target is the latent
    y = (z - prev) / 0.5
    y[1] = z[1]
    converted = in_target_of(a, b, y, prev, first)
    torch.testing.assert_close(converted[0], (z[0] - prev[0]) / 0.25)
    torch.testing.assert_close(converted[1], z[1])
    torch.testing.assert_close(in_target_of(a, plain, y, prev, first), z)
    torch.testing.assert_close(in_target_of(b, a, converted, prev, first), y)
    assert in_target_of(a, a, y, prev, first) is y


def test_a_real_score_with_its_own_target_scores_the_students_frames_in_the_students():
    """A real score that denoises another target than the student's is scored in the student's: a copy of
    the student whose target alone is scaled otherwise no longer agrees with the critic, so the loss is
    not zero (with its own target, a copy gives exactly zero: the test above)."""
    torch.manual_seed(0)
    student = tiny_dit(residual_scale=0.5).train()
    critic = Critic(student, lr=0.0)
    cfg = SelfForcingConfig(rollout_steps=2, sampling_steps=2)
    other = copy.deepcopy(student).eval().requires_grad_(False)
    other.cfg.residual_scale = 0.25
    loss, _ = self_forcing_loss(student, other, critic, _batch(), 2, cfg, torch.Generator().manual_seed(1))
    assert loss.item() > 0


def test_a_student_that_samples_as_the_real_model_gets_no_gradient_until_the_critic_differs():
    """At the start the three networks are one model: the scores agree on every frame, so the student's
    loss is zero and gives no gradient. Once the critic has learnt, it is not, and the gradient reaches
    the student through its last move."""
    torch.manual_seed(0)
    student = tiny_dit(residual_scale=0.5).train()
    real = copy.deepcopy(student).eval().requires_grad_(False)
    critic = Critic(student, lr=0.0)  # a critic that does not move: it stays the real model
    cfg = SelfForcingConfig(rollout_steps=3, sampling_steps=2)
    loss, logs = self_forcing_loss(student, real, critic, _batch(), 2, cfg, torch.Generator().manual_seed(1))
    loss.backward()
    assert loss.item() == 0.0 and logs["critic"] > 0
    assert all(g.abs().max() == 0 for g in _grads(student))

    student.zero_grad()
    critic = Critic(student, lr=1e-2)
    loss, _ = self_forcing_loss(student, real, critic, _batch(), 2, cfg, torch.Generator().manual_seed(1))
    loss.backward()
    assert loss.item() > 0
    assert any(g.abs().max() > 0 for g in _grads(student))
    assert all(p.grad is None for p in real.parameters())


def test_the_critic_learns_where_the_students_frames_lie():
    torch.manual_seed(0)
    student = tiny_dit().train()
    with torch.no_grad():  # a student whose frames are not the noise it starts from
        student.final.linear.weight.normal_(0, 0.2)
    real = copy.deepcopy(student).eval().requires_grad_(False)
    critic = Critic(student, lr=3e-3)
    cfg = SelfForcingConfig(rollout_steps=2, sampling_steps=1)
    batch = _batch(4)
    first = [self_forcing_loss(student, real, critic, batch, 2, cfg, torch.Generator().manual_seed(i))[1]["critic"]
             for i in range(3)]
    for i in range(30):
        self_forcing_loss(student, real, critic, batch, 2, cfg, torch.Generator().manual_seed(i))
    last = [self_forcing_loss(student, real, critic, batch, 2, cfg, torch.Generator().manual_seed(i))[1]["critic"]
            for i in range(3)]
    assert sum(last) < 0.92 * sum(first)  # a flow loss has a floor: the same draws, paired, before and after


def test_clips_too_short_for_the_unroll_are_refused():
    student = tiny_dit()
    with pytest.raises(ValueError, match="cannot hold 2 context steps and the actions of 4 more"):
        self_forcing_loss(student, copy.deepcopy(student), Critic(student, 1e-4), _batch(n=5), 2,
                          SelfForcingConfig(rollout_steps=4))


def test_finetune_with_self_forcing_trains_saves_the_critic_and_resumes_exactly(data, tiny_checkpoint,  # noqa: F811
                                                                               tmp_path):
    from worldsim.finetune import FinetuneConfig, finetune
    from worldsim.self_forcing import CRITIC

    def run(out: str, steps: int, resume: bool = False) -> dict:
        cfg = FinetuneConfig(data=(data,), out=str(tmp_path / out), steps=steps, batch_size=2, save_every=1,
                             context_steps=2, self_forcing_steps=2, sampling_steps=2, critic_lr=1e-3, resume=resume)
        return WorldModel.load(finetune(cfg, Path(tiny_checkpoint))).dit.state_dict()

    straight = run("straight", 2)
    assert (tmp_path / "straight" / CRITIC / "weights.safetensors").is_file()
    start = WorldModel.load(tiny_checkpoint).dit.state_dict()
    assert any(not torch.equal(p, start[n]) for n, p in straight.items())
    run("split", 1)
    resumed = run("split", 2, resume=True)
    assert all(torch.allclose(resumed[n], straight[n], atol=1e-6) for n in straight)
    with pytest.raises(ValueError, match="drop --rollout-steps and --distill-from"):
        finetune(FinetuneConfig(data=(data,), out=str(tmp_path / "no"), steps=1, self_forcing_steps=1,
                                rollout_steps=1), Path(tiny_checkpoint))


def test_a_real_score_from_another_checkpoint_must_read_the_same_latents(tiny_checkpoint, tmp_path):
    from worldsim.finetune import real_score

    model = WorldModel.load(tiny_checkpoint)
    same = real_score(str(tiny_checkpoint), model.dit, model.autoencoder, torch.device("cpu"))
    assert same is not model.dit and same.cfg == model.dit.cfg
    other = WorldModel.load(tiny_checkpoint)
    with torch.no_grad():
        next(other.autoencoder.encoder.parameters()).add_(0.1)
    other.save(tmp_path / "other", meta=other.meta)
    with pytest.raises(ValueError, match="another autoencoder"):
        real_score(str(tmp_path / "other"), model.dit, model.autoencoder, torch.device("cpu"))
