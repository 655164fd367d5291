"""The pygame viewer and offscreen recorder: the only package that imports pygame."""
