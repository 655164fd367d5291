"""Simulation: pymunk worlds (world.py), numba sensor (rays.py) and motor (motors.py) kernels."""
