"""The package version, in a leaf module: the build (hatch) and the provenance attrs read it here."""

__version__ = "0.1.0"
