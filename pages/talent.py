"""人才队伍: The people: grid workers, social workers, mediators."""

from ui.page import register_page
from ui.placeholder import placeholder

register_page(
    __name__,
    path="/talent",
    name="人才队伍",
    name_en="People",
    order=4,
    permission="wall",
    prefix="talent-",
    rotate=False,  # not a wall page until it is built
)


def layout(**_kwargs):
    return placeholder(
        "talent-page", "人才队伍", "The people: grid workers, social workers, mediators."
    )
