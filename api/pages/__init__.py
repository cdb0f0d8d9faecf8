"""Server-rendered pages of the service: the public results pages and the supervisor dashboard (Jinja2 templates,
vendored JavaScript, no front-end build step). Pages sign in with a cookie session; their forms carry a CSRF
token. A page route, like any other, has its roles in ``api.access.ROUTES`` and calls one domain function."""
