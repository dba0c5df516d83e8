"""MuJoCo as the teacher of the model's own frames: the scene read off frames, stepped and rendered."""

import gymnasium as gym
import numpy as np
import pytest

from worldsim import metrics
from worldsim.envs.physics_teacher import PhysicsTeacher, estimate_state, scene_at
from worldsim.envs.scene import AGENT_PALETTE_NAMES, SceneSpec, render_palette, render_scenery_colors


def _episode(env_id: str, seed: int, steps: int, scripted: bool):
    env = gym.make(env_id)
    obs, info = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    frames, actions, states = [obs], [], [env.unwrapped.object_states()]
    for _ in range(steps):
        a = env.unwrapped.scripted_action(rng) if scripted else env.action_space.sample()
        obs, *_ = env.step(a)
        frames.append(obs)
        actions.append(a)
        states.append(env.unwrapped.object_states())
    env.close()
    return SceneSpec.from_dict(info["spec"]), np.stack(frames), np.stack(actions), np.stack(states)


def _centroids(spec: SceneSpec, frame: np.ndarray) -> np.ndarray:
    names = [AGENT_PALETTE_NAMES[a.color] for a in spec.agents] + [o.color for o in spec.objects]
    palette = render_palette()
    return metrics.detect_objects(frame[None], {n: palette[n] for n in names},
                                  background=list(render_scenery_colors().values())).centroids[0]


@pytest.mark.parametrize(("env_id", "scripted"), [("WorldSim/PushBox-v0", True), ("WorldSim/Playground-v0", False),
                                                   ("WorldSim/Occlusion-v0", True)])
def test_from_true_frames_the_teacher_draws_the_true_next_frame(env_id: str, scripted: bool) -> None:
    teacher = PhysicsTeacher()
    errors = []
    for seed in range(2):
        spec, frames, actions, _ = _episode(env_id, seed, 10, scripted)
        for t in range(1, 10):
            taught = teacher.next_frame(env_id, spec, frames[: t + 1], actions[t])
            gap = np.linalg.norm(_centroids(spec, taught) - _centroids(spec, frames[t + 1]), axis=-1)
            errors += list(gap[~np.isnan(gap)])
    teacher.close()
    assert len(errors) > 20 and np.mean(errors) < 0.5 and np.max(errors) < 1.5, (np.mean(errors), np.max(errors))


def test_the_state_read_off_a_frame_is_where_mujoco_has_it() -> None:
    spec, frames, _, states = _episode("WorldSim/Playground-v0", 3, 6, False)
    read, seen = estimate_state(spec, frames)
    assert seen.all()
    assert np.abs(read[:, :2] - states[-1][:, :2]).max() < 0.05  # metres; a pixel is about 0.035 m
    assert np.abs(read[:, 2:] - states[-1][:, 2:]).max() < 0.35  # m/s, from two frames 0.1 s apart


def test_a_body_the_frames_lost_is_put_back_where_it_was_last_seen() -> None:
    spec, frames, actions, _ = _episode("WorldSim/PushBox-v0", 1, 3, True)
    floor = np.array(render_scenery_colors()["floor"], dtype=np.uint8)
    lost = frames.copy()
    box = _centroids(spec, lost[-1])[len(spec.agents)]  # the first object
    col, row = np.round(box).astype(int)
    lost[-1, max(row - 5, 0):row + 5, max(col - 5, 0):col + 5] = floor  # erase it from the last frame
    assert np.isnan(_centroids(spec, lost[-1])[len(spec.agents), 0])
    taught = PhysicsTeacher().next_frame("WorldSim/PushBox-v0", spec, lost, actions[-1])
    assert np.linalg.norm(_centroids(spec, taught)[len(spec.agents)] - box) < 2.0


def test_bodies_drawn_on_top_of_each_other_are_not_a_scene() -> None:
    spec, frames, _, _ = _episode("WorldSim/PushBox-v0", 0, 1, True)
    states = np.zeros((len(spec.agents) + len(spec.objects), 4))  # every body at the centre
    assert scene_at(spec, states) is None
    with pytest.raises(ValueError, match="uint8"):
        estimate_state(spec, frames.astype(np.float32))


def test_with_the_recorded_state_a_body_drawn_stopped_goes_on_at_its_speed() -> None:
    """Frames whose last step shows no motion (a glide the model slowed): read off the frames, the teacher
    keeps the bodies where they are; given the recorded state, each moves on by its recorded step."""
    spec, frames, actions, states = _episode("WorldSim/Occlusion-v0", 0, 3, True)  # the agent and a launched glide
    stopped = np.concatenate([frames[:-1], frames[-2:-1]])  # the last frame repeats the one before
    px = 64 / (2 * spec.arena.view_half)
    teacher = PhysicsTeacher()
    drawn = _centroids(spec, stopped[-1])
    taught = {rec: teacher.next_frame("WorldSim/Occlusion-v0", spec, stopped, actions[-1], states[-1] if rec else None)
              for rec in (False, True)}
    moved = {rec: np.linalg.norm(_centroids(spec, frame) - drawn, axis=-1) for rec, frame in taught.items()}
    step = np.linalg.norm(states[-1][:, 2:], axis=-1) * 0.1 * px  # (n,) px each body goes in a step at its speed
    fast = step > 1.0
    assert fast.sum() >= 2, step
    assert (moved[True][fast] > 0.5 * step[fast]).all(), (moved[True], step)
    assert (moved[False][fast] < moved[True][fast]).all(), (moved[False], moved[True])


def test_with_the_recorded_state_a_lost_body_comes_back_where_the_episode_has_it() -> None:
    spec, frames, actions, states = _episode("WorldSim/PushBox-v0", 1, 3, True)
    floor = np.array(render_scenery_colors()["floor"], dtype=np.uint8)
    lost = frames.copy()
    box = _centroids(spec, lost[-1])[len(spec.agents)]
    col, row = np.round(box).astype(int)
    lost[:, max(row - 5, 0):row + 5, max(col - 5, 0):col + 5] = floor  # never seen in these frames
    taught = PhysicsTeacher().next_frame("WorldSim/PushBox-v0", spec, lost, actions[-1], states[-1])
    assert np.linalg.norm(_centroids(spec, taught)[len(spec.agents)] - box) < 2.0
    with pytest.raises(ValueError, match="recorded state"):
        PhysicsTeacher().next_frame("WorldSim/PushBox-v0", spec, frames, actions[-1], states[-1][:1])
