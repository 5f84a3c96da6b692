"""``ParametricWalker``: the base env of the walker tracks (Portelas et al. 2019).

It is Gymnasium's ``BipedalWalker`` (v3 physics, reward, lidar and renderer) with two changes that
the walker envs of the paper need:

- a choice of body (``bodies.WALKERS``): Gymnasium's biped, a biped with legs half as long, or a
  quadruped with two leg pairs, a bigger hull and stronger motors;
- a flat track (no grass undulation) that a subclass fills with obstacles through the
  ``_obstacle_polygons`` hook, called at every reset after ``_apply_params``.

Bipeds step through ``BipedalWalker.step`` unchanged (same cost per step as ``BipedalWalker-v3``);
only the quadruped, which has eight joints instead of four, has its own step with the same physics
and reward shaping. Units are those of ``geometry``.
"""

from __future__ import annotations

import math
from typing import Any, SupportsFloat

import Box2D
import gymnasium as gym
import numpy as np
from Box2D.b2 import contactListener, edgeShape, fixtureDef
from gymnasium import spaces
from gymnasium.envs.box2d.bipedal_walker import (
    FPS,
    LIDAR_RANGE,
    SPEED_HIP,
    SPEED_KNEE,
    VIEWPORT_H,
    VIEWPORT_W,
    BipedalWalker,
)

from teachgym.envs.walkers.bodies import WALKERS, WalkerFixtures, create_walker
from teachgym.envs.walkers.geometry import (
    FINISH_X,
    SCALE,
    TERRAIN_HEIGHT,
    TERRAIN_LENGTH,
    TERRAIN_STEP,
)

__all__ = ["ParametricWalker"]

_NUM_LIDAR = 10
# Ray end points relative to the hull, fanning from straight down to 1.5 rad forward (as v3).
_LIDAR_RAYS = tuple(
    (math.sin(1.5 * i / _NUM_LIDAR) * LIDAR_RANGE, -math.cos(1.5 * i / _NUM_LIDAR) * LIDAR_RANGE)
    for i in range(_NUM_LIDAR)
)
_WORLD_STEP = (1.0 / FPS, 6 * 30, 2 * 30)  # time step, velocity and position iterations (v3)
_OBSTACLE_COLORS = ((255, 255, 255), (153, 153, 153))  # as the base env's hardcore stumps


class _LidarCallback(Box2D.b2.rayCastCallback):
    """Keeps the closest hit on ground or obstacles (category bit 1) along one ray."""

    fraction: float
    p1: Any
    p2: Any

    def ReportFixture(self, fixture: Any, point: Any, normal: Any, fraction: float) -> float:
        if (fixture.filterData.categoryBits & 1) == 0:
            return -1.0  # the walker's own body parts: ignore and go on
        self.p2 = point
        self.fraction = fraction
        return fraction  # clip the ray here, so later reports can only be closer


class _ContactListener(contactListener):
    """Hull contact ends the episode; lower-leg contacts feed the observation (any leg count)."""

    def __init__(self, env: ParametricWalker) -> None:
        contactListener.__init__(self)
        self.env = env

    def BeginContact(self, contact: Any) -> None:
        self._update(contact, True)

    def EndContact(self, contact: Any) -> None:
        self._update(contact, False)

    def _update(self, contact: Any, touching: bool) -> None:
        body_a, body_b = contact.fixtureA.body, contact.fixtureB.body
        env = self.env
        if touching and (env.hull == body_a or env.hull == body_b):
            env.game_over = True
        for lower_leg in env.legs[1::2]:
            if lower_leg in (body_a, body_b):
                lower_leg.ground_contact = touching


class ParametricWalker(BipedalWalker):  # type: ignore[misc]
    """``BipedalWalker`` with a selectable body and a flat, obstacle-hook track.

    Subclasses implement ``_obstacle_polygons`` and combine this class with ``ParameterizedEnv``
    (see ``StumpTracks``). The observation is the base env's, with one 5-value block per leg
    (hip angle, hip speed, knee angle + 1, knee speed, lower-leg contact), legs ordered rear pair
    first, then within a pair as the base env orders its two legs; actions are (hip, knee) motor
    commands in the same leg order.

    Args:
        walker: ``"default"``, ``"short"`` or ``"quadruped"`` (see ``bodies.WALKERS``).
        render_mode: ``None``, ``"human"`` or ``"rgb_array"``.

    Raises:
        ValueError: An unknown walker or render mode.
    """

    def __init__(self, walker: str = "default", render_mode: str | None = None) -> None:
        if walker not in WALKERS:
            raise ValueError(f"walker must be one of {sorted(WALKERS)}; got {walker!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}; "
                f"got {render_mode!r}"
            )
        super().__init__(render_mode=render_mode, hardcore=False)
        self.walker = walker
        self.body = WALKERS[walker]
        self.obstacle_polygons: list[list[tuple[float, float]]] = []
        self._fixtures = WalkerFixtures.for_body(self.body)
        self._build_spaces()
        # The ground is the same flat track every episode: its edge definitions are built once
        # (setting edge vertices through SWIG was a fifth of the reset time).
        self._ground_fds = [
            fixtureDef(
                shape=edgeShape(
                    vertices=[(x0, TERRAIN_HEIGHT), (x0 + TERRAIN_STEP, TERRAIN_HEIGHT)]
                ),
                friction=self.fd_edge.friction,
                categoryBits=self.fd_edge.filter.categoryBits,
            )
            for x0 in (i * TERRAIN_STEP for i in range(TERRAIN_LENGTH - 1))
        ]
        self._zero_action = np.zeros(4 * self.body.leg_pairs, dtype=np.float32)
        self._rated_speeds = (SPEED_HIP, SPEED_KNEE) * (2 * self.body.leg_pairs)

    # ------------------------------------------------------------------ construction
    def _build_spaces(self) -> None:
        # The base env's bounds: 4 hull values, two 5-value leg blocks, 10 lidar fractions.
        # The quadruped repeats the leg block once per leg.
        base = self.observation_space
        assert isinstance(base, spaces.Box)
        base_low, base_high = base.low, base.high
        legs = 2 * self.body.leg_pairs
        low = np.concatenate([base_low[:4], np.tile(base_low[4:9], legs), base_low[14:]])
        high = np.concatenate([base_high[:4], np.tile(base_high[4:9], legs), base_high[14:]])
        self.observation_space = spaces.Box(low, high, dtype=np.float32)
        self.action_space = spaces.Box(
            -1.0, 1.0, shape=(4 * self.body.leg_pairs,), dtype=np.float32
        )
        # Observations are clipped into the bounds as a safeguard: v3's +-5 bounds on speeds are
        # a convention (5x rated speed), not a physical limit, and Gymnasium's checker rejects
        # out-of-bound values. Random-action episodes have not been seen to reach them.
        self._obs_low = self.observation_space.low
        self._obs_high = self.observation_space.high

    # ------------------------------------------------------------------ hooks
    def _obstacle_polygons(self) -> list[list[tuple[float, float]]]:
        """Convex polygons (world coordinates) of this episode's obstacles, left to right.

        Called during reset, after ``_apply_params``; draw any randomness from ``self.np_random``.
        Each polygon must be convex, counter-clockwise, with 3 to 8 vertices and non-degenerate
        (``geometry.convex_obstacle`` makes one from arbitrary points).
        """
        raise NotImplementedError

    # ------------------------------------------------------------------ episode construction
    def _generate_terrain(self, hardcore: bool = False) -> None:
        """Flat ground over the base env's track length, plus the subclass's obstacles.

        The ground is one edge per terrain step, as the base env: contacts are rebuilt as a foot
        crosses from edge to edge, and one long edge instead made the feet grip differently
        (Gymnasium's heuristic gait stalled on it). Unlike the base env, the edges are fixtures
        of one static body, and all obstacles fixtures of another: creating ~200 bodies was most
        of the reset time, and random-action episodes are short enough for resets to matter.
        """
        del hardcore  # the parametric tracks replace the base env's hardcore mode
        self.terrain = []
        self.terrain_x = [i * TERRAIN_STEP for i in range(TERRAIN_LENGTH)]
        self.terrain_y = [TERRAIN_HEIGHT] * TERRAIN_LENGTH
        ground = self.world.CreateStaticBody()
        for ground_fd in self._ground_fds:
            ground.CreateFixture(ground_fd)
        ground.color1 = ground.color2 = (76, 255, 76)
        self.terrain.append(ground)  # drawn first, so obstacles are drawn on top
        # The renderer fills the ground one terrain step at a time, skipping what is off screen.
        self.terrain_poly = [
            ([(x0, TERRAIN_HEIGHT), (x1, TERRAIN_HEIGHT), (x1, 0.0), (x0, 0.0)], (102, 153, 76))
            for x0, x1 in zip(self.terrain_x[:-1], self.terrain_x[1:], strict=True)
        ]

        self.obstacle_polygons = self._obstacle_polygons()
        if self.obstacle_polygons:
            obstacles = self.world.CreateStaticBody()
            for polygon in self.obstacle_polygons:
                self.fd_polygon.shape.vertices = polygon
                obstacles.CreateFixture(self.fd_polygon)
            obstacles.color1, obstacles.color2 = _OBSTACLE_COLORS
            self.terrain.append(obstacles)

    def _generate_clouds(self) -> None:
        """The base env's ten clouds (pentagons with jittered vertices), drawn with two
        vectorised calls instead of ~110 scalar ones (clouds were a third of the reset time)."""
        count, corners = TERRAIN_LENGTH // 20, 5
        centres = self.np_random.uniform(0, TERRAIN_LENGTH, size=count) * TERRAIN_STEP
        jitter = self.np_random.uniform(0, 5 * TERRAIN_STEP, size=(count, corners, 2))
        angles = 2 * math.pi * np.arange(corners) / corners
        xs = centres[:, None] + 15 * TERRAIN_STEP * np.sin(angles) + jitter[:, :, 0]
        ys = VIEWPORT_H / SCALE * 3 / 4 + 5 * TERRAIN_STEP * np.cos(angles) + jitter[:, :, 1]
        self.cloud_poly = [
            (list(zip(x.tolist(), y.tolist(), strict=True)), float(x.min()), float(x.max()))
            for x, y in zip(xs, ys, strict=True)
        ]

    # ------------------------------------------------------------------ Gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """The base env's reset, with our track and body; ``ParameterizedEnv`` wraps it."""
        gym.Env.reset(self, seed=seed)  # seeds np_random; BipedalWalker.reset is replaced
        self._destroy()
        # A fresh world per episode: Box2D's broad-phase tree keeps the shape of past episodes,
        # which reorders contacts and changes the physics. With a reused world (as the base env
        # does), Gymnasium's checker saw the same seed and action give different steps.
        self.world = Box2D.b2World()
        self.world.contactListener_bug_workaround = _ContactListener(self)
        self.world.contactListener = self.world.contactListener_bug_workaround
        self.game_over = False
        self.prev_shaping = None
        self.scroll = 0.0
        self.lidar_render = 0

        self._generate_terrain()
        self._generate_clouds()
        self.hull, self.legs, self.joints = create_walker(
            self.world, self.body, self._fixtures, self.np_random
        )
        self.drawlist = self.terrain + self.legs + [self.hull]
        self.lidar = [_LidarCallback() for _ in range(_NUM_LIDAR)]
        if self.render_mode == "human":
            self.render()
        # As the base env: a zero-action step settles the body and produces the first obs.
        return ParametricWalker.step(self, self._zero_action)[0], {}

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """One physics step (``BipedalWalker.step`` for bipeds), observation clipped to bounds."""
        if self.body.leg_pairs == 1:
            obs, reward, terminated, truncated, info = BipedalWalker.step(self, action)
        else:
            obs, reward, terminated, truncated, info = self._step_leg_pairs(action)
        np.minimum(obs, self._obs_high, out=obs)
        np.maximum(obs, self._obs_low, out=obs)
        # v3's reward is a numpy float32 for float32 actions; SB3's checker wants a Python float.
        return obs, float(reward), terminated, truncated, info

    def _step_leg_pairs(
        self, action: np.ndarray
    ) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """``BipedalWalker.step`` for any number of leg pairs (same physics, lidar and reward)."""
        assert self.hull is not None
        body = self.body
        # Torque control as v3: the sign picks the motor direction at rated speed, the magnitude
        # scales the available torque.
        effort = 0.0
        for joint, rated_speed, command in zip(
            self.joints, self._rated_speeds, action, strict=True
        ):
            command = float(command)
            magnitude = min(abs(command), 1.0)
            joint.motorSpeed = math.copysign(rated_speed, command) if command else 0.0
            joint.maxMotorTorque = body.motors_torque * magnitude
            effort += magnitude

        self.world.Step(*_WORLD_STEP)

        hull = self.hull
        pos = hull.position
        vel = hull.linearVelocity
        for lidar, (ray_x, ray_y) in zip(self.lidar, _LIDAR_RAYS, strict=True):
            lidar.fraction = 1.0
            lidar.p1 = pos
            lidar.p2 = (pos[0] + ray_x, pos[1] + ray_y)
            self.world.RayCast(lidar, lidar.p1, lidar.p2)

        state = [
            hull.angle,
            2.0 * hull.angularVelocity / FPS,
            0.3 * vel.x * (VIEWPORT_W / SCALE) / FPS,
            0.3 * vel.y * (VIEWPORT_H / SCALE) / FPS,
        ]
        joints, legs = self.joints, self.legs
        for i in range(0, len(joints), 2):
            hip, knee = joints[i], joints[i + 1]
            state += [
                hip.angle,
                hip.speed / SPEED_HIP,
                knee.angle + 1.0,
                knee.speed / SPEED_KNEE,
                1.0 if legs[i + 1].ground_contact else 0.0,
            ]
        state += [lidar.fraction for lidar in self.lidar]

        self.scroll = pos.x - VIEWPORT_W / SCALE / 5
        # Reward shaping of v3: forward progress (about 300 over the track), head kept level.
        shaping = 130 * pos[0] / SCALE - 5.0 * abs(state[0])
        reward = 0.0 if self.prev_shaping is None else shaping - self.prev_shaping
        self.prev_shaping = shaping
        reward -= body.torque_cost * body.motors_torque * effort

        terminated = False
        if self.game_over or pos[0] < 0:
            reward = -100.0
            terminated = True
        if pos[0] > FINISH_X:
            terminated = True
        if self.render_mode == "human":
            self.render()
        return np.array(state, dtype=np.float32), reward, terminated, False, {}
