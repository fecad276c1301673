"""Callbacks per page; importing this package registers all of them: every module in it is
imported, so a new page's callbacks need no edit here."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
