"""人才队伍: The people: grid workers, social workers, mediators."""

import dash

from pages._placeholder import placeholder

dash.register_page(__name__, path="/talent", name="人才队伍", order=4, name_en="People")


def layout(**_kwargs):
    return placeholder(
        "talent-page", "人才队伍", "The people: grid workers, social workers, mediators."
    )
