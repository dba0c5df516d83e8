"""Frame metrics on hand-made frames with known answers."""

import numpy as np
import pytest

from worldsim.metrics import (
    centroid_errors,
    color_histogram,
    color_histogram_distance,
    compare_objects,
    detect_objects,
    find_objects,
    moving_mask,
    moving_objects,
    permanence,
    psnr,
    reappeared_mask,
    ssim,
)

FLOOR = (50, 50, 50)
COLORS = {"red": (230, 20, 20), "blue": (20, 20, 230), "agent": (255, 255, 255)}


def frame(objects: dict[str, tuple[int, int]], size: int = 5, hw: int = 64) -> np.ndarray:
    """A floor-coloured frame with a size x size square of each named colour, top-left at (col, row)."""
    img = np.full((hw, hw, 3), FLOOR, dtype=np.uint8)
    for name, (col, row) in objects.items():
        img[row:row + size, col:col + size] = COLORS[name]
    return img


def clip(*frames: np.ndarray) -> np.ndarray:
    return np.stack(frames)  # (T, H, W, 3)


# ---- image quality -----------------------------------------------------------------------------------


def test_identical_frames_give_infinite_psnr_and_unit_ssim():
    img = frame({"red": (10, 10), "blue": (40, 30)})
    assert psnr(img, img) == np.inf
    assert ssim(img, img) == 1.0
    batch = clip(img, img, img)
    assert np.all(psnr(batch, batch) == np.inf) and psnr(batch, batch).shape == (3,)
    assert np.all(ssim(batch, batch) == 1.0)


def test_psnr_known_value():
    a = np.zeros((8, 8, 3), dtype=np.uint8)
    b = a + np.uint8(1)  # MSE 1 -> 20 log10(255)
    assert psnr(a, b) == pytest.approx(20 * np.log10(255))


def test_noise_lowers_ssim_and_psnr_monotonically():
    rng = np.random.default_rng(0)
    img = frame({"red": (10, 10), "blue": (40, 30)})
    noisy = [np.clip(img + rng.normal(0, s, img.shape), 0, 255).astype(np.uint8) for s in (5, 20, 60)]
    s = [ssim(img, n) for n in noisy]
    p = [psnr(img, n) for n in noisy]
    assert 1.0 > s[0] > s[1] > s[2]
    assert p[0] > p[1] > p[2]
    assert ssim(img, noisy[1]) == pytest.approx(ssim(noisy[1], img))  # symmetric


def test_quality_metrics_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(np.zeros((8, 8, 3)), np.zeros((8, 9, 3)))
    with pytest.raises(ValueError, match="smaller than the SSIM window"):
        ssim(np.zeros((8, 8, 3)), np.zeros((8, 8, 3)))


# ---- objects -----------------------------------------------------------------------------------------


def test_find_objects_centroid_convention_and_absence():
    found = find_objects(frame({"red": (10, 20)}), COLORS)
    # a 5x5 square covering cols 10..14 and rows 20..24 has pixel centres averaging to (12.5, 22.5)
    assert found == {"red": (12.5, 22.5), "blue": None, "agent": None}
    single = np.full((64, 64, 3), FLOOR, dtype=np.uint8)
    single[0, 0] = COLORS["blue"]
    assert find_objects(single, COLORS, min_pixels=1)["blue"] == (0.5, 0.5)
    assert find_objects(single, COLORS, min_pixels=2)["blue"] is None


def test_nearest_colour_and_tolerance():
    img = frame({})
    img[0:4, 0:4] = (200, 40, 40)  # shaded red: nearest palette colour is red, within tol
    img[10:14, 10:14] = (125, 20, 125)  # halfway between red and blue, far from both
    img[20:24, 20:24] = FLOOR[0] + 40  # light floor: only a background entry stops it from matching
    found = find_objects(img, COLORS, tol=80)
    assert found["red"] == (2.0, 2.0) and found["blue"] is None
    grey = {"grey": (120, 120, 120)}
    assert find_objects(img, grey, tol=80)["grey"] is not None
    assert find_objects(img, grey, tol=80, background=[FLOOR, (90, 90, 90)])["grey"] is None


def test_batched_detection_matches_single_frames():
    frames = clip(frame({"red": (5, 5)}), frame({"red": (9, 7), "blue": (30, 30)}), frame({"blue": (1, 2)}))
    batched = find_objects(frames, COLORS)
    assert batched["red"].shape == (3, 2)
    for t in range(3):
        single = find_objects(frames[t], COLORS)
        for name in COLORS:
            expected = (np.nan, np.nan) if single[name] is None else single[name]
            np.testing.assert_array_equal(batched[name][t], expected)
    det = detect_objects(frames[None].repeat(2, axis=0), COLORS)  # (2, 3, H, W, 3) extra leading dim
    assert det.centroids.shape == (2, 3, 3, 2) and det.pixels[0, 1].tolist() == [25, 25, 0]


def test_shifted_square_gives_known_centroid_error():
    gt = clip(frame({"red": (10, 10), "blue": (40, 40)}))
    gen = clip(frame({"red": (13, 14), "blue": (40, 40)}))  # red shifted by (3, 4) px
    errors = centroid_errors(gt, gen, COLORS)
    assert errors["red"].tolist() == [5.0]
    assert errors["blue"].tolist() == [0.0]
    assert np.isnan(errors["agent"]).all()  # absent from GT


def test_missing_object_is_penalised_and_counted():
    gt = clip(frame({"red": (10, 10), "blue": (40, 40)}), frame({"red": (12, 10), "blue": (40, 40)}))
    gen = clip(frame({"red": (10, 10), "blue": (40, 40)}), frame({"red": (12, 10)}))  # blue vanishes at t=1
    cmp = compare_objects(gt, gen, COLORS)
    assert cmp.missing[:, 1].tolist() == [False, True]
    assert cmp.error[1, 1] == pytest.approx(np.hypot(64, 64)) == cmp.penalty
    assert centroid_errors(gt, gen, COLORS, missing_penalty=100.0)["blue"].tolist() == [0.0, 100.0]
    assert cmp.missing.sum() == 1


def test_permanence_is_share_of_gt_objects_kept():
    gt = clip(frame({"red": (5, 5), "blue": (30, 5), "agent": (5, 40)}),
              frame({"red": (5, 5), "blue": (30, 5), "agent": (5, 40)}),
              frame({"red": (5, 5)}),
              frame({}))
    gen = clip(frame({"red": (5, 5), "blue": (30, 5), "agent": (5, 40)}),
               frame({"red": (6, 5)}),  # blue and agent lost
               frame({"red": (5, 5), "blue": (30, 5)}),  # an extra object is not a permanence failure
               frame({"red": (5, 5)}))
    p = permanence(gt, gen, COLORS)
    np.testing.assert_allclose(p[:3], [1.0, 1 / 3, 1.0])
    assert np.isnan(p[3])  # nothing to keep
    assert compare_objects(gt, gen, COLORS).extra[2].tolist() == [False, True, False]


def test_moving_mask_and_moving_error():
    gt = clip(*(frame({"red": (10 + 2 * t, 10), "blue": (40, 40)}) for t in range(4)))  # red moves 6 px
    gen = clip(*(frame({"red": (10, 10), "blue": (40, 40)}) for _ in range(4)))  # "repeat first frame"
    cmp = compare_objects(gt, gen, COLORS)
    assert cmp.moving.tolist() == [True, False, False]
    assert moving_objects(gt, COLORS) == ["red"]
    assert moving_objects(gt, COLORS, threshold=10.0) == []
    np.testing.assert_allclose(cmp.moving_error(), [0.0, 2.0, 4.0, 6.0])
    c = np.array([[[0.0, 0.0]], [[np.nan, np.nan]], [[1.5, 0.0]]])  # (T=3, K=1, 2)
    assert moving_mask(c, threshold=1.0).tolist() == [True]
    assert moving_mask(c, threshold=2.0).tolist() == [False]
    assert moving_mask(np.full((3, 1, 2), np.nan)).tolist() == [False]


def test_objects_count_as_moving_from_the_step_they_have_moved():
    """Red rests for two steps, then moves 3 px a step; blue never moves. Per step, red counts only once it
    has moved more than 2 px since the frame before the clip, and the errors at the first steps do not
    change when the clip is cut short; over the whole clip, red counts from step 1."""
    before = frame({"red": (10, 10), "blue": (40, 40)})
    cols = [10, 10, 13, 16, 19]
    gt = clip(*(frame({"red": (c, 10), "blue": (40, 40)}) for c in cols))
    repeat = clip(*([before] * len(cols)))  # "repeat last frame"
    cmp = compare_objects(gt, repeat, COLORS, since=before)
    assert cmp.moved[:, 0].tolist() == [False, False, True, True, True]  # red
    assert not cmp.moved[:, 1:].any()  # blue and the absent agent
    per_step = cmp.moving_error(per_step=True)
    assert np.isnan(per_step[:2]).all()
    np.testing.assert_allclose(per_step[2:], [3.0, 6.0, 9.0])
    np.testing.assert_allclose(cmp.moving_error(), [0.0, 0.0, 3.0, 6.0, 9.0])  # red counted while it rests
    short = compare_objects(gt[:3], repeat[:3], COLORS, since=before)
    np.testing.assert_allclose(short.moving_error(per_step=True), per_step[:3])
    cut = compare_objects(gt[:2], repeat[:2], COLORS, since=before)  # red has not moved yet
    assert np.isnan(cut.moving_error()).all()  # the whole-clip rule: 0 px over 5 steps, no object over 2
    with pytest.raises(ValueError, match="since="):
        compare_objects(gt, repeat, COLORS).moving_error(per_step=True)
    with pytest.raises(ValueError, match="since="):
        compare_objects(gt, repeat, COLORS).moved_permanence()
    with pytest.raises(ValueError, match="one frame per clip"):
        compare_objects(gt, repeat, COLORS, since=gt)


def test_moved_permanence_counts_only_objects_that_have_moved():
    """A pushed red box vanishes while still blue stays: all objects kept falls to 1/2, moved ones to 0."""
    before = frame({"red": (10, 10), "blue": (40, 40)})
    gt = clip(*(frame({"red": (c, 10), "blue": (40, 40)}) for c in (10, 14, 18)))
    gen = clip(frame({"red": (10, 10), "blue": (40, 40)}), frame({"red": (14, 10), "blue": (40, 40)}),
               frame({"blue": (40, 40)}))
    cmp = compare_objects(gt, gen, COLORS, since=before)
    kept = cmp.moved_permanence()
    assert np.isnan(kept[0])  # nothing has moved yet
    np.testing.assert_allclose(kept[1:], [1.0, 0.0])
    np.testing.assert_allclose(cmp.permanence, [1.0, 1.0, 0.5])


def test_placed_counts_only_objects_drawn_where_the_truth_has_them():
    """Red glides on in the truth while the generation freezes it: it is still kept, but no longer placed
    once it is more than the radius away; blue stays put and stays placed; a lost agent is neither."""
    gt = clip(*(frame({"red": (10 + 3 * t, 10), "blue": (40, 40), "agent": (5, 40)}) for t in range(4)))
    gen = clip(*(frame({"red": (10, 10), "blue": (40, 40)}) for _ in range(4)))
    cmp = compare_objects(gt, gen, COLORS)
    np.testing.assert_allclose(cmp.permanence, [2 / 3] * 4)
    np.testing.assert_allclose(cmp.placed(), [2 / 3, 2 / 3, 1 / 3, 1 / 3])  # red is 6 px off at t = 2
    np.testing.assert_allclose(cmp.placed(radius=10.0), [2 / 3] * 4)
    with pytest.raises(ValueError, match="radius"):
        cmp.placed(radius=0.0)


def test_reappeared_marks_objects_back_in_view_after_being_hidden():
    """Visible, hidden, back: counted from the step it is back. One never seen before it shows, or never
    hidden, is not counted."""
    visible = np.array([[1, 0, 1], [0, 0, 1], [0, 1, 1], [1, 1, 1], [1, 0, 1]], dtype=bool)  # (T=5, K=3)
    back = reappeared_mask(visible)
    assert back[:, 0].tolist() == [False, False, False, True, True]
    assert not back[:, 1].any()  # first shown at step 2: nothing said it was there before
    assert not back[:, 2].any()
    np.testing.assert_array_equal(reappeared_mask(visible[None])[0], back)  # leading batch axes
    with pytest.raises(ValueError, match="T, K"):
        reappeared_mask(np.ones(3, dtype=bool))


def test_reappeared_placed_scores_only_objects_back_from_hiding():
    """Red goes under an occluder for two steps and comes out 12 px on. A generation that remembers it
    draws it there; one that froze it where it went under keeps it but does not place it; one that forgot
    it draws nothing. Blue, always in view, does not count."""
    path = [(10, 10), None, None, (22, 10), (25, 10)]
    gt = clip(*(frame({"blue": (40, 40), **({"red": p} if p else {})}) for p in path))
    before = frame({"red": (7, 10), "blue": (40, 40)})
    remembered = compare_objects(gt, gt, COLORS, since=before)
    frozen = compare_objects(gt, clip(*(frame({"red": (10, 10), "blue": (40, 40)}) for _ in path)), COLORS,
                             since=before)
    forgot = compare_objects(gt, clip(*(frame({"blue": (40, 40)}) for _ in path)), COLORS, since=before)
    assert remembered.reappeared[:, 0].tolist() == [False, False, False, True, True]
    np.testing.assert_allclose(remembered.reappeared_placed(), [np.nan, np.nan, np.nan, 1.0, 1.0])
    np.testing.assert_allclose(frozen.reappeared_placed(), [np.nan, np.nan, np.nan, 0.0, 0.0])
    np.testing.assert_allclose(frozen.permanence[3:], [1.0, 1.0])  # kept, though nowhere near
    np.testing.assert_allclose(forgot.reappeared_placed()[3:], [0.0, 0.0])
    hidden_at_start = compare_objects(gt[1:], gt[1:], COLORS, since=gt[1])  # red not seen before it shows
    assert not hidden_at_start.reappeared.any()
    with pytest.raises(ValueError, match="radius"):
        remembered.reappeared_placed(radius=0.0)


def test_detector_rejects_bad_input():
    with pytest.raises(TypeError, match="uint8"):
        detect_objects(np.zeros((8, 8, 3), dtype=np.float32), COLORS)
    with pytest.raises(ValueError, match="RGB frames"):
        detect_objects(np.zeros((8, 8), dtype=np.uint8), COLORS)
    with pytest.raises(ValueError, match="colors is empty"):
        detect_objects(np.zeros((8, 8, 3), dtype=np.uint8), {})
    with pytest.raises(ValueError, match=r"\[\.\.\., T, H, W, 3\]"):
        compare_objects(frame({}), frame({}), COLORS)


# ---- colour histograms -------------------------------------------------------------------------------


def test_color_histogram_distance():
    a = frame({"red": (10, 10)})
    b = frame({"red": (30, 40)})  # same colours elsewhere: position-free metric
    c = frame({"red": (10, 10), "blue": (40, 40)})
    assert color_histogram_distance(a, a) == 0.0
    assert color_histogram_distance(a, b) == 0.0
    # blue replaces 25 floor pixels: 25/4096 leaves the floor bin and enters the blue bin
    assert color_histogram_distance(a, c) == pytest.approx(2 * 25 / 64**2)
    black, white = np.zeros((4, 4, 3), np.uint8), np.full((4, 4, 3), 255, np.uint8)
    assert color_histogram_distance(black, white) == 2.0
    h = color_histogram(clip(a, c), bins=4)
    assert h.shape == (2, 64)
    np.testing.assert_allclose(h.sum(-1), 1.0)
    assert color_histogram_distance(clip(a, a), clip(a, c)).tolist() == [0.0, pytest.approx(2 * 25 / 64**2)]
