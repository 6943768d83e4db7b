"""Request and response bodies. Request models are built per app, since their limits come from settings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from socialscore.text.normalize import INVISIBLE_CHARS

# "Not blank": at least one character that normalisation keeps. The schema states it as a pattern; the
# validator, which runs the normaliser itself, stays the authority and gives the reason in one line.
NOT_BLANK = f"[^\\s{INVISIBLE_CHARS}]"

EXAMPLE_LABELS = {"toxic": 0.93, "severe_toxic": 0.12, "obscene": 0.71, "threat": 0.02,
                  "insult": 0.66, "identity_hate": 0.04}


class Term(BaseModel):
    term: str = Field(description="A word or phrase of the text as written, or a plain feature name.")
    contribution: float = Field(description="Its part of the model's log-odds; > 0 pushes towards toxic.")
    kind: Literal["text", "feature"] = Field(
        description="text: words of the comment as written; feature: a named property (e.g. insult words).")


class ScoreResult(BaseModel):
    toxicity: float = Field(ge=0.0, le=1.0, description="Probability of the primary label.")
    is_toxic: bool = Field(description="toxicity ≥ the primary label's decision threshold.")
    social_score: int = Field(ge=0, le=100, description="round(100 × (1 − toxicity)); 100 is harmless.")
    risk_level: Literal["low", "medium", "high"] = Field(
        description="low exactly when not toxic; high when toxic and toxicity ≥ the high-risk cut; else medium."
    )
    labels: dict[str, float] = Field(description="Probability per label.")
    flags: dict[str, bool] = Field(description="Each label at its own decision threshold.")
    language: str | None = Field(default=None, description="The detected language (BCP 47; und-<Script> when unsure).")
    reliable: bool | None = Field(
        default=None, description="False when the text is in a language the model was not trained on: treat the score with care.")
    model_version: str
    explanation: list[Term] | None = Field(
        default=None, description="With `explain: true`: the top contributing terms, largest first.")

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "toxicity": 0.93, "is_toxic": True, "social_score": 7, "risk_level": "high",
        "labels": EXAMPLE_LABELS, "flags": {k: v >= 0.5 for k, v in EXAMPLE_LABELS.items()},
        "model_version": "nb_logistic-20250101T000000Z",
    }]})


class BatchResult(BaseModel):
    results: list[ScoreResult] = Field(description="One result per input text, in input order.")


class ErrorBody(BaseModel):
    type: str = Field(description="Stable machine-readable error type, e.g. 'validation_error'.")
    message: str = Field(description="One line for humans; never contains the submitted text.")
    request_id: str


class ErrorResponse(BaseModel):
    error: ErrorBody

    model_config = ConfigDict(json_schema_extra={"examples": [{"error": {
        "type": "text_too_long", "message": "text has 12000 characters; the limit is 10000",
        "request_id": "4f1c2a9e0b7d4e5f",
    }}]})


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    model_version: str
    alias: str


class ModelInfo(BaseModel):
    model_version: str
    alias: str
    trained_at: str | None
    labels: list[str]
    primary_label: str
    threshold: float
    thresholds: dict[str, float]
    high_risk: float
    gate: dict | None = None
    metrics: dict | None
    test_metrics: dict | None = None
    nltk_resources: list[str] = Field(default_factory=list)


class ReloadResult(BaseModel):
    status: Literal["reloaded", "unchanged"]
    model_version: str
    previous_version: str | None


class ScoreInput(BaseModel):
    """The body of ``POST /v1/score``; ``request_models`` adds the configured limits."""

    text: str
    explain: bool = False


class BatchInput(BaseModel):
    """The body of ``POST /v1/score/batch``; ``request_models`` adds the configured limits."""

    texts: list[str]


def _not_empty_after_normalisation(text: str) -> str:
    """The rule the model applies first (``text.normalize``): a text it would see as empty is refused."""
    from socialscore.text.normalize import normalize_text

    if not normalize_text(text):
        raise ValueError(EMPTY_AFTER_NORMALISATION)
    return text


EMPTY_AFTER_NORMALISATION = "empty after normalisation (only invisible, format or whitespace characters)"


def request_models(max_text_chars: int, max_batch: int) -> tuple[type[ScoreInput], type[BatchInput]]:
    """(ScoreRequest, BatchRequest) with the configured text length and batch size limits."""
    Text = Annotated[str, StringConstraints(min_length=1, max_length=max_text_chars),
                     AfterValidator(_not_empty_after_normalisation),
                     WithJsonSchema({"type": "string", "minLength": 1, "maxLength": max_text_chars,
                                     "pattern": NOT_BLANK})]

    class ScoreRequest(ScoreInput):
        model_config = ConfigDict(extra="forbid", json_schema_extra={
            "examples": [{"text": "Thanks for the thoughtful edit, that section reads much better."}]
        })
        text: Text = Field(description=f"The comment, 1–{max_text_chars} characters, not blank.")
        explain: bool = Field(default=False, strict=True, description="Also return the terms that drove the score.")

    class BatchRequest(BatchInput):
        model_config = ConfigDict(extra="forbid", json_schema_extra={
            "examples": [{"texts": ["Great point, thanks!", "You are an idiot."]}]
        })
        texts: list[Text] = Field(
            min_length=1, max_length=max_batch,
            description=f"1–{max_batch} comments; results come back in the same order.",
        )

    return ScoreRequest, BatchRequest
