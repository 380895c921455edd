"""ASGI entry point for servers: `uvicorn forum.asgi:app`."""

from forum.app import create_app

app = create_app()
