"""Atelier: AI-assisted structured work, self-hosted."""

__version__ = "0.1.0"
