"""周例会: The weekly review meeting bulletin (通报)."""

import dash

from pages._placeholder import placeholder

dash.register_page(__name__, path="/weekly", name="周例会", order=5, name_en="Weekly meeting")


def layout(**_kwargs):
    return placeholder("weekly-page", "周例会", "The weekly review meeting bulletin (通报).")
