"""HTTP: the Starlette app (callback, health, admin) and the uvicorn runner."""
