"""Scene specs for the MuJoCo ground-truth worlds: dataclasses, sampling, MJCF and pixel geometry.

A scene is a walled square arena seen from straight above by a fixed orthographic camera that
renders 64x64 RGB. Agents are spheres pushed by a 2-D force (two slide joints driven by motors).
Objects (sphere, box, cylinder) sit on the floor on x/y slide joints, so they stay planar and the
top-down view shows exactly where they are. An optional opaque slab floats above the floor and
hides whatever passes under it; an optional goal patch is drawn on the floor.

Conventions:
    * World frame: metres, x points to the right of the image, y to the top of the image.
    * Pixels: ``(col, row)`` with integer values at pixel centres, row 0 at the top of the image,
      so the mean index of an object's mask is its centroid.
    * Object ``size`` is the radius of a sphere or cylinder, or the half side of a box.
    * Contacts are frictionless (``condim=1``) and motion is slowed by viscous joint damping, so an
      object given a velocity glides and slows with time constant :data:`OBJECT_DRAG_TIME`.

Scene families (``SceneSpec.sample(rng, family)``):
    * ``playground``: 1-3 random objects with distinct colours, random sizes, masses, poses,
      small initial velocities, and sometimes a slab.
    * ``pushbox``: like playground, plus a goal patch and a push task naming a box.
    * ``occlusion``: an object starts on one side of a slab, moving fast enough to pass under it
      and come out the other side; the agent waits outside its path.
    * ``twoagents``: a white and a pink agent and one box.
    * ``reach``: a goal patch and 0-2 still objects; the task is to drive the agent onto the goal.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, fields
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np

RGB = tuple[int, int, int]
Vec2 = tuple[float, float]

# --------------------------------------------------------------------------------------------
# Constants: rendering, colours, physics
# --------------------------------------------------------------------------------------------

IMAGE_SIZE = 64  # pixels, square frames
TIMESTEP = 0.005  # s, one physics step
CONTROL_DT = 0.1  # s, one env step (10 Hz control)
FRAME_SKIP = round(CONTROL_DT / TIMESTEP)  # physics steps per env step
MAX_OBJECTS = 3  # object slots in every env model
SHAPES = ("sphere", "box", "cylinder")
FAMILIES = ("playground", "pushbox", "occlusion", "twoagents", "reach")

#: Object colours (RGB 0-255). Flat surfaces render at exactly these values; see render_palette().
PALETTE: dict[str, RGB] = {
    "red": (220, 40, 40),
    "green": (40, 190, 60),
    "blue": (40, 80, 230),
    "yellow": (230, 210, 40),
    "cyan": (40, 210, 220),
    "magenta": (210, 50, 210),
    "orange": (240, 140, 30),
}
#: The (first) agent is white.
AGENT_COLOR: RGB = (255, 255, 255)
#: Agent colours by name, in agent order: the second agent (TwoAgents) is pink, which is in no palette.
AGENT_COLORS: dict[str, RGB] = {"white": AGENT_COLOR, "pink": (255, 150, 200)}
#: The names :func:`render_palette` (and so every colour detector) gives the agents' colours.
AGENT_PALETTE_NAMES: dict[str, str] = {"white": "agent", "pink": "agent2"}
FLOOR_COLOR: RGB = (60, 60, 60)  # dark neutral grey
WALL_COLOR: RGB = (140, 140, 140)  # lighter grey
SLAB_COLOR: RGB = (120, 85, 50)  # opaque brown, not in the palette
GOAL_COLOR: RGB = (70, 75, 110)  # subtle slate floor patch, not in the palette

AGENT_RADIUS = 0.1  # m (about 6 px across)
AGENT_MASS = 1.0  # kg
AGENT_DAMPING = 4.0  # N s/m on each slide joint: velocity time constant 0.25 s
AGENT_MAX_FORCE = 3.0  # N at |action| = 1: terminal speed 0.75 m/s (about 2 px per env step)
OBJECT_DRAG_TIME = 1.0  # s, velocity time constant of a free object (damping = mass / this)
SIZE_RANGE = (0.07, 0.14)  # m, object size: 4-8 px across
MASS_RANGE = (0.3, 1.5)  # kg
SLAB_Z = 0.4  # m, height of the slab centre: above every object and agent
SLAB_HALF_THICKNESS = 0.02  # m
GOAL_HALF_SIZE = 0.15  # m, half side of the goal square
REACH_MIN_START = 0.5  # m, least distance from a reach scene's agent to its goal's centre
CLEARANCE = 0.03  # m, minimum gap between bodies (and walls) when sampling a scene
HEADLIGHT_AMBIENT = 0.7  # flat lighting: ambient + diffuse = 1, so flat tops keep their RGB
HEADLIGHT_DIFFUSE = 0.3
HIDDEN_GROUP = 3  # geom group of unused slots; the renderer draws groups 0-2 only


# --------------------------------------------------------------------------------------------
# Spec dataclasses
# --------------------------------------------------------------------------------------------


def _vec2(value: Any, what: str) -> Vec2:
    arr = np.asarray(value, dtype=float)
    if arr.shape != (2,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} must be two finite numbers (x, y) in metres, got {value!r}")
    return (float(arr[0]), float(arr[1]))


@dataclass
class ArenaSpec:
    """The walled square arena.

    Attributes:
        half_size: Half side of the free floor inside the walls, in metres.
        wall_thickness: Wall thickness in metres; the camera sees the arena and its walls exactly.
    """

    half_size: float = 1.0
    wall_thickness: float = 0.1

    def __post_init__(self) -> None:
        if not (0.3 <= self.half_size <= 10.0) or not (0.0 < self.wall_thickness <= 1.0):
            raise ValueError(
                f"ArenaSpec(half_size={self.half_size}, wall_thickness={self.wall_thickness}): "
                "half_size must be in [0.3, 10] m and wall_thickness in (0, 1] m"
            )

    @property
    def view_half(self) -> float:
        """Half side of the square the camera sees, in metres (arena plus walls)."""
        return self.half_size + self.wall_thickness


@dataclass
class AgentSpec:
    """An actuated agent sphere.

    Attributes:
        pos: Initial (x, y) in metres.
        vel: Initial (vx, vy) in m/s.
        color: Name in :data:`AGENT_COLORS` ("white" or "pink").
    """

    pos: Vec2
    vel: Vec2 = (0.0, 0.0)
    color: str = "white"

    def __post_init__(self) -> None:
        self.pos = _vec2(self.pos, "AgentSpec.pos")
        self.vel = _vec2(self.vel, "AgentSpec.vel")
        if self.color not in AGENT_COLORS:
            raise ValueError(f"AgentSpec.color={self.color!r}; choose one of {sorted(AGENT_COLORS)}")

    @property
    def radius(self) -> float:
        """Sphere radius in metres."""
        return AGENT_RADIUS


@dataclass
class ObjectSpec:
    """A movable object on the floor.

    Attributes:
        shape: "sphere", "box" or "cylinder".
        color: Name in :data:`PALETTE`.
        size: Sphere/cylinder radius or box half side, in metres.
        mass: Mass in kg.
        pos: Initial (x, y) in metres.
        vel: Initial (vx, vy) in m/s.
    """

    shape: str
    color: str
    size: float
    mass: float
    pos: Vec2
    vel: Vec2 = (0.0, 0.0)

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"ObjectSpec.shape={self.shape!r}; choose one of {list(SHAPES)}")
        if self.color not in PALETTE:
            raise ValueError(f"ObjectSpec.color={self.color!r}; choose one of {list(PALETTE)}")
        if not (0.02 <= self.size <= 0.3):
            raise ValueError(
                f"ObjectSpec.size={self.size} m is out of range; use 0.02-0.3 (default {SIZE_RANGE})"
            )
        if not (self.mass > 0.0):
            raise ValueError(f"ObjectSpec.mass={self.mass} kg must be positive")
        self.size, self.mass = float(self.size), float(self.mass)
        self.pos = _vec2(self.pos, "ObjectSpec.pos")
        self.vel = _vec2(self.vel, "ObjectSpec.vel")


@dataclass
class SlabSpec:
    """An opaque slab floating above the floor; anything under it is hidden from the camera.

    Attributes:
        center: (x, y) of the slab centre in metres.
        half_size: (half width, half depth) in metres.
    """

    center: Vec2
    half_size: Vec2

    def __post_init__(self) -> None:
        self.center = _vec2(self.center, "SlabSpec.center")
        self.half_size = _vec2(self.half_size, "SlabSpec.half_size")
        if min(self.half_size) <= 0.0:
            raise ValueError(f"SlabSpec.half_size={self.half_size} must be positive")


@dataclass
class GoalSpec:
    """A square goal patch on the floor (drawn in :data:`GOAL_COLOR`, no collision).

    Attributes:
        center: (x, y) in metres.
        half_size: Half side in metres.
    """

    center: Vec2
    half_size: float = GOAL_HALF_SIZE

    def __post_init__(self) -> None:
        self.center = _vec2(self.center, "GoalSpec.center")
        if self.half_size <= 0.0:
            raise ValueError(f"GoalSpec.half_size={self.half_size} must be positive")
        self.half_size = float(self.half_size)


@dataclass
class TaskSpec:
    """A task for agent agent: push object object in a direction or into the goal, or, with
    object=None, reach the goal itself.

    Attributes:
        agent: Index into SceneSpec.agents.
        object: Index into SceneSpec.objects, or None for a reach task.
        direction: One of :data:`DIRECTIONS`, or None to push the object into the goal (always None
            for a reach task).
    """

    agent: int
    object: int | None
    direction: str | None = None

    def __post_init__(self) -> None:
        if self.direction is not None and self.direction not in DIRECTIONS:
            raise ValueError(
                f"TaskSpec.direction={self.direction!r}; use None (the goal) or one of {DIRECTIONS}"
            )
        if self.object is None and self.direction is not None:
            raise ValueError("a reach task (TaskSpec.object=None) goes to the goal; it takes no direction")

    @property
    def reach(self) -> bool:
        """Whether the agent itself goes to the goal (no object is pushed)."""
        return self.object is None


@dataclass
class SceneSpec:
    """A complete scene: arena, agents, objects and the optional slab, goal and task.

    Attributes:
        agents: Actuated agent spheres, in action order.
        objects: Up to :data:`MAX_OBJECTS` movable objects.
        arena: The walled arena.
        slab: Optional occluding slab.
        goal: Optional goal patch.
        task: Optional task (PushBox pushes into the goal, Reach goes there).
    """

    agents: list[AgentSpec]
    objects: list[ObjectSpec]
    arena: ArenaSpec = field(default_factory=ArenaSpec)
    slab: SlabSpec | None = None
    goal: GoalSpec | None = None
    task: TaskSpec | None = None

    def __post_init__(self) -> None:
        if not self.agents:
            raise ValueError("SceneSpec needs at least one agent")
        if len(self.agents) > len(AGENT_COLORS):
            raise ValueError(
                f"SceneSpec has {len(self.agents)} agents; at most {len(AGENT_COLORS)} are supported"
            )
        if len(self.objects) > MAX_OBJECTS:
            raise ValueError(
                f"SceneSpec has {len(self.objects)} objects; at most {MAX_OBJECTS} are supported"
            )
        h = self.arena.half_size
        for what, pos in [*((f"agent {i}", a.pos) for i, a in enumerate(self.agents)),
                          *((f"object {i} ({o.color} {o.shape})", o.pos) for i, o in enumerate(self.objects))]:
            if max(abs(pos[0]), abs(pos[1])) > h:
                raise ValueError(f"SceneSpec: {what} at ({pos[0]:g}, {pos[1]:g}) m lies outside the arena; "
                                 f"positions must be within ±{h:g} m (ArenaSpec.half_size)")
        if self.task is not None:
            if not (0 <= self.task.agent < len(self.agents)) or not (
                self.task.reach or 0 <= self.task.object < len(self.objects)
            ):
                raise ValueError(
                    f"TaskSpec(agent={self.task.agent}, object={self.task.object}) does not index the "
                    f"{len(self.agents)} agents and {len(self.objects)} objects of the scene"
                )
            if self.task.direction is None and self.goal is None:
                raise ValueError(
                    f"TaskSpec with direction=None {'reaches' if self.task.reach else 'pushes into'} the goal, "
                    "but the scene has no goal"
                )

    # ---- serialisation ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (lists, floats, strings, None) that :meth:`from_dict` inverts."""

        def conv(obj: Any) -> Any:
            if obj is None or isinstance(obj, (str, int, float)):
                return obj
            if isinstance(obj, (list, tuple)):
                return [conv(v) for v in obj]
            return {f.name: conv(getattr(obj, f.name)) for f in fields(obj)}

        return conv(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SceneSpec:
        """Rebuild a spec from :meth:`to_dict` output (e.g. ``info["spec"]`` or a stored episode)."""
        if isinstance(data, SceneSpec):
            return data
        if not isinstance(data, dict):
            raise TypeError(f"SceneSpec.from_dict expects a dict, got {type(data).__name__}")
        _check_keys(data, cls, "SceneSpec")

        def sub(kind: type, value: Any, what: str) -> Any:
            if value is None:
                return None
            _check_keys(value, kind, what)
            return kind(**value)

        return cls(
            agents=[sub(AgentSpec, a, "agent") for a in data.get("agents", [])],
            objects=[sub(ObjectSpec, o, "object") for o in data.get("objects", [])],
            arena=sub(ArenaSpec, data.get("arena", {}), "arena") or ArenaSpec(),
            slab=sub(SlabSpec, data.get("slab"), "slab"),
            goal=sub(GoalSpec, data.get("goal"), "goal"),
            task=sub(TaskSpec, data.get("task"), "task"),
        )

    # ---- sampling ----------------------------------------------------------------------------

    @classmethod
    def sample(
        cls,
        rng: np.random.Generator,
        family: str = "playground",
        *,
        n_objects: int | None = None,
        slab: bool | None = None,
        arena: ArenaSpec | None = None,
    ) -> SceneSpec:
        """Sample a random scene of a family.

        Args:
            rng: Source of randomness; the same generator state gives the same scene.
            family: One of :data:`FAMILIES`.
            n_objects: Number of objects (1-3; 0-2 for reach) for playground/pushbox/reach; sampled when None.
            slab: Force the playground slab on or off; sampled (25 %) when None.
            arena: Arena geometry; the default arena when None.

        Returns:
            A valid spec with no overlapping bodies.
        """
        if family not in FAMILIES:
            raise ValueError(f"unknown scene family {family!r}; choose one of {FAMILIES}")
        lo = 0 if family == "reach" else 1
        if n_objects is not None and not (lo <= n_objects <= MAX_OBJECTS):
            raise ValueError(f"n_objects={n_objects}; use {lo}-{MAX_OBJECTS} or None")
        arena = arena or ArenaSpec()
        for _ in range(100):
            if family == "occlusion":
                spec = _sample_occlusion(rng, arena)
            else:
                spec = _sample_scattered(rng, arena, family, n_objects, slab)
            if spec is not None:
                return spec
        raise RuntimeError(f"could not place a {family} scene in arena {arena}; make the arena larger")

    # ---- MJCF --------------------------------------------------------------------------------

    def to_mjcf(self, *, slots: int | None = None) -> str:
        """Build the MJCF XML of the scene.

        Args:
            slots: If given, pad the objects to this many slots and always emit the slab and goal
                geoms, hiding unused ones (geom group 3, no collisions). Every scene with the same
                number of agents then compiles to the same model layout, so an env can keep one
                model and one renderer and load each new scene's parameters into them.

        Returns:
            The MJCF document. Initial velocities are in the keyframe named "initial".
        """
        if slots is not None and slots < len(self.objects):
            raise ValueError(f"slots={slots} is fewer than the scene's {len(self.objects)} objects")
        return _build_mjcf(self, slots)

    # ---- helpers ----------------------------------------------------------------------------

    def object_names(self) -> list[str]:
        """Unique names such as "red_box", with "_2", "_3" added to repeated colour+shape pairs."""
        names, seen = [], {}
        for obj in self.objects:
            base = f"{obj.color}_{obj.shape}"
            seen[base] = seen.get(base, 0) + 1
            names.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
        return names


def _check_keys(data: Any, kind: type, what: str) -> None:
    if not isinstance(data, dict):
        raise TypeError(f"{what} must be a dict, got {type(data).__name__}")
    allowed = {f.name for f in fields(kind)}
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"unknown {what} field(s) {sorted(unknown)}; allowed: {sorted(allowed)}")


# --------------------------------------------------------------------------------------------
# Geometry: pixels, regions, directions, footprints
# --------------------------------------------------------------------------------------------

#: The 3x3 grid of region names, row-major from the top left.
REGIONS = (
    "top left",
    "top",
    "top right",
    "left",
    "centre",
    "right",
    "bottom left",
    "bottom",
    "bottom right",
)
#: Eight motion directions in image terms, counter-clockwise from "right" (angle 0 in world x/y).
DIRECTIONS = ("right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right")


def _arena_of(spec: SceneSpec | ArenaSpec | None) -> ArenaSpec:
    if spec is None:
        return ArenaSpec()
    return spec if isinstance(spec, ArenaSpec) else spec.arena


def world_to_pixel(spec: SceneSpec | ArenaSpec | None, xy: Any) -> np.ndarray:
    """Map world (x, y) in metres to continuous pixel coordinates of the top-down camera.

    Args:
        spec: The scene (or just its arena; None means the default arena).
        xy: Array-like ``[..., 2]`` of world positions.

    Returns:
        float64 ``[..., 2]`` of ``(col, row)``; integers are pixel centres, row 0 is the top row.
        A single point unpacks as ``col, row = world_to_pixel(spec, (x, y))``.
    """
    v = _arena_of(spec).view_half
    xy = np.asarray(xy, dtype=float)  # (..., 2)
    scale = IMAGE_SIZE / (2.0 * v)  # px per metre
    col = (xy[..., 0] + v) * scale - 0.5
    row = (v - xy[..., 1]) * scale - 0.5
    return np.stack([col, row], axis=-1)  # (..., 2)


def pixel_to_world(spec: SceneSpec | ArenaSpec | None, colrow: Any) -> np.ndarray:
    """Inverse of :func:`world_to_pixel`: ``[..., 2]`` (col, row) -> ``[..., 2]`` (x, y) metres."""
    v = _arena_of(spec).view_half
    cr = np.asarray(colrow, dtype=float)  # (..., 2)
    scale = IMAGE_SIZE / (2.0 * v)
    x = (cr[..., 0] + 0.5) / scale - v
    y = v - (cr[..., 1] + 0.5) / scale
    return np.stack([x, y], axis=-1)  # (..., 2)


def pixels_per_metre(spec: SceneSpec | ArenaSpec | None = None) -> float:
    """Image scale of the top-down camera."""
    return IMAGE_SIZE / (2.0 * _arena_of(spec).view_half)


def region_of(spec: SceneSpec | ArenaSpec | None, xy: Any) -> str:
    """Name of the 3x3 grid cell (see :data:`REGIONS`) that contains world point ``xy``."""
    third = _arena_of(spec).half_size / 3.0
    x, y = float(xy[0]), float(xy[1])
    col = 0 if x < -third else (2 if x > third else 1)
    row = 0 if y > third else (2 if y < -third else 1)
    return REGIONS[3 * row + col]


def region_bounds(spec: SceneSpec | ArenaSpec | None, region: str) -> tuple[float, float, float, float]:
    """World bounds ``(xmin, xmax, ymin, ymax)`` of a region of the 3x3 grid."""
    if region not in REGIONS:
        raise ValueError(f"unknown region {region!r}; choose one of {REGIONS}")
    half = _arena_of(spec).half_size
    third = half / 3.0
    edges = (-half, -third, third, half)
    i = REGIONS.index(region)
    row, col = divmod(i, 3)
    return edges[col], edges[col + 1], edges[3 - row - 1], edges[3 - row]


def direction_of(vel: Any) -> str:
    """The nearest of the eight :data:`DIRECTIONS` to a velocity (vx, vy)."""
    angle = math.atan2(float(vel[1]), float(vel[0]))
    return DIRECTIONS[round(angle / (math.pi / 4)) % 8]


def direction_vector(direction: str) -> np.ndarray:
    """Unit world vector (x, y) of one of the :data:`DIRECTIONS`."""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}; choose one of {DIRECTIONS}")
    angle = DIRECTIONS.index(direction) * math.pi / 4
    return np.array([math.cos(angle), math.sin(angle)])


def footprint_half(obj: ObjectSpec | AgentSpec) -> float:
    """Half side of the axis-aligned square that bounds a body seen from above, in metres."""
    return obj.radius if isinstance(obj, AgentSpec) else obj.size


def slab_cover_fraction(slab: SlabSpec | None, xy: Any, half: float) -> float:
    """Fraction (0-1) of the square footprint ``[x +- half, y +- half]`` hidden under the slab."""
    if slab is None:
        return 0.0
    cover = 1.0
    for k in range(2):
        lo = max(float(xy[k]) - half, slab.center[k] - slab.half_size[k])
        hi = min(float(xy[k]) + half, slab.center[k] + slab.half_size[k])
        cover *= max(0.0, hi - lo) / (2.0 * half)
    return cover


# --------------------------------------------------------------------------------------------
# Placement (shared by the sampler and the prompt parser)
# --------------------------------------------------------------------------------------------


@dataclass
class Body:
    """A body footprint for overlap tests: a circle (square=False) or an axis-aligned square."""

    xy: np.ndarray
    half: float
    square: bool

    @classmethod
    def of(cls, thing: ObjectSpec | AgentSpec) -> Body:
        """Footprint of an object or agent spec."""
        square = isinstance(thing, ObjectSpec) and thing.shape == "box"
        return cls(np.asarray(thing.pos, dtype=float), footprint_half(thing), square)

    def overlaps(self, other: Body, gap: float = CLEARANCE) -> bool:
        """True when the two footprints come closer than ``gap``."""
        d = np.abs(self.xy - other.xy)
        if self.square and other.square:
            return bool(np.all(d < self.half + other.half + gap))
        if not self.square and not other.square:
            return bool(np.hypot(*d) < self.half + other.half + gap)
        sq, circ = (self, other) if self.square else (other, self)
        outside = np.maximum(np.abs(circ.xy - sq.xy) - sq.half, 0.0)
        return bool(np.hypot(*outside) < circ.half + gap)


def place(
    rng: np.random.Generator,
    arena: ArenaSpec,
    half: float,
    square: bool,
    placed: list[Body],
    *,
    bounds: tuple[float, float, float, float] | None = None,
    avoid: SlabSpec | None = None,
    tries: int = 200,
) -> np.ndarray | None:
    """Sample a free position for a body, or None when none is found.

    Args:
        rng: Randomness.
        arena: Keeps the body ``CLEARANCE`` inside the walls.
        half: Footprint half size in metres.
        square: Footprint is a square (box) rather than a circle.
        placed: Bodies already placed, kept ``CLEARANCE`` apart.
        bounds: Optional ``(xmin, xmax, ymin, ymax)`` for the body centre (e.g. a region), kept
            a small margin inside so the region of the result is unambiguous.
        avoid: Optional slab the footprint must not touch.
        tries: Random tries before an exhaustive search over a lattice of candidates.
    """
    lim = arena.half_size - half - CLEARANCE
    lo = np.array([-lim, -lim])
    hi = np.array([lim, lim])
    if bounds is not None:
        margin = 0.02
        lo = np.maximum(lo, [bounds[0] + margin, bounds[2] + margin])
        hi = np.minimum(hi, [bounds[1] - margin, bounds[3] - margin])
    if np.any(hi < lo):
        return None

    def free(xy: np.ndarray) -> bool:
        body = Body(xy, half, square)
        if any(body.overlaps(p) for p in placed):
            return False
        return avoid is None or slab_cover_fraction(avoid, xy, half + CLEARANCE) == 0.0

    for _ in range(tries):
        xy = rng.uniform(lo, hi)
        if free(xy):
            return xy
    grid = np.stack(np.meshgrid(np.linspace(lo[0], hi[0], 12), np.linspace(lo[1], hi[1], 12)), -1).reshape(
        -1, 2
    )
    for xy in grid[rng.permutation(len(grid))]:
        if free(xy):
            return xy
    return None


def _random_velocity(rng: np.random.Generator, p_moving: float = 0.5) -> Vec2:
    if rng.random() >= p_moving:
        return (0.0, 0.0)
    speed, angle = rng.uniform(0.3, 0.8), rng.uniform(-math.pi, math.pi)
    return (speed * math.cos(angle), speed * math.sin(angle))


def _sample_scattered(
    rng: np.random.Generator, arena: ArenaSpec, family: str, n_objects: int | None, slab_on: bool | None
) -> SceneSpec | None:
    n = int(n_objects if n_objects is not None else rng.integers(1, MAX_OBJECTS + 1))
    if family == "reach" and n_objects is None:
        n -= 1  # 0-2 obstacles
    if family == "twoagents":
        n = 1
    colors = [str(c) for c in rng.choice(list(PALETTE), size=n, replace=False)]
    shapes = [str(s) for s in rng.choice(SHAPES, size=n)]
    if family in ("pushbox", "twoagents"):
        shapes[0] = "box"  # the box to push
    slab = None
    if family == "playground" and (slab_on if slab_on is not None else rng.random() < 0.25):
        hs = rng.uniform(0.15, 0.3, size=2)
        c = rng.uniform(-(arena.half_size - hs), arena.half_size - hs)
        slab = SlabSpec(center=(c[0], c[1]), half_size=(hs[0], hs[1]))
    placed: list[Body] = []
    goal = None
    if family in ("pushbox", "reach"):
        g = place(rng, arena, GOAL_HALF_SIZE, True, placed)
        if g is None:
            return None
        goal = GoalSpec(center=(g[0], g[1]))
        placed.append(Body(g, GOAL_HALF_SIZE, True))
    objects = []
    for i in range(n):
        size = rng.uniform(*SIZE_RANGE)
        square = shapes[i] == "box"
        if family == "pushbox" and i == 0:
            # Keep the box off the walls so an agent can get behind it.
            inner = arena.half_size - 0.3
            xy = place(rng, arena, size, square, placed, bounds=(-inner, inner, -inner, inner), avoid=slab)
        else:
            xy = place(rng, arena, size, square, placed, avoid=slab)
        if xy is None:
            return None
        placed.append(Body(xy, size, square))
        vel = (0.0, 0.0) if family in ("pushbox", "reach") else _random_velocity(rng)
        obj = ObjectSpec(shapes[i], colors[i], size, rng.uniform(*MASS_RANGE), (xy[0], xy[1]), vel)
        objects.append(obj)
    if goal is not None and family == "pushbox":
        placed.pop(0)  # agents may start on the goal patch; it has no collision
    agents = _scatter_agents(rng, arena, 2 if family == "twoagents" else 1, placed, slab,
                             goal if family == "reach" else None)
    if agents is None:
        return None
    task = {"pushbox": TaskSpec(agent=0, object=0), "reach": TaskSpec(agent=0, object=None)}.get(family)
    return SceneSpec(agents=agents, objects=objects, arena=arena, slab=slab, goal=goal, task=task)


def _scatter_agents(rng: np.random.Generator, arena: ArenaSpec, count: int, placed: list[Body],
                    slab: SlabSpec | None, away_from: GoalSpec | None) -> list[AgentSpec] | None:
    """``count`` agents in free space, at least :data:`REACH_MIN_START` from ``away_from``; None if one
    does not fit."""
    agents = []
    for color in list(AGENT_COLORS)[:count]:
        xy = place(rng, arena, AGENT_RADIUS, False, placed, avoid=slab)
        if xy is None:
            return None
        if away_from is not None and np.linalg.norm(xy - np.asarray(away_from.center)) < REACH_MIN_START:
            return None
        placed.append(Body(xy, AGENT_RADIUS, False))
        agents.append(AgentSpec(pos=(xy[0], xy[1]), color=color))
    return agents


def _sample_occlusion(rng: np.random.Generator, arena: ArenaSpec) -> SceneSpec | None:
    """One object crosses under a slab; built along +x, then mirrored and/or transposed."""
    half = arena.half_size
    size = rng.uniform(SIZE_RANGE[0], 0.12)
    slab_c = np.array([rng.uniform(-0.1, 0.1) * half, rng.uniform(-0.1, 0.1) * half])
    slab_h = np.array([rng.uniform(0.27, 0.33) * half, rng.uniform(0.3, 0.4) * half])
    lane = slab_c[1] + rng.uniform(-1, 1) * (slab_h[1] - size - 0.03)
    x0 = rng.uniform(0.6, 0.75) * half
    x_end = slab_c[0] + slab_h[0] + size + rng.uniform(0.15, 0.3) * half  # where it comes to rest
    speed = (x_end + x0) / OBJECT_DRAG_TIME  # glide distance = speed * drag time
    sign = rng.choice([-1.0, 1.0])
    transpose = bool(rng.random() < 0.5)

    def tf(v: np.ndarray | tuple) -> tuple[float, float]:
        x, y = sign * float(v[0]), float(v[1])
        return (y, x) if transpose else (x, y)

    def tf_size(v: np.ndarray) -> tuple[float, float]:
        return (float(v[1]), float(v[0])) if transpose else (float(v[0]), float(v[1]))

    slab = SlabSpec(center=tf(slab_c), half_size=tf_size(slab_h))
    mover = ObjectSpec(
        shape=str(rng.choice(SHAPES)),
        color=str(rng.choice(list(PALETTE))),
        size=size,
        mass=rng.uniform(*MASS_RANGE),
        pos=tf((-x0, lane)),
        vel=tf((speed, 0.0)),
    )
    # Everything else stays out of the mover's lane (|y - lane| large) and out from under the slab.
    lane_band = max(abs(slab_c[1] - slab_h[1]), abs(slab_c[1] + slab_h[1])) + 0.12
    placed = [Body(np.array(mover.pos), size, mover.shape == "box")]
    side = rng.choice([-1.0, 1.0])
    bounds_y = (lane_band, half) if side > 0 else (-half, -lane_band)
    bounds = (-half, half, *bounds_y)
    if transpose:
        bounds = (*bounds_y, -half, half)
    objects = [mover]
    if rng.random() < 0.5:
        other = str(rng.choice([c for c in PALETTE if c != mover.color]))
        osize = rng.uniform(*SIZE_RANGE)
        oshape = str(rng.choice(SHAPES))
        xy = place(rng, arena, osize, oshape == "box", placed, bounds=bounds, avoid=slab)
        if xy is None:
            return None
        objects.append(ObjectSpec(oshape, other, osize, rng.uniform(*MASS_RANGE), (xy[0], xy[1])))
        placed.append(Body(xy, osize, oshape == "box"))
    xy = place(rng, arena, AGENT_RADIUS, False, placed, bounds=bounds, avoid=slab)
    if xy is None:
        return None
    return SceneSpec(agents=[AgentSpec(pos=(xy[0], xy[1]))], objects=objects, arena=arena, slab=slab)


# --------------------------------------------------------------------------------------------
# MJCF
# --------------------------------------------------------------------------------------------


def _rgba(rgb: RGB) -> str:
    return " ".join(f"{c / 255.0:.6g}" for c in rgb) + " 1"


def _f(*values: float) -> str:
    return " ".join(f"{v:.6g}" for v in values)


def _geom_size(shape: str, size: float) -> tuple[str, float]:
    """MJCF size attribute and half height of a shape."""
    if shape == "sphere":
        return _f(size), size
    if shape == "box":
        return _f(size, size, size), size
    return _f(size, size), size  # cylinder: radius, half height


_NO_CONTACT = {"contype": "0", "conaffinity": "0"}


def _add_body(parent: ET.Element, name: str, xy: Vec2, shape: str, size: float, mass: float, rgb: RGB,
              damping: float, hidden: bool = False) -> None:  # fmt: skip
    size_attr, half_h = _geom_size(shape, size)
    body = ET.SubElement(parent, "body", name=name, pos=_f(xy[0], xy[1], half_h))
    for ax, axis in (("x", "1 0 0"), ("y", "0 1 0")):
        ET.SubElement(body, "joint", name=f"{name}_{ax}", type="slide", axis=axis, damping=f"{damping:.6g}")
    # A hidden slot's geom keeps a contype bit (so every layout has the same collision BVH) but no
    # conaffinity, and no other geom has that bit in its conaffinity: it never touches anything.
    extra = {"group": str(HIDDEN_GROUP), "contype": "2", "conaffinity": "0"} if hidden else {}
    ET.SubElement(
        body, "geom", name=name, type=shape, size=size_attr, mass=f"{mass:.6g}", rgba=_rgba(rgb), **extra
    )


def _build_mjcf(spec: SceneSpec, slots: int | None) -> str:
    arena = spec.arena
    half, t, v = arena.half_size, arena.wall_thickness, arena.view_half
    root = ET.Element("mujoco", model="worldsim_scene")
    ET.SubElement(root, "compiler", angle="radian", autolimits="true")
    ET.SubElement(root, "option", timestep=f"{TIMESTEP:g}", integrator="implicitfast")
    visual = ET.SubElement(root, "visual")
    ET.SubElement(visual, "global", offwidth="256", offheight="256")
    ET.SubElement(visual, "quality", shadowsize="0", offsamples="0")  # no shadows, no MSAA: ~1 ms a frame
    amb, dif = _f(*[HEADLIGHT_AMBIENT] * 3), _f(*[HEADLIGHT_DIFFUSE] * 3)
    ET.SubElement(visual, "headlight", ambient=amb, diffuse=dif, specular="0 0 0", active="1")
    default = ET.SubElement(root, "default")
    ET.SubElement(default, "geom", condim="1", solref="0.02 1")  # frictionless contacts
    world = ET.SubElement(root, "worldbody")
    # Orthographic top-down camera: fovy is the height of the view in metres; image up is +y.
    ET.SubElement(
        world, "camera", name="top", pos=_f(0, 0, 2 * v + 1), projection="orthographic", fovy=_f(2 * v)
    )
    ET.SubElement(
        world, "geom", name="floor", type="plane", size=_f(v, v, 0.05), rgba=_rgba(FLOOR_COLOR), **_NO_CONTACT
    )
    wall_h = 0.15
    for name, pos, hsize in (
        ("wall_left", (-(half + t / 2), 0.0), (t / 2, v)),
        ("wall_right", (half + t / 2, 0.0), (t / 2, v)),
        ("wall_bottom", (0.0, -(half + t / 2)), (half, t / 2)),
        ("wall_top", (0.0, half + t / 2), (half, t / 2)),
    ):
        ET.SubElement(world, "geom", name=name, type="box", pos=_f(*pos, wall_h), size=_f(*hsize, wall_h),
                      rgba=_rgba(WALL_COLOR))  # fmt: skip
    if spec.goal is not None or slots is not None:
        g = spec.goal or GoalSpec(center=(0.0, 0.0))
        group = "0" if spec.goal is not None else str(HIDDEN_GROUP)
        ET.SubElement(world, "geom", name="goal", type="box", pos=_f(*g.center, 0.002),
                      size=_f(g.half_size, g.half_size, 0.001), rgba=_rgba(GOAL_COLOR), group=group,
                      **_NO_CONTACT)  # fmt: skip
    if spec.slab is not None or slots is not None:
        s = spec.slab or SlabSpec(center=(0.0, 0.0), half_size=(0.1, 0.1))
        group = "0" if spec.slab is not None else str(HIDDEN_GROUP)
        ET.SubElement(world, "geom", name="slab", type="box", pos=_f(*s.center, SLAB_Z),
                      size=_f(*s.half_size, SLAB_HALF_THICKNESS), rgba=_rgba(SLAB_COLOR), group=group,
                      **_NO_CONTACT)  # fmt: skip
    qvel: list[float] = []
    for i, a in enumerate(spec.agents):
        _add_body(
            world,
            f"agent{i}",
            a.pos,
            "sphere",
            AGENT_RADIUS,
            AGENT_MASS,
            AGENT_COLORS[a.color],
            AGENT_DAMPING,
        )
        qvel += a.vel
    for j in range(len(spec.objects) if slots is None else slots):
        if j < len(spec.objects):
            o = spec.objects[j]
            _add_body(
                world,
                f"object{j}",
                o.pos,
                o.shape,
                o.size,
                o.mass,
                PALETTE[o.color],
                o.mass / OBJECT_DRAG_TIME,
            )
            qvel += o.vel
        else:  # an unused slot: hidden, no contacts
            _add_body(world, f"object{j}", (0.0, 0.0), "sphere", 0.05, 1.0, FLOOR_COLOR, 1.0, hidden=True)
            qvel += (0.0, 0.0)
    actuator = ET.SubElement(root, "actuator")
    for i in range(len(spec.agents)):
        for ax in "xy":
            ET.SubElement(actuator, "motor", name=f"agent{i}_{ax}", joint=f"agent{i}_{ax}",
                          gear=f"{AGENT_MAX_FORCE:g}", ctrlrange="-1 1")  # fmt: skip
    keyframe = ET.SubElement(root, "keyframe")
    ET.SubElement(keyframe, "key", name="initial", qvel=_f(*qvel))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


# --------------------------------------------------------------------------------------------
# Rendered colours
# --------------------------------------------------------------------------------------------


@functools.cache
def _measured_colors() -> dict[str, RGB]:
    """Render one calibration scene per colour and take the median RGB of each body's pixels."""
    import mujoco

    measured: dict[str, RGB] = {}
    arena = ArenaSpec()
    renderer = None
    try:
        names = list(PALETTE) + list(AGENT_COLORS)
        for name in names:
            if name in PALETTE:
                objs = [ObjectSpec(s, name, 0.12, 1.0, (-0.5 + 0.5 * k, 0.5)) for k, s in enumerate(SHAPES)]
                agents = [AgentSpec(pos=(0.0, -0.5))]
            else:
                objs, agents = (
                    [],
                    [AgentSpec(pos=(0.0, -0.5), color="white"), AgentSpec(pos=(0.5, -0.5), color="pink")],
                )
            spec = SceneSpec(
                agents=agents,
                objects=objs,
                arena=arena,
                slab=SlabSpec((-0.6, -0.6), (0.2, 0.2)),
                goal=GoalSpec((0.6, -0.2)),
            )
            model = mujoco.MjModel.from_xml_string(spec.to_mjcf())
            data = mujoco.MjData(model)
            mujoco.mj_forward(model, data)
            if renderer is not None:
                renderer.close()
            renderer = mujoco.Renderer(model, IMAGE_SIZE, IMAGE_SIZE)
            renderer.update_scene(data, camera="top")
            rgb = renderer.render().astype(np.int64)  # (H, W, 3)
            renderer.enable_segmentation_rendering()
            seg = renderer.render()[..., 0]  # (H, W) geom id per pixel
            renderer.disable_segmentation_rendering()

            def median_of(*geoms: str, model=model, seg=seg, rgb=rgb) -> RGB:
                ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, g) for g in geoms]
                mask = np.isin(seg, ids)
                return tuple(int(c) for c in np.median(rgb[mask], axis=0))

            if name in PALETTE:
                measured[name] = median_of("object0", "object1", "object2")
            else:
                measured["agent"] = median_of("agent0")
                measured["agent2"] = median_of("agent1")
                for key in ("floor", "wall_left", "slab", "goal"):
                    measured[key.removesuffix("_left")] = median_of(key)
    finally:
        if renderer is not None:
            renderer.close()
    return measured


def render_palette() -> dict[str, RGB]:
    """Rendered RGB of every palette colour plus "agent" (white) and "agent2" (pink), as seen in frames.

    Measured once per process from a rendered calibration scene (median over the pixels of a
    sphere, a box and a cylinder of each colour), so colour-mask detectors can match frames.
    """
    m = _measured_colors()
    return {k: m[k] for k in [*PALETTE, *AGENT_PALETTE_NAMES.values()]}


def render_scenery_colors() -> dict[str, RGB]:
    """Rendered RGB of the "floor", "wall", "slab" and "goal" (for detectors that reject background)."""
    m = _measured_colors()
    return {k: m[k] for k in ("floor", "wall", "slab", "goal")}
