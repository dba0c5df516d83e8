"""Reward and termination heads that read decoded frames: checkpoint, simulator and training."""

import json

import numpy as np
import pytest
import torch

from worldsim.checkpoint import CheckpointError
from worldsim.frame_heads import FrameHeads, FrameHeadsConfig, reward_termination_scores, score_heads, transitions
from worldsim.simulator import Simulator
from worldsim.worldmodel import WorldModel


def with_heads(checkpoint: str) -> WorldModel:
    torch.manual_seed(1)
    model = WorldModel.load(checkpoint)
    model.frame_heads = FrameHeads(FrameHeadsConfig(image_size=64, action_dim=4, channels=(4, 4), hidden=8))
    return model


def test_frame_heads_save_and_load_with_the_world_model(tiny_checkpoint, tmp_path):
    model = with_heads(tiny_checkpoint)
    model.save(tmp_path / "m")
    loaded = WorldModel.load(tmp_path / "m")
    assert loaded.frame_heads is not None and loaded.frame_heads.cfg == model.frame_heads.cfg
    for name, t in model.frame_heads.state_dict().items():
        assert torch.equal(loaded.frame_heads.state_dict()[name], t)
    assert WorldModel.load(tiny_checkpoint).frame_heads is None  # a checkpoint without them has none


@pytest.mark.parametrize("change, message", [
    ({"action_dim": 2}, "2-D actions"),
    ({"channels": [4] * 7}, "not divisible"),
    ({"hidden": 10**9}, "hidden"),
])
def test_a_checkpoint_whose_frame_heads_do_not_fit_is_refused(tiny_checkpoint, tmp_path, change, message):
    with_heads(tiny_checkpoint).save(tmp_path / "m")
    path = tmp_path / "m" / "config.json"
    config = json.loads(path.read_text())
    config["config"]["frame_heads"].update(change)
    path.write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=message):
        WorldModel.load(tmp_path / "m")


def test_an_unknown_config_section_is_refused(tiny_checkpoint, tmp_path):
    WorldModel.load(tiny_checkpoint).save(tmp_path / "m")
    path = tmp_path / "m" / "config.json"
    config = json.loads(path.read_text())
    config["config"]["reward_model"] = {}
    path.write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="sections"):
        WorldModel.load(tmp_path / "m")


def test_the_simulator_reads_rewards_and_terminations_off_the_frames_it_shows(tiny_checkpoint):
    model = with_heads(tiny_checkpoint)
    sim = Simulator(model, 2, {"sampler": {"steps": 1}})
    rng = np.random.default_rng(0)
    context = rng.integers(0, 255, (2, 3, 64, 64, 3), dtype=np.uint8)
    actions = rng.uniform(-1, 1, (2, 2, 4)).astype(np.float32)
    first = sim.reset(context_frames=context, context_actions=actions, prompt="a red cube", seed=0)
    decoded = model.autoencoder.decode(model.autoencoder.encode(torch.from_numpy(context)))  # what the heads see
    with torch.no_grad():
        r, logit = model.frame_heads(decoded[:, :-1].flatten(0, 1), decoded[:, 1:].flatten(0, 1),
                                     torch.from_numpy(actions).flatten(0, 1))
    np.testing.assert_allclose(sim.context_heads.rewards, r.view(2, 2).numpy(), atol=1e-5)
    np.testing.assert_allclose(sim.context_heads.done_prob, torch.sigmoid(logit).view(2, 2).numpy(), atol=1e-5)

    step_actions = rng.uniform(-1, 1, (2, 4)).astype(np.float32)
    out = sim.step(step_actions)
    with torch.no_grad():
        r, logit = model.frame_heads(torch.from_numpy(first.frames), torch.from_numpy(out.frames),
                                     torch.from_numpy(step_actions))
    np.testing.assert_allclose(out.rewards, r.numpy(), atol=1e-5)
    assert np.array_equal(out.terminated, (torch.sigmoid(logit) > sim.cfg.done_threshold).numpy())

    # resetting one row gives the heads that row's new frame and keeps the other's
    again = sim.reset(context_frames=context[1:, :1], prompt="a red cube", rows=[1], seed=1)
    shown = out.frames.copy()
    shown[1] = again.frames[0]
    assert np.array_equal(sim.frames.numpy(), shown)


def test_score_heads_against_a_constant_reader():
    class Constant(torch.nn.Module):  # reward 1, always terminates
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, prev, frame, action):
            return torch.ones(len(prev)), torch.full((len(prev),), 10.0)

    frames = [np.zeros((4, 64, 64, 3), np.uint8), np.zeros((3, 64, 64, 3), np.uint8)]
    data = transitions(frames, [np.zeros((3, 2)), np.zeros((2, 2))], [np.array([0, 1, 2.0]), np.array([1, 1.0])],
                       [np.array([0, 0, 1]), np.array([0, 0])], action_dim=4)
    assert data.action.shape == (5, 4) and len(data) == 5
    scores = score_heads(Constant(), data)
    assert scores["reward_mae"] == pytest.approx(0.4)  # |1 - r| over 0, 1, 2, 1, 1
    assert scores["reward_mae_mean_baseline"] == pytest.approx(np.abs(np.array([0, 1, 2, 1, 1]) - 1.0).mean())
    assert scores["termination_recall"] == 1.0 and scores["termination_precision"] == pytest.approx(0.2)


@pytest.fixture(scope="module")
def reach_store(tmp_path_factory):
    from worldsim.collect import CollectConfig, collect

    out = tmp_path_factory.mktemp("reach") / "scripted"
    collect(CollectConfig(env_id="WorldSim/Reach-v0", episodes=10, steps=30, policy="scripted", out=str(out),
                          progress=False))
    return str(out)


def test_frame_heads_train_resume_and_land_in_the_checkpoint(tiny_checkpoint, reach_store, tmp_path):
    from worldsim.train_heads import FrameHeadsTrainConfig, train_frame_heads

    cfg = FrameHeadsTrainConfig(checkpoint=tiny_checkpoint, data=(reach_store,), out=str(tmp_path / "run"),
                                steps=4, batch_size=8, val_fraction=0.3, save_every=2)
    report = train_frame_heads(cfg, tiny_checkpoint)
    model = WorldModel.load(tmp_path / "run" / "model")
    assert model.frame_heads is not None and model.meta["frame_heads_step"] == 4
    assert report["val_after"]["transitions"] > 0 and report["val_after"]["terminations"] > 0
    assert report["val_after"] == model.meta["frame_heads_val"]
    base = WorldModel.load(tiny_checkpoint)
    for name, t in base.dit.state_dict().items():  # the world model itself is left as it was
        assert torch.equal(model.dit.state_dict()[name], t)

    longer = FrameHeadsTrainConfig(**{**cfg.__dict__, "steps": 6, "resume": True})
    train_frame_heads(longer, tiny_checkpoint)
    assert WorldModel.load(tmp_path / "run" / "model").meta["frame_heads_step"] == 6

    other = tmp_path / "other"
    with_heads(tiny_checkpoint).save(other)  # different weights, so a different hash
    with pytest.raises(ValueError, match="another model"):
        train_frame_heads(longer, other)


def test_frame_heads_refuse_data_without_terminations(tiny_checkpoint, tmp_path):
    from worldsim.collect import CollectConfig, collect
    from worldsim.train_heads import FrameHeadsTrainConfig, train_frame_heads

    store = tmp_path / "random"
    collect(CollectConfig(env_id="WorldSim/Reach-v0", episodes=4, steps=3, policy="random", out=str(store),
                          progress=False))
    cfg = FrameHeadsTrainConfig(checkpoint=tiny_checkpoint, data=(str(store),), out=str(tmp_path / "run"),
                                steps=2, val_fraction=0.5)
    with pytest.raises(ValueError, match="no training episode terminates"):
        train_frame_heads(cfg, tiny_checkpoint)


def test_undefined_scores_are_none_not_nan():
    scores = reward_termination_scores(np.array([0.0, 1.0]), np.array([0.5, 0.5]), np.array([False, True]),
                                       np.array([0.1, 0.2]))
    assert scores["termination_precision"] is None and scores["termination_recall"] == 0.0
    assert scores["reward_corr"] is None  # a constant prediction has no correlation
    assert scores["reward_corr_ongoing"] is None  # one step goes on: no correlation either
    scores = reward_termination_scores(np.array([1.0, 2.0, 3.0, 10.0]), np.array([3.0, 2.0, 1.0, 10.0]),
                                       np.array([False, False, False, True]), np.array([0.1, 0.1, 0.1, 0.9]))
    assert scores["reward_corr"] > 0.8  # the large reward at the end carries the whole correlation
    assert scores["reward_corr_ongoing"] == pytest.approx(-1.0)  # the steps on the way are read backwards
    with pytest.raises(ValueError, match="as many predictions"):
        reward_termination_scores(np.zeros(3), np.zeros(2), np.zeros(3, bool), np.zeros(3))


def test_heads_that_do_not_read_the_action_answer_from_the_frames_alone(tiny_checkpoint, tmp_path):
    torch.manual_seed(0)
    heads = FrameHeads(FrameHeadsConfig(channels=(4, 4), hidden=8, read_action=False))
    frames = torch.randint(0, 255, (2, 3, 64, 64, 3), dtype=torch.uint8)
    with torch.no_grad():
        a = heads(frames[0], frames[1], torch.zeros(3, 4))
        b = heads(frames[0], frames[1], torch.ones(3, 4))
        c = heads(frames[0], frames[0], torch.zeros(3, 4))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and not torch.equal(a[0], c[0])
    model = WorldModel.load(tiny_checkpoint)
    model.frame_heads = heads
    model.save(tmp_path / "m")
    assert WorldModel.load(tmp_path / "m").frame_heads.cfg.read_action is False


def test_potential_heads_pay_the_change_of_a_quantity_read_from_each_frame(tiny_checkpoint, tmp_path):
    torch.manual_seed(0)
    heads = FrameHeads(FrameHeadsConfig(channels=(4, 4), hidden=8, potential=True))
    frames = torch.randint(0, 255, (3, 2, 64, 64, 3), dtype=torch.uint8)  # three frames of two episodes
    action = torch.zeros(2, 4)
    with torch.no_grad():
        heads.mlp[-1].weight[0].zero_()
        heads.mlp[-1].bias[0] = 0.0  # the step's own term off: what is left is phi(after) - phi(before)
        ab, bc, ac = (heads(frames[i], frames[j], action)[0] for i, j in ((0, 1), (1, 2), (0, 2)))
        still = heads(frames[0], frames[0], action)[0]
    torch.testing.assert_close(ab + bc, ac)  # a potential's changes add up along the way
    assert torch.count_nonzero(still) == 0 and not torch.allclose(ab, torch.zeros_like(ab))
    loaded = _saved_and_loaded(heads, tiny_checkpoint, tmp_path)
    assert loaded.cfg.potential is True
    with torch.no_grad():
        torch.testing.assert_close(loaded(frames[0], frames[2], action)[0], ac)


def test_separable_heads_pay_the_frame_reached_and_the_action_apart(tiny_checkpoint, tmp_path):
    torch.manual_seed(0)
    heads = FrameHeads(FrameHeadsConfig(channels=(4, 4), hidden=8, separable=True))
    frames = torch.randint(0, 255, (3, 2, 64, 64, 3), dtype=torch.uint8)
    still, push = torch.zeros(2, 4), torch.tensor([[1.0, -1.0, 0, 0], [0.5, 0.5, 0, 0]])
    with torch.no_grad():
        reward = lambda i, j, a: heads(frames[i], frames[j], a)[0]  # noqa: E731
        # the step's pay does not hang on where it started from, only on the frame reached
        torch.testing.assert_close(reward(0, 2, still), reward(1, 2, still))
        # an action adds the same amount whatever the frames show: it cannot buy pay the frames do not show
        torch.testing.assert_close(reward(0, 1, push) - reward(0, 1, still), reward(1, 2, push) - reward(1, 2, still))
        assert not torch.allclose(reward(0, 1, still), reward(0, 2, still))
        logit = heads(frames[0], frames[1], still)[1]
        assert not torch.equal(logit, heads(frames[2], frames[1], still)[1])  # the termination reads both
    loaded = _saved_and_loaded(heads, tiny_checkpoint, tmp_path)
    assert loaded.cfg.separable is True
    with torch.no_grad():
        torch.testing.assert_close(loaded(frames[0], frames[1], push)[0], reward(0, 1, push))


def _saved_and_loaded(heads: FrameHeads, checkpoint, tmp_path) -> FrameHeads:
    """``heads`` added to a world model, saved and loaded again."""
    model = WorldModel.load(checkpoint)
    model.frame_heads = heads
    model.save(tmp_path / "m")
    return WorldModel.load(tmp_path / "m").frame_heads


def test_frame_heads_can_train_on_from_another_checkpoints_heads(tiny_checkpoint, reach_store, tmp_path):
    from worldsim.train_heads import FrameHeadsTrainConfig, train_frame_heads

    with_heads(tiny_checkpoint).save(tmp_path / "source")  # small heads: channels (4, 4), hidden 8
    cfg = FrameHeadsTrainConfig(checkpoint=tiny_checkpoint, data=(reach_store,), out=str(tmp_path / "run"), steps=2,
                                batch_size=8, val_fraction=0.3, init_heads=str(tmp_path / "source"))
    train_frame_heads(cfg, tiny_checkpoint)
    heads = WorldModel.load(tmp_path / "run" / "model").frame_heads
    assert heads.cfg == WorldModel.load(tmp_path / "source").frame_heads.cfg  # its network, trained on
    with pytest.raises(ValueError, match="pass the same --potential"):
        train_frame_heads(FrameHeadsTrainConfig(**{**cfg.__dict__, "potential": True, "out": str(tmp_path / "b")}),
                          tiny_checkpoint)
    with pytest.raises(ValueError, match="has no frame heads"):
        train_frame_heads(FrameHeadsTrainConfig(**{**cfg.__dict__, "init_heads": tiny_checkpoint,
                                                   "out": str(tmp_path / "c")}), tiny_checkpoint)
