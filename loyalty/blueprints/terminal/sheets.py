"""A terminal sheet's answer: into the open sheet (``#sheet``) for htmx, else a page of its
own (the sheet works without JavaScript too)."""
from flask import current_app, render_template

from loyalty.redirects import is_htmx


def sheet_or_page(partial, page, status=200, **values):
    if is_htmx():
        response = current_app.make_response((render_template(partial, **values), status))
        response.headers["HX-Retarget"] = "#sheet"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render_template(page, **values), status
