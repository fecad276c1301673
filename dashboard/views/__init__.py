"""Read models of the pages: one module per page, Dash-free, returning plain data that the
page's callbacks turn into components and figures."""
