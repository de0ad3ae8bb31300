"""Custodes: governs how personal information is accessed and disclosed, and proves it afterwards."""

__version__ = "0.1.0"
