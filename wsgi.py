"""The WSGI entry point gunicorn loads in each worker (after fork: no `preload_app`)."""

from app.factory import create_app

app = create_app()
