"""The web UI: server-rendered pages (Jinja2 + htmx) over the same services as the API.

Pages read through the services; actions post forms to page routes, or call the JSON API
from the page's own script with the session cookie and the CSRF header (see
``atelier.accounts.deps.bearer_token``), so every rule the API enforces holds in the
browser too.
"""
