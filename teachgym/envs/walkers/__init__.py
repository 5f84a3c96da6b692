"""Box2D walker families (Portelas et al. 2019): Stump Tracks and Hexagon Tracks.

Modules, from the ground up:

- ``geometry``: the track (units, where obstacles start and the finish line) and
  ``convex_obstacle``, which turns arbitrary points into a polygon Box2D accepts;
- ``bodies``: the walker morphologies (``WALKERS``) and the Box2D bodies and joints built from them;
- ``base``: ``ParametricWalker``, Gymnasium's ``BipedalWalker`` with a selectable body and a flat
  track that a subclass fills with obstacles;
- ``stump_tracks`` and ``hexagon_tracks``: the two registered envs.

Importing this package imports Box2D, and fails with the install command when it is missing.
``import teachgym`` does not import it: the env ids are registered with string entry points, so
Box2D loads when ``gymnasium.make`` first makes a walker.
"""

from gymnasium.error import DependencyNotInstalled

try:
    import Box2D  # noqa: F401  (checked once here, for every module of the package)
except ImportError as error:
    raise DependencyNotInstalled(
        'the walker envs need Box2D: pip install "teachgym[box2d]" (or pip install box2d)'
    ) from error
