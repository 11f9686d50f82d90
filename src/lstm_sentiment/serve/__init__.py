"""`lstm-sentiment serve`: the model behind an HTTP API (FastAPI) and a page for trying reviews.

FastAPI and uvicorn are the optional `[serve]` extra; without them, `serve` stops with a one-line error that
names the fix (raised by server.serve, where they are first imported, not here).
"""
