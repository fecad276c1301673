"""督办考核: Supervision and assessment: KPIs by department and district (红黑榜)."""

from ui.page import register_page
from ui.placeholder import placeholder

register_page(
    __name__,
    path="/supervision",
    name="督办考核",
    name_en="Supervision",
    order=2,
    permission="wall",
    prefix="supervision-",
    rotate=True,
)


def layout(**_kwargs):
    return placeholder(
        "supervision-page",
        "督办考核",
        "Supervision and assessment: KPIs by department and district (红黑榜).",
    )
