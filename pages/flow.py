"""事件流转: The event loop: 发现 → 立案 → 派遣 → 处置 → 结案, drill-down to a single incident."""

import dash

from pages._placeholder import placeholder

dash.register_page(__name__, path="/flow", name="事件流转", order=1, name_en="Event flow")


def layout(**_kwargs):
    return placeholder(
        "flow-page",
        "事件流转",
        "The event loop: 发现 → 立案 → 派遣 → 处置 → 结案, drill-down to a single incident.",
    )
