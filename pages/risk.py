"""风险预警: Risk alerts: surges, repeats, backlogs, major events."""

import dash

from pages._placeholder import placeholder

dash.register_page(__name__, path="/risk", name="风险预警", order=3, name_en="Risk alerts")


def layout(**_kwargs):
    return placeholder(
        "risk-page", "风险预警", "Risk alerts: surges, repeats, backlogs, major events."
    )
