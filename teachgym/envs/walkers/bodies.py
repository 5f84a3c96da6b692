"""Walker morphologies and the Box2D bodies and joints built from them.

Three bodies (``WALKERS``): Gymnasium's ``BipedalWalker`` biped, a biped with legs half as long,
and a quadruped with two leg pairs, a bigger hull and stronger motors. ``create_walker`` is the
base env's body construction generalised to any leg length and leg-pair count; with the default
body it builds exactly the base env's walker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from Box2D.b2 import fixtureDef, polygonShape, revoluteJointDef
from gymnasium.envs.box2d.bipedal_walker import (
    HULL_FD,
    HULL_POLY,
    INITIAL_RANDOM,
    LEG_DOWN,
    LEG_FD,
    LEG_H,
    LEG_W,
    LOWER_FD,
    MOTORS_TORQUE,
)

from teachgym.envs.walkers.geometry import SCALE, TERRAIN_HEIGHT, TERRAIN_STARTPAD, TERRAIN_STEP

__all__ = ["TORQUE_COST", "WALKERS", "WalkerBody", "WalkerFixtures", "create_walker"]

TORQUE_COST = 0.00035  # reward per unit of |action| per unit of motor torque (v3)


@dataclass(frozen=True)
class WalkerBody:
    """Dimensions and motors of one walker morphology.

    Attributes:
        name: The ``walker`` constructor option that selects it.
        hull_polygon: Hull outline in rendered pixels (divided by ``SCALE`` for Box2D).
        leg_width: Width of an upper leg, world units (lower legs are 80% as wide, as v3).
        leg_length: Length of one leg segment (upper or lower), world units.
        hip_x: Hull-frame x of each leg pair's hips, world units, rear pair first.
        motors_torque: Maximum torque of every hip and knee motor.
        torque_cost: Reward cost per unit of |action| per unit of torque, per joint.
    """

    name: str
    hull_polygon: tuple[tuple[float, float], ...]
    leg_width: float
    leg_length: float
    hip_x: tuple[float, ...]
    motors_torque: float
    torque_cost: float

    @property
    def leg_pairs(self) -> int:
        return len(self.hip_x)


# Dimensions from the paper's code (flowersteam/teachDeepRL, the "short" and "quadru" walkers).
# The quadruped's motors are 3.75x stronger, so its torque cost is divided by 8 to keep the total
# effort penalty of its eight joints close to the biped's four.
WALKERS: dict[str, WalkerBody] = {
    "default": WalkerBody(
        "default", tuple(HULL_POLY), LEG_W, LEG_H, (0.0,), MOTORS_TORQUE, TORQUE_COST
    ),
    "short": WalkerBody(
        "short", tuple(HULL_POLY), LEG_W, LEG_H / 2, (0.0,), MOTORS_TORQUE, TORQUE_COST
    ),
    "quadruped": WalkerBody(
        "quadruped",
        ((-46, +13), (+6, +13), (+50, +5), (+50, -12), (-46, -12)),
        10 / SCALE,
        51 / SCALE,
        (-1.2, 0.85),
        300.0,
        TORQUE_COST / 8,
    ),
}


@dataclass(frozen=True)
class WalkerFixtures:
    """The Box2D fixture definitions of one body's parts (built once per env, reused per episode).

    Attributes:
        hull: The hull's polygon.
        upper_leg: An upper leg segment's box.
        lower_leg: A lower leg segment's box (80% as wide).
    """

    hull: Any
    upper_leg: Any
    lower_leg: Any

    @classmethod
    def for_body(cls, body: WalkerBody) -> WalkerFixtures:
        """The default body reuses the base env's fixtures; others get the same materials."""
        if body.name == "default":
            return cls(HULL_FD, LEG_FD, LOWER_FD)
        # Same materials and collision filtering as v3 (walker parts collide only with ground).
        hull = fixtureDef(
            shape=polygonShape(vertices=[(x / SCALE, y / SCALE) for x, y in body.hull_polygon]),
            density=5.0,
            friction=0.1,
            categoryBits=0x0020,
            maskBits=0x001,
            restitution=0.0,
        )
        upper_leg = fixtureDef(
            shape=polygonShape(box=(body.leg_width / 2, body.leg_length / 2)),
            density=1.0,
            restitution=0.0,
            categoryBits=0x0020,
            maskBits=0x001,
        )
        lower_leg = fixtureDef(
            shape=polygonShape(box=(0.8 * body.leg_width / 2, body.leg_length / 2)),
            density=1.0,
            restitution=0.0,
            categoryBits=0x0020,
            maskBits=0x001,
        )
        return cls(hull, upper_leg, lower_leg)


def create_walker(
    world: Any, body: WalkerBody, fixtures: WalkerFixtures, np_random: np.random.Generator
) -> tuple[Any, list[Any], list[Any]]:
    """Build a walker standing at the middle of the start pad, as the base env does.

    Args:
        world: The episode's ``Box2D.b2World``.
        body: The morphology.
        fixtures: ``WalkerFixtures.for_body(body)``.
        np_random: The env's generator; one draw, the random push on the hull.

    Returns:
        ``(hull, legs, joints)``: per leg, rear pair first and within a pair as the base env
        orders its two legs, the upper then the lower segment in ``legs`` and the hip then the
        knee joint in ``joints``. Lower legs carry a ``ground_contact`` flag.
    """
    init_x = TERRAIN_STEP * TERRAIN_STARTPAD / 2
    init_y = TERRAIN_HEIGHT + 2 * body.leg_length
    hull = world.CreateDynamicBody(position=(init_x, init_y), fixtures=fixtures.hull)
    hull.color1 = (127, 51, 229)
    hull.color2 = (76, 76, 127)
    hull.ApplyForceToCenter((np_random.uniform(-INITIAL_RANDOM, INITIAL_RANDOM), 0), True)
    half = body.leg_length / 2
    legs: list[Any] = []
    joints: list[Any] = []
    for hip_x in body.hip_x:
        for side in (-1, +1):
            color1 = (153 - side * 25, 76 - side * 25, 127 - side * 25)
            color2 = (102 - side * 25, 51 - side * 25, 76 - side * 25)
            upper = world.CreateDynamicBody(
                position=(init_x + hip_x, init_y - half - LEG_DOWN),
                angle=side * 0.05,
                fixtures=fixtures.upper_leg,
            )
            upper.color1, upper.color2 = color1, color2
            hip = revoluteJointDef(
                bodyA=hull,
                bodyB=upper,
                localAnchorA=(hip_x, LEG_DOWN),
                localAnchorB=(0, half),
                enableMotor=True,
                enableLimit=True,
                maxMotorTorque=body.motors_torque,
                motorSpeed=side,
                lowerAngle=-0.8,
                upperAngle=1.1,
            )
            legs.append(upper)
            joints.append(world.CreateJoint(hip))

            lower = world.CreateDynamicBody(
                position=(init_x + hip_x, init_y - 3 * half - LEG_DOWN),
                angle=side * 0.05,
                fixtures=fixtures.lower_leg,
            )
            lower.color1, lower.color2 = color1, color2
            knee = revoluteJointDef(
                bodyA=upper,
                bodyB=lower,
                localAnchorA=(0, -half),
                localAnchorB=(0, half),
                enableMotor=True,
                enableLimit=True,
                maxMotorTorque=body.motors_torque,
                motorSpeed=1,
                lowerAngle=-1.6,
                upperAngle=-0.1,
            )
            lower.ground_contact = False
            legs.append(lower)
            joints.append(world.CreateJoint(knee))
    return hull, legs, joints
