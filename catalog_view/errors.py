"""Errors that reach the operator: each one says what is wrong and where."""


class CatalogViewError(Exception):
    """Base class; the CLI prints these without a traceback and exits 2."""


class ConfigError(CatalogViewError):
    """A setting is missing or invalid."""


class StackError(CatalogViewError):
    """A local stack component failed to install, start or answer."""
