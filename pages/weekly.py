"""周例会: The weekly review meeting bulletin (通报)."""

from ui.page import register_page
from ui.placeholder import placeholder

register_page(
    __name__,
    path="/weekly",
    name="周例会",
    name_en="Weekly meeting",
    order=5,
    permission="wall",
    prefix="weekly-",
    rotate=False,  # not a wall page until it is built
)


def layout(**_kwargs):
    return placeholder("weekly-page", "周例会", "The weekly review meeting bulletin (通报).")
