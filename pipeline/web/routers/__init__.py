"""Routers per area: check (cities), browse (everyone), review (the secretariat), export."""
