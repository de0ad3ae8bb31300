"""The web application: HTML screens for staff and the JSON API, composed from the domain modules."""
