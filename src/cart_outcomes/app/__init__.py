"""The local web app for clinicians (``cart-outcomes app``): upload a sheet, check how it was understood, run the
analysis, read the report and download everything. Served on 127.0.0.1 only, behind a random access token.

Nothing imports this package; it calls the plan, report and cohort functions a Python user calls.
"""

from cart_outcomes.app.server import serve

__all__ = ["serve"]
