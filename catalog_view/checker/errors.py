"""The checker's error."""

from catalog_view.errors import CatalogViewError


class VerifyError(CatalogViewError):
    """The checker cannot run as asked."""
