"""MiniGrid-based grid families: GridNavigation, GridKeyDoor, NoisyRooms, NoisyTVRooms.

``ParameterizedGridEnv`` (``grids.base``) is their common base. Importing this package does not
import MiniGrid; the env modules do, and ``gymnasium.make`` loads them through string entry points.
"""
