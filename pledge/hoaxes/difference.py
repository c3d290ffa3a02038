"""The original beside the fake: the two pictures aligned, and the regions where they differ.

A moderator attaches the original photo of a manipulated picture. Fakes are crops, rescales
and re-compressions of an original with a region pasted in or altered. This module finds the
map between the two (features matched, a homography estimated with MAGSAC), warps the original
into the suspect's frame, evens out their tones, and keeps the places where the suspect holds
something that the original does not have at or next to the same place.

It runs in a child process (OpenCV, numpy, and a few hundred milliseconds of CPU): the web
process must not import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from io import BytesIO
from itertools import combinations

import cv2
import numpy as np
from PIL import Image

from pledge.hoaxes.media import MediaError, open_stored

# Longest side of the frame ORB finds features in, and of the frame compared and shown.
FEATURE_SIDE = 1024
VIEW_SIDE = 1024
# ORB first: 0.1 s of CPU for both pictures at FEATURE_SIDE, and it holds through the crops,
# rescales, turns and re-compressions of a fake. SIFT is tried when ORB finds no plausible
# map: it ties a thumbnail beyond the reach of ORB's pyramid (a seventh of the original). At
# 1024 px SIFT costs 0.4 s and 200 MB, its first octave being the frame doubled; at SIFT_SIDE
# it finds as much in those cases for a fraction. (AKAZE is not in OpenCV 5's main modules.)
ORB_FEATURES = 4000
ORB_FAST_THRESHOLD = 12  # below the default 20: smooth photos still give corners
SIFT_FEATURES = 3000
SIFT_SIDE = 640
# Lowe's ratio test: a match is kept when clearly better than the second best.
RATIO = 0.75
# In pixels of the feature frame: how far a match may land from where the homography puts it.
RANSAC_PIXELS = 3.0
# Fewer inliers than this, and the two are not one picture.
MIN_MATCHES = 25
# With no region differing, this many inliers and this much of the suspect covered by the
# original: the same picture.
SAME_MATCHES = 80
SAME_COVERAGE = 0.9
# A plausible map between the full pictures: scale within 1/8..8, no mirror, little
# perspective (the depth w at the original's corners within this ratio), and an overlap of
# at least this share of the suspect.
MAX_SCALE = 8.0
MAX_PERSPECTIVE = 2.0
MIN_OVERLAP = 0.05
# Support of a homography: the suspect is cut into GRID × GRID cells, and a cell is rich when
# it holds RICH_CELL of the average cell's features (of those over the original); at least
# MIN_SUPPORT of the rich cells must hold an inlier. Measured: true pairs 0.7 to 1.0 (0.5 with
# half the picture replaced); different pictures sharing a banner 0.14 to 0.33.
GRID = 8
RICH_CELL = 0.25
MIN_SUPPORT = 0.4
# In grey levels: how far the suspect must lie outside the range of the original's nearby
# pixels to differ, however the differences are spread. Measured on copies shrunk to 0.37,
# turned, re-toned and saved at quality 20 to 60: no false region at 25; a colour shifted by
# 30 levels over a patch is found on textured pictures.
FLOOR = 30
# Changed blobs smaller than this share of the overlap are left out.
MIN_REGION = 0.002
MAX_REGIONS = 8
# Closing joins the pieces of one changed object (the strokes of a word, a face's features);
# boxes nearer than GAP are one region. Both are shares of the frame's longest side.
CLOSING = 0.02
GAP = 0.01
# Mean difference between a pixel's channels under which a picture is black and white.
GREY_SPREAD = 4.0
# The overlay: the outline's colour (RGB) and width, the light left outside the regions, the
# heat's colour and greatest weight. The aligned original is grey where the original is not.
OUTLINE = (255, 221, 0)
OUTLINE_WIDTH = 3
DIM = 0.35
HEAT = (255, 40, 40)
HEAT_STRENGTH = 0.3
GREY = (128, 128, 128)
VIEW_QUALITY = 85


class Outcome(StrEnum):
    ALIGNED = "aligned"  # the pictures were aligned; regions found (possibly none)
    SAME = "same"  # after alignment no region differs beyond noise: the fake itself, or a copy
    UNRELATED = "unrelated"  # no plausible homography: not an original of this picture
    UNREADABLE = "unreadable"  # not an image


@dataclass(frozen=True, slots=True)
class Region:
    """A changed region in the suspect picture's pixels; share is the part of it that differs."""

    x: int
    y: int
    width: int
    height: int
    share: float


@dataclass(frozen=True, slots=True)
class Comparison:
    outcome: Outcome
    regions: tuple[Region, ...] = ()  # largest first, at most MAX_REGIONS
    # Inlier matches of the homography; when UNRELATED, the most that any rejected one had;
    # 0 for identical bytes, which are never matched.
    matches: int = 0
    changed_share: float = 0.0  # the part of the overlap that differs, in the regions
    # JPEG, longest side at most VIEW_SIDE: the suspect dimmed outside the regions, a faint
    # heat of the difference, the regions outlined. Only when ALIGNED with regions, or SAME.
    overlay: bytes = b""
    # JPEG, the same size as the overlay: the original warped into the suspect's frame, grey
    # where it does not reach. Only when ALIGNED or SAME.
    aligned_original: bytes = b""


@dataclass(frozen=True, slots=True)
class _Frame:
    """The suspect and the original warped onto it, in the comparison frame."""

    suspect: np.ndarray  # RGB, uint8
    warped: np.ndarray  # RGB, uint8
    inside: np.ndarray  # bool: where the original lands
    valid: np.ndarray  # bool: inside, away from its edges
    scale: float  # comparison frame pixels per suspect pixel
    size: tuple[int, int]  # the suspect picture's width and height


Box = tuple[int, int, int, int]  # left, top, right, bottom (exclusive) in the comparison frame


def compare(original: bytes, suspect: bytes) -> Comparison:
    """How the suspect picture differs from its original; never raises for bad input."""
    suspect_rgb = _read(suspect)
    if suspect_rgb is None:
        return Comparison(Outcome.UNREADABLE)
    if original == suspect:
        return _identical(suspect_rgb)
    original_rgb = _read(original)
    if original_rgb is None:
        return Comparison(Outcome.UNREADABLE)
    try:
        return _compare(original_rgb, suspect_rgb)
    except cv2.error:
        # A picture OpenCV cannot work on has no original to be found.
        return Comparison(Outcome.UNRELATED)


def _read(data: bytes) -> np.ndarray | None:
    """A stored picture's RGB pixels, or None when it is not one."""
    if not data:
        return None
    try:
        picture = open_stored(data)
    except MediaError:
        return None
    return np.asarray(picture, dtype=np.uint8)


def _identical(rgb: np.ndarray) -> Comparison:
    view = _resized(rgb, _fit_scale(rgb.shape, VIEW_SIDE))
    dimmed = (view * DIM).astype(np.uint8)
    return Comparison(Outcome.SAME, overlay=_jpeg(dimmed), aligned_original=_jpeg(view))


def _compare(original: np.ndarray, suspect: np.ndarray) -> Comparison:
    homography, matches = _align(original, suspect)
    if homography is None:
        return Comparison(Outcome.UNRELATED, matches=matches)
    frame = _warp(original, suspect, homography)
    if frame.valid.mean() < MIN_OVERLAP:
        return Comparison(Outcome.UNRELATED, matches=matches)
    difference = _difference(frame)
    boxes, differing = _regions(difference, frame.valid)
    overlap = max(1, int(frame.valid.sum()))
    changed = sum(int(differing[t:b, le:r].sum()) for le, t, r, b in boxes) / overlap
    same = not boxes and matches >= SAME_MATCHES and frame.inside.mean() >= SAME_COVERAGE
    aligned = np.where(frame.inside[..., None], frame.warped, np.array(GREY, np.uint8))
    return Comparison(
        Outcome.SAME if same else Outcome.ALIGNED,
        regions=tuple(_region(box, differing, frame) for box in boxes),
        matches=matches,
        changed_share=round(changed, 4),
        overlay=_jpeg(_overlay(frame, difference, boxes)) if boxes or same else b"",
        aligned_original=_jpeg(aligned.astype(np.uint8)),
    )


# --- alignment ---------------------------------------------------------------------------


def _align(original: np.ndarray, suspect: np.ndarray) -> tuple[np.ndarray | None, int]:
    """The homography from the original's pixels to the suspect's, and its inlier count;
    None when no plausible one is found."""
    grey_o = cv2.cvtColor(original, cv2.COLOR_RGB2GRAY)
    grey_s = cv2.cvtColor(suspect, cv2.COLOR_RGB2GRAY)
    best = 0
    for detector, norm, side in _detectors():
        scale_o, scale_s = _fit_scale(grey_o.shape, side), _fit_scale(grey_s.shape, side)
        small_o, small_s = _resized(grey_o, scale_o), _resized(grey_s, scale_s)
        found, inliers = _homography(detector, norm, small_o, small_s)
        best = max(best, inliers)
        if found is None:
            continue
        full = np.diag([1 / scale_s, 1 / scale_s, 1.0]) @ found @ np.diag([scale_o, scale_o, 1.0])
        full = full / full[2, 2]
        if _plausible(full, original.shape, suspect.shape):
            return full, inliers
    return None, best


def _detectors() -> list[tuple[cv2.Feature2D, int, int]]:
    """Each detector, the norm its descriptors are compared by, and its frame's longest side."""
    orb = cv2.ORB.create(nfeatures=ORB_FEATURES, fastThreshold=ORB_FAST_THRESHOLD)
    sift = cv2.SIFT.create(nfeatures=SIFT_FEATURES)
    return [(orb, cv2.NORM_HAMMING, FEATURE_SIDE), (sift, cv2.NORM_L2, SIFT_SIDE)]


def _homography(
    detector: cv2.Feature2D, norm: int, grey_o: np.ndarray, grey_s: np.ndarray
) -> tuple[np.ndarray | None, int]:
    """The homography between the two feature frames, when enough matches agree on it and
    they hold most of what the suspect shows of the original; and its inlier count."""
    matched = _matches(detector, norm, grey_o, grey_s)
    if matched is None:
        return None, 0
    source, target, features = matched
    if len(source) < MIN_MATCHES:
        return None, len(source)
    found, mask = cv2.findHomography(
        source, target, cv2.USAC_MAGSAC, RANSAC_PIXELS, maxIters=2000, confidence=0.999
    )
    if found is None or mask is None or abs(np.linalg.det(found)) < 1e-12:
        return None, 0
    kept = mask.ravel().astype(bool)
    inliers = int(kept.sum())
    if inliers < MIN_MATCHES:
        return None, inliers
    if _support(found, grey_o.shape, grey_s.shape, features, target[kept]) < MIN_SUPPORT:
        return None, inliers
    return found / found[2, 2], inliers


def _matches(
    detector: cv2.Feature2D, norm: int, grey_o: np.ndarray, grey_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Where the matches that pass the ratio test lie in the original and in the suspect,
    and where all the suspect's features lie; None when either has too few features."""
    points_o, descriptors_o = detector.detectAndCompute(grey_o, None)
    points_s, descriptors_s = detector.detectAndCompute(grey_s, None)
    if descriptors_o is None or descriptors_s is None:
        return None
    if len(points_o) < MIN_MATCHES or len(points_s) < MIN_MATCHES:
        return None
    pairs = cv2.BFMatcher(norm).knnMatch(descriptors_o, descriptors_s, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    source = np.array([points_o[m.queryIdx].pt for m in good], np.float32).reshape(-1, 2)
    target = np.array([points_s[m.trainIdx].pt for m in good], np.float32).reshape(-1, 2)
    features = np.array([point.pt for point in points_s], np.float32)
    return source, target, features


def _support(
    homography: np.ndarray,
    shape_o: tuple[int, ...],
    shape_s: tuple[int, ...],
    features: np.ndarray,
    inliers: np.ndarray,
) -> float:
    """The share of the suspect's cells rich in features, over the original, that hold an
    inlier.

    A different picture that shares a banner, a logo or a poster with the original aligns on
    that part alone: its inliers hold a strip of the frame, while the rest of the suspect,
    full of features of its own, has none."""
    height, width = shape_o[:2]
    back = cv2.perspectiveTransform(features[None], np.linalg.inv(homography))[0]
    over = (back[:, 0] >= 0) & (back[:, 0] < width) & (back[:, 1] >= 0) & (back[:, 1] < height)
    counts = np.bincount(_cells(features[over], shape_s), minlength=GRID * GRID)
    rich = counts >= max(1.0, counts.sum() / (GRID * GRID) * RICH_CELL)
    held = np.zeros(GRID * GRID, bool)
    held[_cells(inliers, shape_s)] = True
    return float((held & rich).sum()) / max(1, int(rich.sum()))


def _cells(points: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The index of the GRID × GRID cell of the frame that each point falls in."""
    column = np.clip((points[:, 0] * GRID / shape[1]).astype(int), 0, GRID - 1)
    row = np.clip((points[:, 1] * GRID / shape[0]).astype(int), 0, GRID - 1)
    return row * GRID + column


def _plausible(homography: np.ndarray, shape_o: tuple[int, ...], shape_s: tuple[int, ...]) -> bool:
    """Whether the map between the full pictures is one that a crop, a rescale, a turn or a
    slight tilt could make, and lands on the suspect."""
    height, width = shape_o[:2]
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    depth = corners @ homography[2, :2] + homography[2, 2]
    if depth.min() <= 0 or depth.max() / depth.min() > MAX_PERSPECTIVE:
        return False
    determinant = float(np.linalg.det(homography[:2, :2]))
    if determinant <= 0 or not 1 / MAX_SCALE**2 <= determinant <= MAX_SCALE**2:
        return False
    quad = cv2.perspectiveTransform(corners[None], homography)[0]
    if not cv2.isContourConvex(quad):
        return False
    rows, columns = shape_s[:2]
    frame = np.array([[0, 0], [columns, 0], [columns, rows], [0, rows]], np.float32)
    overlap, _ = cv2.intersectConvexConvex(quad, frame)
    return bool(overlap > 0)


# --- the comparison frame ----------------------------------------------------------------


def _warp(original: np.ndarray, suspect: np.ndarray, homography: np.ndarray) -> _Frame:
    """Both pictures in one frame at most VIEW_SIDE long, and no finer than the original's
    detail: a suspect enlarged from a smaller original is compared at the original's
    resolution, and an original larger than needed is shrunk before it is warped."""
    # Suspect pixels per original pixel, on average over the original.
    height, width = original.shape[:2]
    corners = np.array([[[0, 0], [width, 0], [width, height], [0, height]]], np.float32)
    area = cv2.contourArea(cv2.perspectiveTransform(corners, homography))
    magnification = float(np.sqrt(area / (width * height)))
    scale = _fit_scale(suspect.shape, VIEW_SIDE)
    if magnification > 1:
        scale = min(scale, 1 / magnification)
    shrink = scale * magnification  # the original is shrunk by this before it is warped
    if shrink > 0.95:
        shrink = 1.0
    small = _resized(original, shrink)
    view = _resized(suspect, scale)
    size = (view.shape[1], view.shape[0])
    into = np.diag([scale, scale, 1.0]) @ homography @ np.diag([1 / shrink, 1 / shrink, 1.0])
    warped = cv2.warpPerspective(
        small, into, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    ones = np.full(small.shape[:2], 255, np.uint8)
    inside = cv2.warpPerspective(ones, into, size, flags=cv2.INTER_NEAREST) > 0
    # The blur and the neighbourhood of the comparison reach a few pixels: stay off the edge.
    valid = cv2.erode(inside.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    return _Frame(view, warped, inside, valid, scale, (suspect.shape[1], suspect.shape[0]))


def _fit_scale(shape: tuple[int, ...], side: int) -> float:
    return min(1.0, side / max(shape[0], shape[1]))


def _resized(pixels: np.ndarray, scale: float) -> np.ndarray:
    if scale >= 1.0:
        return pixels
    size = (max(1, round(pixels.shape[1] * scale)), max(1, round(pixels.shape[0] * scale)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)


# --- differences -------------------------------------------------------------------------


def _matched_tones(frame: _Frame) -> np.ndarray:
    """The warped original with each channel's mean and spread made the suspect's, over the
    overlap: re-compression, filters and brightness edits move every tone. A suspect in black
    and white is met by the original in black and white."""
    warped = frame.warped.astype(np.float32)
    if _is_grey(frame.suspect, frame.valid):
        warped[...] = cv2.cvtColor(frame.warped, cv2.COLOR_RGB2GRAY)[..., None]
    suspect = frame.suspect.astype(np.float32)
    for channel in range(3):
        source = warped[..., channel][frame.valid]
        target = suspect[..., channel][frame.valid]
        gain = float(target.std()) / max(float(source.std()), 1.0)
        warped[..., channel] = (warped[..., channel] - source.mean()) * gain + target.mean()
    return np.clip(warped, 0, 255).astype(np.uint8)


def _is_grey(rgb: np.ndarray, where: np.ndarray) -> bool:
    """Whether the picture's channels are the same but for noise."""
    pixels = rgb[where].astype(np.int16)
    if pixels.size == 0:
        return False
    spread = np.abs(pixels[:, 0] - pixels[:, 1]) + np.abs(pixels[:, 1] - pixels[:, 2])
    return float(spread.mean()) < GREY_SPREAD


def _difference(frame: _Frame) -> np.ndarray:
    """Per pixel, how far the suspect lies outside the range of the original's pixels around
    it (3 × 3, both lightly blurred), in grey levels, the largest of the three channels.

    Comparing with a neighbourhood's range rather than one pixel forgives the fraction of a
    pixel that alignment and resampling leave at every edge; the blur forgives JPEG's noise.
    On small print shrunk and saved again, a plain difference finds ten times more."""
    original = cv2.GaussianBlur(_matched_tones(frame), (5, 5), 1.0)
    suspect = cv2.GaussianBlur(frame.suspect, (5, 5), 1.0)
    around = np.ones((3, 3), np.uint8)
    low, high = cv2.erode(original, around), cv2.dilate(original, around)
    above, below = cv2.subtract(suspect, high), cv2.subtract(low, suspect)
    difference = np.maximum(above, below).max(axis=2)
    difference[~frame.valid] = 0
    return difference


def _threshold(difference: np.ndarray, valid: np.ndarray) -> float:
    """FLOOR, or higher when the overlap's differences split clearly in two (Otsu)."""
    values = difference[valid].reshape(-1, 1)
    if values.size == 0:
        return float(FLOOR)
    otsu, _ = cv2.threshold(values, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return max(float(FLOOR), float(otsu))


def _regions(difference: np.ndarray, valid: np.ndarray) -> tuple[list[Box], np.ndarray]:
    """The boxes of the changed regions, largest first, and the differing pixels."""
    differing = (difference > _threshold(difference, valid)).astype(np.uint8)
    speck = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    cleaned = cv2.morphologyEx(differing, cv2.MORPH_OPEN, speck)
    side = max(difference.shape)
    reach = max(3, round(side * CLOSING) | 1)
    joiner = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach))
    joined = cv2.morphologyEx(cleaned, cv2.MORPH_CLOSE, joiner)
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    smallest = MIN_REGION * max(1, int(valid.sum()))
    boxes = [
        (int(x), int(y), int(x + w), int(y + h))
        for x, y, w, h, area in stats[1:count]
        if area >= smallest
    ]
    merged = _merge(boxes, max(1, round(side * GAP)))
    merged.sort(key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)
    return merged[:MAX_REGIONS], cleaned.astype(bool)


def _merge(boxes: list[Box], gap: int) -> list[Box]:
    """The boxes, any two nearer than gap replaced by the box around both, until none are."""
    boxes = list(boxes)
    merging = True
    while merging:
        merging = False
        for i, j in combinations(range(len(boxes)), 2):
            a, b = boxes[i], boxes[j]
            apart_x = a[0] - gap > b[2] or b[0] - gap > a[2]
            apart_y = a[1] - gap > b[3] or b[1] - gap > a[3]
            if not (apart_x or apart_y):
                boxes[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                del boxes[j]
                merging = True
                break
    return boxes


def _region(box: Box, differing: np.ndarray, frame: _Frame) -> Region:
    """A box of the comparison frame in the suspect picture's pixels."""
    left, top, right, bottom = box
    area = max(1, int(frame.valid[top:bottom, left:right].sum()))
    share = int(differing[top:bottom, left:right].sum()) / area
    x, y = int(left / frame.scale), int(top / frame.scale)
    x2 = min(frame.size[0], int(np.ceil(right / frame.scale)))
    y2 = min(frame.size[1], int(np.ceil(bottom / frame.scale)))
    return Region(x, y, x2 - x, y2 - y, round(min(1.0, share), 4))


# --- pictures ----------------------------------------------------------------------------


def _overlay(frame: _Frame, difference: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """The suspect dimmed but in the regions, a faint red where it differs, and the regions
    outlined in a colour that holds on any picture, over a dark edge."""
    lit = np.full(difference.shape, DIM, np.float32)
    for left, top, right, bottom in boxes:
        lit[top:bottom, left:right] = 1.0
    picture = frame.suspect.astype(np.float32) * lit[..., None]
    heat = np.clip(difference.astype(np.float32) / (2 * FLOOR), 0, 1)[..., None] * HEAT_STRENGTH
    picture = picture * (1 - heat) + np.array(HEAT, np.float32) * heat
    out = np.ascontiguousarray(np.clip(picture, 0, 255).astype(np.uint8))
    height, width = out.shape[:2]
    for left, top, right, bottom in boxes:
        # Just outside the region, so that the line hides nothing that changed.
        corner_a = (max(0, left - OUTLINE_WIDTH), max(0, top - OUTLINE_WIDTH))
        corner_b = (
            min(width - 1, right - 1 + OUTLINE_WIDTH),
            min(height - 1, bottom - 1 + OUTLINE_WIDTH),
        )
        cv2.rectangle(out, corner_a, corner_b, (0, 0, 0), OUTLINE_WIDTH + 2)
        cv2.rectangle(out, corner_a, corner_b, OUTLINE, OUTLINE_WIDTH)
    return out


def _jpeg(rgb: np.ndarray) -> bytes:
    """Without chroma subsampling, which would blur the outline's colour."""
    buffer = BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=VIEW_QUALITY, subsampling=0)
    return buffer.getvalue()
