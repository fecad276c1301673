"""风险预警: Risk alerts: surges, repeats, backlogs, major events."""

from ui.page import register_page
from ui.placeholder import placeholder

register_page(
    __name__,
    path="/risk",
    name="风险预警",
    name_en="Risk alerts",
    order=3,
    permission="wall",
    prefix="risk-",
    rotate=True,
)


def layout(**_kwargs):
    return placeholder(
        "risk-page", "风险预警", "Risk alerts: surges, repeats, backlogs, major events."
    )
