"""Server-rendered pages for focal points, analysts and admins (Jinja2, Spanish first)."""
