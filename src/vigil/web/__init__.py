"""The web: the FastAPI app (app.py), the REST API under /api/v1 (api/), the UI (ui/), users and sessions (auth.py)."""
