"""The one training loop: schedule, saving, resuming, EMA, divergence and the time budget."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from worldsim.checkpoint import load_tensors, save_tensors
from worldsim.finetune import FinetuneConfig, param_groups, prepare_model
from worldsim.trainer import (
    RAW_WEIGHTS,
    DivergedError,
    FitConfig,
    Trainer,
    cosine_lr,
    resumable,
    set_lr,
    stage_generators,
)

from .helpers import tiny_dit


def _problem(seed: int = 0):
    """A tiny regression: a linear layer, its optimizer and a generator that draws the batches."""
    torch.manual_seed(seed)
    net = torch.nn.Linear(3, 1)
    opt = torch.optim.AdamW(net.parameters(), lr=0.05)
    g = torch.Generator().manual_seed(seed)
    truth = torch.tensor([[1.0, -2.0, 0.5]])

    def objective(step: int) -> tuple[torch.Tensor, dict[str, float]]:
        x = torch.randn(16, 3, generator=g)
        return (net(x) - x @ truth.T).square().mean(), {"step_seen": float(step)}

    return net, opt, g, objective


def _saver(out: Path, saved: list[int]):
    def save(step: int, weights: torch.nn.Module) -> dict[str, float]:
        save_tensors(out / "model.safetensors", weights.state_dict())
        saved.append(step)
        return {"norm": float(weights.weight.detach().norm())}

    return save


def test_fit_trains_logs_and_saves_on_schedule(tmp_path):
    net, opt, g, objective = _problem()
    saved: list[int] = []
    trainer = Trainer("toy", net, opt, FitConfig(steps=60, lr=0.2, warmup=5, save_every=25), tmp_path, g)
    assert trainer.fit(objective, _saver(tmp_path, saved)) == 60
    assert saved == [25, 50, 60]
    log = trainer.log
    assert [row["step"] for row in log] == list(range(60)) and log[0]["step_seen"] == 0.0
    first, last = (sum(row["loss"] for row in rows) / 10 for rows in (log[:10], log[-10:]))
    assert last < 0.25 * first
    assert "norm" in log[24] and "norm" in log[-1] and "norm" not in log[30]  # what save measured is logged
    assert (tmp_path / "state" / "state.json").exists()
    assert opt.param_groups[0]["lr"] == pytest.approx(cosine_lr(59, 60, 0.2, 5))


def test_a_resumed_run_lands_where_a_straight_one_does(tmp_path):
    def run(out: Path, steps: int, resume: bool) -> dict[str, torch.Tensor]:
        net, opt, g, objective = _problem()
        trainer = Trainer("toy", net, opt, FitConfig(steps=steps, lr=0.05, warmup=2, ema=0.9), out, g)
        if resumable(out, resume, out / "model.safetensors"):
            trainer.resume(load_tensors(out / "model.safetensors"), model_step=trainer_step(out))
        trainer.fit(objective, _saver(out, []))
        return {"average": trainer.weights.weight.detach().clone(), "raw": net.weight.detach().clone()}

    def trainer_step(out: Path) -> int:
        import json
        return json.loads((out / "state" / "state.json").read_text())["step"]

    straight = run(tmp_path / "straight", 8, resume=False)
    run(tmp_path / "split", 3, resume=False)
    split = run(tmp_path / "split", 8, resume=True)
    torch.testing.assert_close(split["average"], straight["average"], rtol=0, atol=0)
    torch.testing.assert_close(split["raw"], straight["raw"], rtol=0, atol=0)
    assert (tmp_path / "split" / RAW_WEIGHTS).exists()
    assert not torch.equal(split["average"], split["raw"])


def test_a_second_noise_stream_is_saved_and_resumed_with_the_data_stream(tmp_path):
    # On a GPU the noise comes from a generator on the device, beside the host's data generator; a
    # second CPU generator stands in for it here.
    def run(out: Path, steps: int, resume: bool) -> torch.Tensor:
        net, opt, g, objective = _problem()
        noise = torch.Generator().manual_seed(7)

        def noisy(step: int) -> tuple[torch.Tensor, dict[str, float]]:
            loss, logs = objective(step)
            return loss + 0.1 * torch.randn((), generator=noise) * net.weight.sum(), logs

        trainer = Trainer("toy", net, opt, FitConfig(steps=steps, lr=0.05, warmup=2), out, g, noise=noise)
        if resumable(out, resume, out / "model.safetensors"):
            trainer.resume(load_tensors(out / "model.safetensors"), model_step=3)
        trainer.fit(noisy, _saver(out, []))
        return net.weight.detach().clone()

    straight = run(tmp_path / "straight", 8, resume=False)
    run(tmp_path / "split", 3, resume=False)
    assert "noise_rng" in load_tensors(tmp_path / "split" / "state" / "optimizer.safetensors")
    torch.testing.assert_close(run(tmp_path / "split", 8, resume=True), straight, rtol=0, atol=0)


def test_on_the_cpu_the_data_and_the_noise_share_one_generator():
    data, noise = stage_generators(3, torch.device("cpu"))
    assert data is noise and data.initial_seed() == 3


def test_resuming_refuses_what_it_cannot_resume(tmp_path):
    assert not resumable(tmp_path, True, tmp_path / "model")  # nothing there: a fresh start
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    assert not resumable(tmp_path, False, tmp_path / "model")
    with pytest.raises(FileNotFoundError, match="nothing to resume it from"):
        resumable(tmp_path, True, tmp_path / "model")

    net, opt, g, objective = _problem()
    Trainer("toy", net, opt, FitConfig(steps=2, lr=0.05), tmp_path, g).fit(objective, _saver(tmp_path, []))
    net, opt, g, objective = _problem()
    trainer = Trainer("toy", net, opt, FitConfig(steps=4, lr=0.05), tmp_path, g)
    with pytest.raises(ValueError, match="stopped while saving"):
        trainer.resume(load_tensors(tmp_path / "model.safetensors"), model_step=1)
    with pytest.raises(ValueError, match="without an EMA"):
        Trainer("toy", net, opt, FitConfig(steps=4, lr=0.05, ema=0.5), tmp_path, g).resume(
            load_tensors(tmp_path / "model.safetensors"), model_step=2)


def test_a_non_finite_loss_stops_before_anything_is_saved(tmp_path):
    net, opt, g, objective = _problem()
    before = net.weight.detach().clone()
    saved: list[int] = []
    trainer = Trainer("toy", net, opt, FitConfig(steps=5, lr=0.05, save_every=1), tmp_path, g)
    with pytest.raises(DivergedError, match="keeps its last checkpoint"):
        trainer.fit(lambda step: (objective(step)[0] * float("nan"), {}), _saver(tmp_path, saved))
    assert saved == [] and torch.equal(net.weight, before)


def test_the_time_budget_stops_the_run_saved(tmp_path):
    net, opt, g, objective = _problem()
    saved: list[int] = []
    trainer = Trainer("toy", net, opt, FitConfig(steps=1000, lr=0.05, time_budget_min=1e-9), tmp_path, g)
    assert trainer.fit(objective, _saver(tmp_path, saved)) == 1
    assert saved == [1]


def test_a_finished_run_still_has_its_checkpoint(tmp_path):
    net, opt, g, objective = _problem()
    saved: list[int] = []
    assert Trainer("toy", net, opt, FitConfig(steps=0, lr=0.05), tmp_path, g).fit(objective,
                                                                                _saver(tmp_path, saved)) == 0
    assert saved == [0]


def test_bfloat16_on_a_cpu_without_its_instructions_warns(tmp_path, monkeypatch):
    import warnings

    from worldsim import trainer

    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\n")
    assert trainer.cpu_has_bfloat16(info) is False
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n")
    assert trainer.cpu_has_bfloat16(info) is True
    assert trainer.cpu_has_bfloat16(tmp_path / "absent") is None
    net, opt, g, _ = _problem()
    monkeypatch.setattr(trainer, "cpu_has_bfloat16", lambda: False)
    with pytest.warns(UserWarning, match="float32"):
        Trainer("t", net, opt, FitConfig(steps=1, lr=0.01, precision="bfloat16"), tmp_path, g)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Trainer("t", net, opt, FitConfig(steps=1, lr=0.01), tmp_path, g)  # float32: nothing to say
    monkeypatch.setattr(trainer, "cpu_has_bfloat16", lambda: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Trainer("t", net, opt, FitConfig(steps=1, lr=0.01, precision="bfloat16"), tmp_path, g)  # unknown: no guess


def test_a_resumed_rank_draws_its_own_streams(tmp_path):
    from worldsim.trainer import Dist

    def resumed(rank: int) -> float:
        net, opt, g, objective = _problem()
        noise = torch.Generator().manual_seed(7)
        rank_of_two = Dist(rank, 1)  # world 1, so that no process group is needed to check the streams
        trainer = Trainer("toy", net, opt, FitConfig(steps=3, lr=0.05, warmup=1), tmp_path, g, rank_of_two, noise)
        trainer.resume(load_tensors(tmp_path / "model.safetensors"), model_step=3)
        return torch.rand((), generator=g).item(), torch.rand((), generator=noise).item()

    net, opt, g, objective = _problem()
    Trainer("toy", net, opt, FitConfig(steps=3, lr=0.05, warmup=1), tmp_path, g,
            noise=torch.Generator().manual_seed(7)).fit(objective, _saver(tmp_path, []))
    first, second = resumed(0), resumed(1)
    assert first[0] != second[0] and first[1] != second[1]
    assert resumed(1) == second  # still reproducible


def test_added_weights_train_at_their_own_rate():
    dit = prepare_model(tiny_dit(width=48, heads=2), FinetuneConfig(offset_heads=1))
    opt = torch.optim.AdamW(param_groups(dit, 10.0), lr=1.0)
    set_lr(opt, 2e-4)
    by_rate = {g["lr"]: {id(p) for p in g["params"]} for g in opt.param_groups}
    added = {id(p) for b in dit.blocks for p in (*b.attn.qkv_offset.parameters(), *b.attn.proj_offset.parameters())}
    assert sorted(by_rate) == pytest.approx([2e-4, 2e-3]) and by_rate[max(by_rate)] == added
    assert sum(map(len, by_rate.values())) == len(list(dit.parameters()))  # every weight in one group
    assert [g["lr"] for g in torch.optim.AdamW(param_groups(tiny_dit(), 10.0), lr=1e-3).param_groups] == [1e-3]
    with pytest.raises(ValueError, match="added-lr-scale"):
        param_groups(dit, 0.0)
