"""The FastAPI application: routes, limits and the page, around one loaded ModelService.

No `from __future__ import annotations` here: FastAPI reads the request models from the route annotations.
"""


from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from .. import __version__
from ..data.sources import LABEL_NAMES
from ..explain_view import FRAGMENT_STYLE, explanation_fragment
from .body_limit import BodyLimit
from .errors import install_error_handlers
from .schemas import ErrorResponse, ExplainResponse, Health, ModelDescription, PredictResponse, request_models
from .service import ModelService

# The page and its script come from this server only; inline styles are the explanation view's colours.
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
               "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
REFUSALS = {status: {"model": ErrorResponse} for status in (400, 408, 413, 422)}
BUSY = {503: {"model": ErrorResponse, "description": "too many explanations queued; retry after Retry-After s"}}
# Refusals stay JSON on the HTML route too; FastAPI would document them as the route's text/html otherwise.
JSON_REFUSALS = {status: {"description": "refused: what is wrong, naming the field", "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}} for status in (400, 408, 413, 422)}


def _asset(name: str) -> str:
    return (resources.files("lstm_sentiment.serve") / name).read_text(encoding="utf-8")


def build_app(service: ModelService) -> FastAPI:
    PredictRequest, ExplainRequest = request_models(service.settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.start()
        yield
        await service.close()

    app = FastAPI(title="lstm-sentiment", version=__version__, lifespan=lifespan,
                  description="Sentiment of movie reviews from an LSTM written from its gate equations. "
                              "Try it at /.")
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=service.settings.max_body_bytes, seconds=service.settings.read_timeout)
    model_info = {"name": service.name, "version": service.version}
    page = _asset("page.html").replace("/*FRAGMENT_STYLE*/", FRAGMENT_STYLE)
    script = _asset("page.js")

    @app.post("/predict", response_model=PredictResponse, responses=REFUSALS)
    async def predict(request: PredictRequest) -> dict:
        """P(positive) and the label for each text, in order. Concurrent requests share model calls."""
        probabilities = await service.probabilities(request.texts)
        return {"predictions": [{"label": LABEL_NAMES[int(p >= 0.5)], "probability": p} for p in probabilities],
                "model": model_info}

    @app.post("/explain", response_model=ExplainResponse, responses=REFUSALS | BUSY)
    async def explain(request: ExplainRequest, http: Request) -> Response:
        """The same numbers as `lstm-sentiment explain --json`: gates, running probability, contributions."""
        explanation = await service.explain(request.text, request.method, http.is_disconnected)
        return JSONResponse(explanation.to_dict()) if explanation else Response(status_code=499)

    @app.post("/explain/html", response_class=HTMLResponse, responses=JSON_REFUSALS | BUSY)
    async def explain_html(request: ExplainRequest, http: Request) -> Response:
        """The explanation as an HTML fragment (coloured review and gate strips), as the page shows it."""
        explanation = await service.explain(request.text, request.method, http.is_disconnected)
        return HTMLResponse(explanation_fragment(explanation)) if explanation else Response(status_code=499)

    @app.get("/health", response_model=Health)
    async def health() -> dict:
        return {"status": "ok"}

    @app.get("/model", response_model=ModelDescription)
    async def model() -> dict:
        """The loaded model: its configuration, vocabulary size, recorded metrics and this server's limits."""
        return service.describe()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_POLICY})

    @app.get("/page.js", include_in_schema=False)
    async def page_script() -> Response:
        return Response(script, media_type="text/javascript")

    return app
