"""Frame metrics for checking generated video against ground truth (numpy only, pure functions).

Frames are RGB images ``[..., H, W, 3]`` (uint8, 0-255) with any leading batch/time dims; every metric is
vectorised over them. Functions that compare clips take ``[..., T, H, W, 3]`` (time on axis -4).

- Image quality: :func:`psnr` (dB) and :func:`ssim` (Gaussian-window SSIM, Wang et al. 2004).
- Objects, found by colour masks with the same detector on both sides: :func:`find_objects`,
  :func:`detect_objects`, :func:`compare_objects` and its views :func:`centroid_errors`,
  :func:`permanence`; :func:`moving_mask` / :func:`moving_objects` pick the objects that actually move
  in GT.
- Long-horizon drift: :func:`color_histogram_distance`.

Pixel coordinates follow the image: ``col`` is x (to the right), ``row`` is y (down). Pixel ``(row, col)``
covers the square ``[col, col + 1) x [row, row + 1)``, so its centre is ``(col + 0.5, row + 0.5)`` and an
object's centroid is the mean of its mask pixels' centres: a single pixel at row 0, col 0 has centroid
``(0.5, 0.5)``.

Reference: Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality assessment: from error
visibility to structural similarity", IEEE TIP 2004.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

Color = tuple[int, int, int]
Centroid = tuple[float, float]  # (col, row) in pixels
FloatOrArray = float | np.ndarray

DEFAULT_TOL = 100.0  # max RGB distance (0-441) from a palette colour for a pixel to count as that colour
DEFAULT_MIN_PIXELS = 4  # fewer mask pixels than this and the object counts as absent
DEFAULT_MOVE_THRESHOLD = 2.0  # px an object's GT centroid path must span to count as moving
# px an object must have moved since the frame before a clip to count as moving from that step on.
# A resting object's GT centroid does not change at all (rendering is deterministic), and the slowest
# move that matters, an agent's first step from rest, is 0.3 to 0.6 px at 64x64.
DEFAULT_MOVED_THRESHOLD = 0.25
# px from its true centroid within which a kept object counts as in its true place: about the half-width
# of the smallest object at 64x64, so an object counted as placed still overlaps where it truly is.
DEFAULT_PLACED_RADIUS = 4.0
_CHUNK = 128  # frames processed at once, to bound temporary memory on long clips


# ----------------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------------


def _check_frames(x: np.ndarray, name: str, *, min_ndim: int = 3) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim < min_ndim or x.shape[-1] != 3:
        want = "[..., T, H, W, 3]" if min_ndim > 3 else "[..., H, W, 3]"
        raise ValueError(f"{name} has shape {x.shape}; expected RGB frames {want}")
    return x


def _check_pair(a: np.ndarray, b: np.ndarray, *, min_ndim: int = 3) -> tuple[np.ndarray, np.ndarray]:
    a, b = _check_frames(a, "a", min_ndim=min_ndim), _check_frames(b, "b", min_ndim=min_ndim)
    if a.shape != b.shape:
        raise ValueError(f"frame shapes differ: {a.shape} vs {b.shape}; pass clips of equal length and size")
    return a, b


def _check_uint8(x: np.ndarray, name: str) -> np.ndarray:
    if x.dtype != np.uint8:
        raise TypeError(
            f"{name} has dtype {x.dtype}; colour masks need uint8 RGB. Convert float frames in [0, 1] with "
            "(x * 255).round().clip(0, 255).astype(np.uint8)."
        )
    return x


def _palette(colors: Mapping[str, Color], background: Sequence[Color]) -> tuple[tuple[str, ...], np.ndarray]:
    if not colors:
        raise ValueError("colors is empty; pass {name: (r, g, b)} for each object to find")
    names = tuple(colors)
    rows = [tuple(colors[n]) for n in names] + [tuple(c) for c in background]
    palette = np.asarray(rows, dtype=np.int64)  # (P, 3)
    if palette.shape != (len(rows), 3) or palette.min() < 0 or palette.max() > 255:
        raise ValueError(f"colours must be (r, g, b) triples in 0-255; got {rows}")
    return names, palette


def _scalar(x: np.ndarray) -> FloatOrArray:
    return float(x) if np.ndim(x) == 0 else x


def _flat_frames(x: np.ndarray) -> np.ndarray:
    """[..., H, W, 3] -> [N, H, W, 3] (a view where possible)."""
    return x.reshape(-1, *x.shape[-3:])


# ----------------------------------------------------------------------------------------------------
# Image quality
# ----------------------------------------------------------------------------------------------------


def psnr(a: np.ndarray, b: np.ndarray, *, max_val: float = 255.0) -> FloatOrArray:
    """Peak signal-to-noise ratio per frame, in dB.

    Args:
        a, b: Frames ``[..., H, W, 3]`` of equal shape.
        max_val: Peak value of the pixel range (255 for uint8).

    Returns:
        ``[...]`` (a float for single frames); ``inf`` where the frames are identical.
    """
    a, b = _check_pair(a, b)
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean(axis=(-3, -2, -1))  # [...]
    with np.errstate(divide="ignore"):
        return _scalar(10.0 * np.log10(max_val**2 / mse))


def _gaussian_window(size: int, sigma: float) -> np.ndarray:
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()  # (size,)


def _filter_valid(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable 'valid' filtering of [N, H, W, C] along H and W -> [N, H-k+1, W-k+1, C]."""
    k = len(g)
    h, w = x.shape[1] - k + 1, x.shape[2] - k + 1
    x = sum(g[i] * x[:, i:i + h] for i in range(k))  # (N, h, W, C)
    return sum(g[i] * x[:, :, i:i + w] for i in range(k))  # (N, h, w, C)


def ssim(
    a: np.ndarray,
    b: np.ndarray,
    *,
    data_range: float = 255.0,
    win_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> FloatOrArray:
    """Structural similarity per frame: Gaussian-window SSIM per colour channel, then the mean.

    The standard form of Wang et al. (2004): an ``win_size`` x ``win_size`` Gaussian window of std
    ``sigma``, constants ``C1 = (k1 * data_range)**2`` and ``C2 = (k2 * data_range)**2``, the SSIM map
    averaged over the valid region (no padding) and the three channels. This equals scikit-image's
    ``structural_similarity(a, b, channel_axis=-1, gaussian_weights=True, use_sample_covariance=False)``.

    Args:
        a, b: Frames ``[..., H, W, 3]`` of equal shape, with ``H, W >= win_size``.
        data_range: Pixel value range (255 for uint8).

    Returns:
        ``[...]`` in [-1, 1] (a float for single frames); exactly 1.0 where the frames are identical.
    """
    a, b = _check_pair(a, b)
    if min(a.shape[-3:-1]) < win_size:
        raise ValueError(f"frames of size {a.shape[-3:-1]} are smaller than the SSIM window {win_size}; "
                         "pass a smaller odd win_size")
    g = _gaussian_window(win_size, sigma)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    fa, fb = _flat_frames(a), _flat_frames(b)
    out = np.empty(len(fa))
    for s in range(0, len(fa), _CHUNK):
        x, y = fa[s:s + _CHUNK].astype(np.float64), fb[s:s + _CHUNK].astype(np.float64)  # (n, H, W, 3)
        mu_x, mu_y = _filter_valid(x, g), _filter_valid(y, g)  # (n, h, w, 3)
        var_x = _filter_valid(x * x, g) - mu_x**2
        var_y = _filter_valid(y * y, g) - mu_y**2
        cov = _filter_valid(x * y, g) - mu_x * mu_y
        num = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
        den = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
        out[s:s + _CHUNK] = (num / den).mean(axis=(1, 2, 3))  # (n,)
    return _scalar(out.reshape(a.shape[:-3]))


# ----------------------------------------------------------------------------------------------------
# Objects by colour mask
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Detections:
    """Objects found in frames [..., H, W, 3] by :func:`detect_objects`."""

    names: tuple[str, ...]
    """K object names, in the order of the colors mapping."""
    centroids: np.ndarray
    """float64 [..., K, 2]: (col, row) in pixels; NaN where the object is absent."""
    pixels: np.ndarray
    """int64 [..., K]: mask size in pixels (also below min_pixels)."""

    @property
    def visible(self) -> np.ndarray:
        """bool ``[..., K]``: the object was found (at least ``min_pixels`` pixels)."""
        return ~np.isnan(self.centroids[..., 0])


def detect_objects(
    frames: np.ndarray,
    colors: Mapping[str, Color],
    *,
    tol: float = DEFAULT_TOL,
    min_pixels: int = DEFAULT_MIN_PIXELS,
    background: Sequence[Color] = (),
) -> Detections:
    """Find each colour's object in every frame by nearest-colour masks.

    A pixel belongs to object ``k`` if ``colors[k]`` is its nearest palette colour and lies within RGB
    (Euclidean) distance ``tol``. The palette is ``colors`` plus ``background``: background colours (floor,
    walls, occluders) compete for pixels but are not reported, which keeps shaded or blurred background
    from being taken for an object. An object with at least ``min_pixels`` pixels gets the mean of its
    pixel centres as centroid (see the module docstring for the convention).

    Args:
        frames: uint8 RGB ``[..., H, W, 3]``.
        colors: ``{name: (r, g, b)}``, one entry per object; each colour marks one object.
        tol: Maximum RGB distance to the palette colour, in 0-255 units.
        min_pixels: Minimum mask size for the object to count as present.
        background: Extra palette colours that are matched but not reported.

    Returns:
        :class:`Detections` with centroids ``[..., K, 2]`` and pixel counts ``[..., K]``.
    """
    frames = _check_uint8(_check_frames(frames, "frames"), "frames")
    if tol <= 0 or min_pixels < 1:
        raise ValueError(f"need tol > 0 and min_pixels >= 1, got tol={tol}, min_pixels={min_pixels}")
    names, palette = _palette(colors, background)
    k = len(names)
    flat = _flat_frames(frames)  # (N, H, W, 3)
    h, w = flat.shape[1:3]
    centres_col = np.arange(w) + 0.5  # (W,)
    centres_row = np.arange(h) + 0.5  # (H,)
    sums = np.zeros((len(flat), k, 2))  # (N, K, 2) sum of (col, row) over mask pixels
    counts = np.zeros((len(flat), k), dtype=np.int64)  # (N, K)
    for s in range(0, len(flat), _CHUNK):
        x = flat[s:s + _CHUNK].astype(np.int64)  # (n, H, W, 3)
        d2 = np.stack([((x - c) ** 2).sum(-1) for c in palette], axis=-1)  # (n, H, W, P) squared distance
        nearest = d2.argmin(-1)  # (n, H, W)
        label = np.where(d2.min(-1) < tol**2, nearest, -1)  # (n, H, W), -1 = no palette colour
        masks = label[..., None] == np.arange(k)  # (n, H, W, K)
        per_col = masks.sum(axis=1)  # (n, W, K)
        per_row = masks.sum(axis=2)  # (n, H, K)
        counts[s:s + _CHUNK] = per_col.sum(axis=1)
        sums[s:s + _CHUNK, :, 0] = np.einsum("nwk,w->nk", per_col, centres_col)
        sums[s:s + _CHUNK, :, 1] = np.einsum("nhk,h->nk", per_row, centres_row)
    with np.errstate(invalid="ignore", divide="ignore"):
        centroids = sums / counts[..., None]  # (N, K, 2)
    centroids[counts < min_pixels] = np.nan
    lead = frames.shape[:-3]
    return Detections(names, centroids.reshape(*lead, k, 2), counts.reshape(*lead, k))


def find_objects(
    frame: np.ndarray,
    colors: Mapping[str, Color],
    *,
    tol: float = DEFAULT_TOL,
    min_pixels: int = DEFAULT_MIN_PIXELS,
    background: Sequence[Color] = (),
) -> dict[str, Centroid | None] | dict[str, np.ndarray]:
    """Centroid of each coloured object, by name (see :func:`detect_objects` for the rule).

    Args:
        frame: uint8 RGB ``[H, W, 3]``, or a batch ``[..., H, W, 3]``.
        colors, tol, min_pixels, background: As in :func:`detect_objects`.

    Returns:
        For one frame, ``{name: (col, row) | None}`` in pixels (None = fewer than ``min_pixels`` pixels).
        For a batch, ``{name: float array [..., 2]}`` with NaN rows where the object is absent.
    """
    det = detect_objects(frame, colors, tol=tol, min_pixels=min_pixels, background=background)
    if det.centroids.ndim > 2:
        return {n: det.centroids[..., i, :] for i, n in enumerate(det.names)}
    return {n: None if np.isnan(col) else (float(col), float(row))
            for n, (col, row) in zip(det.names, det.centroids)}


def moving_mask(centroids: np.ndarray, *, threshold: float = DEFAULT_MOVE_THRESHOLD,
                per_step: bool = False) -> np.ndarray:
    """Which objects move over a clip: their centroid path spans more than ``threshold`` pixels.

    The span is the diagonal of the bounding box of the object's visible centroids, so it counts motion
    in any direction (also out and back) and ignores frames where the object is hidden.

    Args:
        centroids: ``[..., T, K, 2]`` (col, row) in pixels, NaN where absent (e.g. ``Detections.centroids``
            of GT frames ``[..., T, H, W, 3]``).
        threshold: Minimum span in pixels.
        per_step: Answer for every step: whether the path from the first frame through that step spans
            more than ``threshold``. An object then counts from the step it has moved far enough, and the
            answer at a step does not depend on how long the clip runs.

    Returns:
        bool ``[..., K]``, or ``[..., T, K]`` with ``per_step``; False for objects not yet seen.
    """
    c = np.asarray(centroids, dtype=np.float64)
    if c.ndim < 3 or c.shape[-1] != 2:
        raise ValueError(f"centroids has shape {c.shape}; expected [..., T, K, 2]")
    if per_step:  # running bounds; fmin/fmax skip the NaNs of hidden frames
        lo, hi = np.fmin.accumulate(c, axis=-3), np.fmax.accumulate(c, axis=-3)  # (..., T, K, 2)
    else:
        lo, hi = np.nanmin(c, axis=-3, initial=np.inf), np.nanmax(c, axis=-3, initial=-np.inf)  # (..., K, 2)
    span = np.hypot(*np.moveaxis(hi - lo, -1, 0))  # NaN or inf for objects never seen
    return np.isfinite(span) & (span > threshold)


def reappeared_mask(visible: np.ndarray) -> np.ndarray:
    """Which objects are back in view: bool ``[..., T, K]`` from ``visible`` bool ``[..., T, K]``.

    An object is back at step t when it is visible at t, and hidden at some earlier step after it had
    been visible before that. An object that was never seen before it first shows is not counted (nothing
    said it was there), and nor is one that never left view.
    """
    visible = np.asarray(visible, dtype=bool)
    if visible.ndim < 2:
        raise ValueError(f"visible has shape {visible.shape}; expected [..., T, K]")
    seen = np.logical_or.accumulate(visible, axis=-2)  # (..., T, K) shown at this step or before
    left = np.zeros_like(visible)
    left[..., 1:, :] = ~visible[..., 1:, :] & seen[..., :-1, :]  # hidden after having been seen
    gone = np.logical_or.accumulate(left, axis=-2)  # (..., T, K) has been hidden after being seen
    back = np.zeros_like(visible)
    back[..., 1:, :] = visible[..., 1:, :] & gone[..., :-1, :]
    return back


def moving_objects(
    gt_frames: np.ndarray,
    colors: Mapping[str, Color],
    *,
    threshold: float = DEFAULT_MOVE_THRESHOLD,
    tol: float = DEFAULT_TOL,
    min_pixels: int = DEFAULT_MIN_PIXELS,
    background: Sequence[Color] = (),
) -> list[str]:
    """Names of the objects that move in one GT clip ``[T, H, W, 3]`` (see :func:`moving_mask`).

    Use it to report the centroid error of moving objects only: static objects are easy to get right
    and would flatter a model (and the "repeat last frame" baseline).
    """
    gt_frames = _check_frames(gt_frames, "gt_frames", min_ndim=4)
    if gt_frames.ndim != 4:
        raise ValueError(f"gt_frames has shape {gt_frames.shape}; pass one clip [T, H, W, 3], or use "
                         "moving_mask(detect_objects(...).centroids) for batches")
    det = detect_objects(gt_frames, colors, tol=tol, min_pixels=min_pixels, background=background)
    moving = moving_mask(det.centroids, threshold=threshold)  # (K,)
    return [n for n, m in zip(det.names, moving) if m]


@dataclass(frozen=True)
class ObjectComparison:
    """Per-object comparison of generated frames with GT frames (see :func:`compare_objects`)."""

    gt: Detections
    """Objects in the GT frames, centroids [..., T, K, 2]."""
    gen: Detections
    """Objects in the generated frames, same detector."""
    error: np.ndarray
    """float64 [..., T, K]: centroid distance in pixels; NaN where the object is absent from GT;
    penalty where it is visible in GT but missing from the generation."""
    missing: np.ndarray
    """bool [..., T, K]: visible in GT, missing from the generation."""
    moving: np.ndarray
    """bool [..., K]: the object moves in GT over the clip (:func:`moving_mask`)."""
    penalty: float
    """Error in pixels charged for a missing object."""
    moved: np.ndarray | None = None
    """bool [..., T, K], where compare_objects was given since: the object's GT path from that
    frame through this step spans more than moved_threshold (:func:`moving_mask` per step)."""
    reappeared: np.ndarray | None = None
    """bool [..., T, K]: visible in GT at this step after GT hid it at an earlier step, having shown it
    before that (from ``since`` where given, else from the clip's first frame): an object back from
    behind an occluder (:func:`reappeared_mask`)."""

    @property
    def names(self) -> tuple[str, ...]:
        return self.gt.names

    @property
    def permanence(self) -> np.ndarray:
        """float64 ``[..., T]``: share of GT-visible objects present in the generation; NaN where GT
        shows no object."""
        return self._kept_share(self.gt.visible)

    def moved_permanence(self) -> np.ndarray:
        """float64 ``[..., T]``: share of the objects that have moved by that step (:attr:`moved`) and are
        visible in GT which the generation still shows; NaN where none has moved. Objects that are pushed
        or thrown are the hard ones to keep, and :attr:`permanence` dilutes them with the still ones."""
        if self.moved is None:
            raise ValueError("moved permanence needs the frame before the clip: pass since= to compare_objects")
        return self._kept_share(self.moved & self.gt.visible)

    def placed(self, radius: float = DEFAULT_PLACED_RADIUS) -> np.ndarray:
        """float64 ``[..., T]``: share of GT-visible objects the generation shows within ``radius`` pixels
        of their true centroid; NaN where GT shows no object. :attr:`permanence` counts an object that is
        still drawn anywhere, so a scene frozen while the truth moves on keeps all its objects; this
        counts only the ones that are where MuJoCo has them."""
        return self._kept_share(self.gt.visible, self._within(radius))

    def reappeared_placed(self, radius: float = DEFAULT_PLACED_RADIUS) -> np.ndarray:
        """float64 ``[..., T]``: share of the objects back in GT after being hidden (:attr:`reappeared`)
        that the generation shows within ``radius`` pixels of their true centroid; NaN where none is back.
        A model must remember an object it cannot see, and carry on its motion, to draw it there; one that
        forgot it draws nothing, one that froze it draws it where it went under."""
        if self.reappeared is None:
            raise ValueError("this comparison has no reappeared mask; build it with compare_objects")
        return self._kept_share(self.reappeared, self._within(radius))

    def _within(self, radius: float) -> np.ndarray:
        """bool ``[..., T, K]``: the generation shows the object within ``radius`` pixels of its true centroid."""
        if radius <= 0:
            raise ValueError(f"radius must be > 0 pixels, got {radius}")
        return self.gen.visible & (self.error <= radius)

    def _kept_share(self, counted: np.ndarray, shown_in_gen: np.ndarray | None = None) -> np.ndarray:
        """Share of the ``counted`` objects (bool ``[..., T, K]``) the generation shows (``shown_in_gen``,
        default: found anywhere), ``[..., T]``."""
        shown = counted.sum(-1)  # (..., T)
        kept = (counted & (self.gen.visible if shown_in_gen is None else shown_in_gen)).sum(-1)  # (..., T)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(shown > 0, kept / shown, np.nan)

    @property
    def extra(self) -> np.ndarray:
        """bool ``[..., T, K]``: present in the generation but not visible in GT (hallucinated, or not yet
        hidden)."""
        return self.gen.visible & ~self.gt.visible

    def error_by_name(self) -> dict[str, np.ndarray]:
        """``{name: error [..., T]}`` in pixels."""
        return {n: self.error[..., i] for i, n in enumerate(self.names)}

    def moving_error(self, per_step: bool = False) -> np.ndarray:
        """float64 ``[..., T]``: mean centroid error over the objects that move in GT and are visible in GT
        at that step; NaN where there are none.

        ``per_step`` counts an object only from the step it has moved (:attr:`moved`), so the error at a
        step does not depend on what happens later in the clip; otherwise every object that moves at any
        time in the clip counts at every step, including steps where it still rests (and a frame repeated
        from before the clip gets it exactly right)."""
        if per_step and self.moved is None:
            raise ValueError("per-step moving error needs the frame before the clip: pass since= to compare_objects")
        sel = (self.moved if per_step else self.moving[..., None, :]) & self.gt.visible  # (..., T, K)
        total = np.where(sel, self.error, 0.0).sum(-1)  # (..., T)
        n = sel.sum(-1)  # (..., T)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, total / n, np.nan)


def compare_objects(
    gt_frames: np.ndarray,
    gen_frames: np.ndarray,
    colors: Mapping[str, Color],
    *,
    tol: float = DEFAULT_TOL,
    min_pixels: int = DEFAULT_MIN_PIXELS,
    background: Sequence[Color] = (),
    move_threshold: float = DEFAULT_MOVE_THRESHOLD,
    missing_penalty: float | None = None,
    since: np.ndarray | None = None,
    moved_threshold: float = DEFAULT_MOVED_THRESHOLD,
) -> ObjectComparison:
    """Detect objects in GT and generated clips with the same detector and compare them.

    Args:
        gt_frames, gen_frames: uint8 RGB clips ``[..., T, H, W, 3]`` of equal shape.
        colors, tol, min_pixels, background: The detector, as in :func:`detect_objects`.
        move_threshold: Pixels an object's GT path must span to count as moving (:func:`moving_mask`).
        missing_penalty: Error in pixels for an object visible in GT but missing from the generation.
            Default: the frame diagonal ``hypot(H, W)`` (90.5 px at 64x64), the largest possible miss.
            Missing objects are also flagged in ``ObjectComparison.missing``, so they can be counted apart.
        since: The true frame just before the clips, ``[..., H, W, 3]`` (e.g. the last context frame).
            Given, ``ObjectComparison.moved`` says per step which objects have moved since it.
        moved_threshold: Pixels an object's GT path from ``since`` must span for ``moved``.

    Returns:
        :class:`ObjectComparison`.
    """
    gt_frames, gen_frames = _check_pair(gt_frames, gen_frames, min_ndim=4)
    detector = {"tol": tol, "min_pixels": min_pixels, "background": background}
    gt = detect_objects(gt_frames, colors, **detector)
    gen = detect_objects(gen_frames, colors, **detector)
    penalty = float(np.hypot(*gt_frames.shape[-3:-1])) if missing_penalty is None else float(missing_penalty)
    missing = gt.visible & ~gen.visible  # (..., T, K)
    d = gen.centroids - gt.centroids  # (..., T, K, 2)
    error = np.where(missing, penalty, np.hypot(d[..., 0], d[..., 1]))  # (..., T, K)
    moved, visible = None, gt.visible  # visible: from the frame the clip's motion and hiding are counted
    if since is not None:
        since = _check_frames(since, "since", min_ndim=3)
        if since.shape != gt_frames.shape[:-4] + gt_frames.shape[-3:]:
            raise ValueError(f"since has shape {since.shape}; expected one frame per clip, "
                             f"{gt_frames.shape[:-4] + gt_frames.shape[-3:]}")
        start = detect_objects(since, colors, **detector).centroids[..., None, :, :]  # (..., 1, K, 2)
        path = np.concatenate([start, gt.centroids], axis=-3)  # (..., 1 + T, K, 2)
        moved = moving_mask(path, threshold=moved_threshold, per_step=True)[..., 1:, :]  # (..., T, K)
        visible = ~np.isnan(path[..., 0])  # (..., 1 + T, K)
    reappeared = reappeared_mask(visible)[..., visible.shape[-2] - gt.visible.shape[-2]:, :]  # (..., T, K)
    return ObjectComparison(gt=gt, gen=gen, error=error, missing=missing,
                            moving=moving_mask(gt.centroids, threshold=move_threshold), penalty=penalty,
                            moved=moved, reappeared=reappeared)


def centroid_errors(
    gt_frames: np.ndarray,
    gen_frames: np.ndarray,
    colors: Mapping[str, Color],
    **kwargs,
) -> dict[str, np.ndarray]:
    """Per-object centroid error in pixels, ``{name: [..., T]}``.

    NaN where the object is absent from GT; ``missing_penalty`` (default: the frame diagonal) where it is
    visible in GT but missing from the generation. Use :func:`compare_objects` to get the missing flags
    (to count them apart) and the moving-object error from one detection pass.

    Args:
        gt_frames, gen_frames: uint8 RGB clips ``[..., T, H, W, 3]`` of equal shape.
        colors: ``{name: (r, g, b)}``.
        **kwargs: Keyword arguments of :func:`compare_objects` (tol, min_pixels, background, missing_penalty).
    """
    return compare_objects(gt_frames, gen_frames, colors, **kwargs).error_by_name()


def permanence(
    gt_frames: np.ndarray,
    gen_frames: np.ndarray,
    colors: Mapping[str, Color],
    **kwargs,
) -> np.ndarray:
    """Object permanence ``[..., T]``: the share of GT-visible objects present in the generation.

    1.0 where every object seen in GT is also found in the generated frame; NaN where GT shows none.
    ``**kwargs`` are the detector arguments of :func:`compare_objects`.
    """
    return compare_objects(gt_frames, gen_frames, colors, **kwargs).permanence


# ----------------------------------------------------------------------------------------------------
# Colour statistics
# ----------------------------------------------------------------------------------------------------


def color_histogram(frames: np.ndarray, *, bins: int = 8) -> np.ndarray:
    """Normalised joint RGB histogram per frame.

    Args:
        frames: uint8 RGB ``[..., H, W, 3]``.
        bins: Bins per channel (each covers ``256 / bins`` levels); ``bins**3`` cells in all.

    Returns:
        float64 ``[..., bins**3]``, each summing to 1.
    """
    frames = _check_uint8(_check_frames(frames, "frames"), "frames")
    if not 1 <= bins <= 256:
        raise ValueError(f"bins={bins}: must be in [1, 256]")
    flat = _flat_frames(frames)  # (N, H, W, 3)
    q = flat.astype(np.int64) * bins // 256  # (N, H, W, 3) bin index per channel
    cell = (q[..., 0] * bins + q[..., 1]) * bins + q[..., 2]  # (N, H, W)
    cells = bins**3
    offset = np.arange(len(flat))[:, None, None] * cells  # (N, 1, 1) one histogram per frame
    hist = np.bincount((cell + offset).ravel(), minlength=len(flat) * cells).reshape(len(flat), cells)
    return (hist / (flat.shape[1] * flat.shape[2])).reshape(*frames.shape[:-3], cells)


def color_histogram_distance(a: np.ndarray, b: np.ndarray, *, bins: int = 8) -> FloatOrArray:
    """L1 distance between the frames' normalised RGB histograms (:func:`color_histogram`).

    Position-free, so it measures colour drift over long rollouts (objects fading, changing colour or
    multiplying) even when the scene is too chaotic to compare centroids.

    Args:
        a, b: uint8 RGB frames ``[..., H, W, 3]`` of equal shape.
        bins: Bins per channel.

    Returns:
        ``[...]`` in [0, 2] (a float for single frames): 0 for equal colour content, 2 for disjoint colours.
    """
    a, b = _check_pair(a, b)
    return _scalar(np.abs(color_histogram(a, bins=bins) - color_histogram(b, bins=bins)).sum(-1))


__all__ = [
    "Color", "Centroid", "Detections", "ObjectComparison", "centroid_errors", "color_histogram",
    "color_histogram_distance", "compare_objects", "detect_objects", "find_objects", "moving_mask", "reappeared_mask",
    "moving_objects", "permanence", "psnr", "ssim",
]
