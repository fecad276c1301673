"""事件流转: The event loop: 发现 → 立案 → 派遣 → 处置 → 结案, drill-down to a single incident."""

from ui.page import register_page
from ui.placeholder import placeholder

register_page(
    __name__,
    path="/flow",
    name="事件流转",
    name_en="Event flow",
    order=1,
    permission="wall",
    prefix="flow-",
    rotate=True,
)


def layout(**_kwargs):
    return placeholder(
        "flow-page",
        "事件流转",
        "The event loop: 发现 → 立案 → 派遣 → 处置 → 结案, drill-down to a single incident.",
    )
