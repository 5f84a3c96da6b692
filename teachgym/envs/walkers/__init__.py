"""Box2D walker families (Portelas et al. 2019): Stump Tracks and Hexagon Tracks.

Importing this package does not import Box2D; the env modules do, and ``gymnasium.make`` loads
them through string entry points.
"""
