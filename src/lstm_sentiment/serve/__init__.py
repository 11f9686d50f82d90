"""`lstm-sentiment serve`: the model behind an HTTP API (FastAPI) and a page for trying reviews.

FastAPI and uvicorn are the optional `[serve]` extra, so importing this package without them names the fix.
"""
