"""督办考核: Supervision and assessment: KPIs by department and district (红黑榜)."""

import dash

from pages._placeholder import placeholder

dash.register_page(__name__, path="/supervision", name="督办考核", order=2, name_en="Supervision")


def layout(**_kwargs):
    return placeholder(
        "supervision-page",
        "督办考核",
        "Supervision and assessment: KPIs by department and district (红黑榜).",
    )
