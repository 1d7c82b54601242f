"""Compiler: resolve references, presets and params, apply contexts, produce the Plan."""
