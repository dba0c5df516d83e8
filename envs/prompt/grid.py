"""The 3x3 grid of regions: a region's cell and the regions a step away (``_cell``, ``_stepped``), the
region and the way (one of the eight DIRECTIONS) that region words name (``_region``, ``_direction``), the
way from one region to another (``_way_between``), and the rows and columns of the grid ("in a row at the
top": ``_line_of``, ``_line_slots``)."""

from __future__ import annotations

from worldsim.envs.prompt.errors import PromptError
from worldsim.envs.prompt.vocabulary import _HORIZONTAL, _LINE_SLOTS, _VERTICAL

_ROWS = {"top": -1, "bottom": 1}
_OPPOSITE = {"top": "bottom", "bottom": "top", "left": "right", "right": "left"}
_COLUMNS = {"left": -1, "right": 1}


def _cell(region: str) -> tuple[int, int]:
    """A region's (row, column) on the 3x3 grid, each in -1..1: "top left" -> (-1, -1), "centre" -> (0, 0)."""
    parts = region.split()
    return sum(_ROWS.get(p, 0) for p in parts), sum(_COLUMNS.get(p, 0) for p in parts)


def _way_step(way: str) -> tuple[int, int]:
    """The grid step of one of the eight ways: "up-left" -> (-1, -1)."""
    return _cell(way.replace("up", "top").replace("down", "bottom").replace("-", " "))


def _stepped(region: str, step: tuple[int, int], times: int = 1) -> str | None:
    """The region ``times`` steps on from ``region`` (back, for a negative count); None off the grid."""
    row, column = _cell(region)
    return _region_at(row + times * step[0], column + times * step[1])


def _region_at(row: int, column: int) -> str | None:
    """The region at a grid cell, None off the grid: (-1, 1) -> "top right"."""
    if not (-1 <= row <= 1 and -1 <= column <= 1):
        return None
    names = [name for name, v in _ROWS.items() if v == row] + [name for name, v in _COLUMNS.items() if v == column]
    return " ".join(names) or "centre"


def _region(words: list[str]) -> str:
    """The region named by region words ("top", "left", "centre"...): "top left", "left", "centre"."""
    vertical = list(dict.fromkeys(_VERTICAL[w] for w in words if w in _VERTICAL))
    horizontal = list(dict.fromkeys(_HORIZONTAL[w] for w in words if w in _HORIZONTAL))
    if len(vertical) > 1 or len(horizontal) > 1:
        raise PromptError(f"{' '.join(words)!r} names two places at once; name one region, e.g. 'top left'")
    return " ".join(vertical + horizontal) or "centre"


def _direction(words: list[str]) -> str:
    """One of the eight DIRECTIONS from region words: "top left" -> "up-left"."""
    region = _region(words)
    if region == "centre":
        raise PromptError(f"{' '.join(words)!r} is not a direction; use up, down, left, right or e.g. up-left")
    return region.replace("top", "up").replace("bottom", "down").replace(" ", "-")


def _away_from(region: str) -> str:
    """The way away from a region off the centre: "left" -> "right", "top left" -> "down-right"."""
    return _direction([_OPPOSITE[w] for w in region.split()])


def _way_between(here: str, there: str) -> str:
    """The way from one region of the grid to another: ("left", "top right") -> "up-right"."""
    (r1, c1), (r2, c2) = _cell(here), _cell(there)
    return _direction([w for w, d in (("top", r1 - r2), ("bottom", r2 - r1), ("left", c1 - c2), ("right", c2 - c1))
                       if d > 0])


def _line_of(region: str | None) -> tuple[str, str | None] | None:
    """("row", "top") for the place "in a row at the top" (``_Segmenter._line``), ("row", None) for "in a
    row"; None for a region of the grid."""
    line, _, fixed = (region or "").partition(" ")
    return (line, fixed or None) if line in _LINE_SLOTS else None


def _line_slots(line: str, fixed: str, n: int) -> list[str]:
    """The regions of n things in a row (or column) through the region ``fixed``: "top" -> top left, top, top right."""
    slots = _LINE_SLOTS[line] if n == 3 else _LINE_SLOTS[line][::2]
    if fixed == "centre":
        return list(slots)
    return [fixed if s == "centre" else (f"{fixed} {s}" if line == "row" else f"{s} {fixed}") for s in slots]
