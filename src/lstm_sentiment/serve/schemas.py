"""Request and response bodies. Limits are part of the types, so the OpenAPI schema at /docs states them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from ..explain import METHODS
from .settings import ServeSettings


class ModelInfo(BaseModel):
    name: str
    version: str = Field(description="first 12 hex digits of the weights' SHA-256")


class Prediction(BaseModel):
    label: Literal["positive", "negative"]
    probability: float = Field(ge=0, le=1, description="P(positive)")


class PredictResponse(BaseModel):
    predictions: list[Prediction]
    model: ModelInfo


class NgramContribution(BaseModel):
    ngram: str
    contribution: float


class ExplainResponse(BaseModel):
    """The same keys and numbers as `lstm-sentiment explain --json`."""

    tokens: list[str]
    unknown: list[bool]
    forget: list[float]
    input: list[float]
    output: list[float]
    cell_norm: list[float]
    running_probability: list[float]
    contributions: list[float]
    label: Literal["positive", "negative"]
    probability: float
    method: str
    truncated_tokens: int
    truncated_side: Literal["start", "end", "middle"]
    lstm_probability: float = Field(description="the LSTM's P(positive) alone (= probability without an n-gram member)")
    ngram_contributions: list[NgramContribution] = Field(
        default_factory=list, description="the n-gram member's largest shares of the logit; empty without one")
    read_as: dict[str, str] = Field(
        default_factory=dict, description="words outside the vocabulary read as a word inside it (its aliases)")
    ngram_unread: bool = Field(
        default=False, description="the n-gram member read nothing of the review (its negation scope left out every "
                                   "word), so the LSTM decides it")


class ErrorResponse(BaseModel):
    detail: str = Field(description="what is wrong, naming the field")
    field: str | None = Field(default=None, description="the offending field, e.g. texts[3]")


class Health(BaseModel):
    status: Literal["ok"]


class ModelDescription(BaseModel):
    name: str
    version: str
    vocab_size: int
    config: dict
    metrics: dict | None = Field(description="the metrics the model directory records (test split unless the run "
                                             "kept away from it), or null")
    metrics_split: str | None
    precision: Literal["float32", "bfloat16"]
    limits: dict[str, int]


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("empty review text")
    return text


def request_models(settings: ServeSettings) -> tuple[type[BaseModel], type[BaseModel]]:
    """PredictRequest and ExplainRequest with this server's limits built in."""
    Text = Annotated[str, StringConstraints(max_length=settings.max_chars)]
    # an empty review has no sentiment: refused, as the command line refuses it
    Review = Annotated[Text, AfterValidator(_not_blank)]

    class PredictRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"texts": ["This movie was fantastic"]}})
        texts: list[Review] = Field(min_length=1, max_length=settings.max_texts,
                                  description=f"1 to {settings.max_texts} reviews of at most {settings.max_chars} "
                                              "characters")

    class ExplainRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"text": "Not bad at all."}})
        text: Text = Field(description=f"one review of at most {settings.max_chars} characters")
        method: Literal[METHODS] = "integrated-gradients"  # type: ignore[valid-type]

    return PredictRequest, ExplainRequest
