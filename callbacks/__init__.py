"""Callbacks per page; importing this package registers all of them."""

from callbacks import admin, overview, shell  # noqa: F401
