"""Callbacks per page; importing this package registers all of them."""

from callbacks import overview, shell  # noqa: F401
