"""evorobot: evolutionary robotics with continuous-time recurrent networks in 2-D pymunk worlds.

Importing the package is cheap and headless: it loads neither numba kernels nor pygame.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
