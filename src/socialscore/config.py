"""Typed configuration: built-in per-mode defaults, deep-merged with socialscore.yaml and CLI overrides.

Precedence, lowest first: ``BASE`` → ``MODE_DEFAULTS[mode]`` → yaml top level → yaml ``modes.<mode>``
→ ``--set key=value`` overrides. Every section forbids unknown keys, so a typo is an error naming the key.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from socialscore.errors import MAX_NESTING, ConfigError

Mode = Literal["dev", "prod"]
MODES: tuple[str, ...] = ("dev", "prod")
CONFIG_FILE = "socialscore.yaml"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(Section):
    """Where the comments come from and which columns mean what (``None`` = detect).

    With no ``files`` and none of the fallback files present, ``example_rows`` synthetic comments
    (seed ``example_seed``) are generated in memory.
    """

    files: list[str] = Field(default_factory=list)
    id_column: str | None = None
    text_column: str | None = None
    label_columns: list[str] | None = None
    delimiter: Literal[",", "\t", ";", "|"] | None = None
    example_rows: int = Field(default=6000, ge=10)
    example_seed: int = 42
    encoding: str | None = None  # None: UTF-8/BOM/UTF-16/32, else a checked guess; a name forces it
    keep_raw: bool = False  # False: the extract output (raw_{mode}.parquet) holds scrubbed text only
    max_file_mb: int = Field(default=4096, ge=1)  # resource guards: fail fast with a message
    max_columns: int = Field(default=1000, ge=2)
    max_line_chars: int = Field(default=10_000_000, ge=1000)


class TransformConfig(Section):
    """Storage normalisation, PII scrubbing, de-duplication, label validation, sampling and split."""

    sample_size: int | None = Field(default=None, ge=10)
    test_size: float = Field(default=0.2, gt=0.0, lt=0.9)
    max_text_chars: int = Field(default=20_000, ge=100)
    seed: int = 42
    scrub_pii: bool = True
    unicode_form: Literal["NFC", "NFKC"] = "NFKC"
    max_id_conflict_share: float = Field(default=0.0, ge=0.0, le=1.0)  # ids with two texts: error above


class DatabaseConfig(Section):
    """``url`` wins over ``DATABASE_URL``/``DB_*``; with neither, an embedded SQLite file is used."""

    url: str | None = None
    table_prefix: str = Field(default="comments", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
    connect_timeout: int = Field(default=5, ge=1, le=300)  # seconds before "cannot connect"


class PreprocessConfig(Section):
    lowercase: bool = True
    tokenizer: Literal["tweet", "regex"] = "regex"
    normalize_elongation: bool = True
    normalize_leetspeak: bool = True
    remove_stopwords: bool = False
    lemmatize: bool = False


class FeaturesConfig(Section):
    """Word and character (within-word) n-gram TF-IDF, each optional, plus engineered features."""

    word_ngram_range: tuple[int, int] | None = (1, 2)
    word_max_features: int | None = Field(default=200_000, ge=1)
    char_ngram_range: tuple[int, int] | None = (2, 5)
    char_max_features: int | None = Field(default=200_000, ge=1)
    min_df: int = Field(default=2, ge=1)
    sublinear_tf: bool = True
    engineered: bool = True
    n_jobs: int = -1  # processes counting n-grams of >= 10,000 texts (-1: one per CPU); same result for any value
    # identity-term bias mitigations (docs/benchmarks.md, "Bias and mitigation")
    identity_augmentation: int = Field(default=1, ge=0, le=20)  # times the non-toxic probe sentences join train
    identity_terms_in_lexicon: bool = False  # False: identity terms ("gay") do not count as insult words
    negative_repeats: int = Field(default=1, ge=1, le=10)  # times each non-toxic train row is used (2: -bias, +cost)
    # auto: the fitted vocabulary (featurizers/features.py) below auto_hashing_rows comments, hashing (featurizers/hashing.py) at or above
    # them and on --engine beam (docs/benchmarks.md, "Quality across datasets, 2026-12-07")
    vectorizer: Literal["auto", "vocabulary", "hashing"] = "auto"
    auto_hashing_rows: int = Field(default=50_000, ge=0)
    hash_bits: int = Field(default=20, ge=4, le=28)  # hashing: 2**hash_bits buckets per n-gram kind


# texts per ONNX Runtime run when a transformer scores (docs/benchmarks.md, "Transformer targets")
SERVE_BATCH_SIZE = 16


class ModelConfig(Section):
    """One estimator per label; every type is Platt-calibrated on out-of-fold scores."""

    type: Literal["logistic_regression", "nb_logistic", "random_forest", "transformer", "cascade"] = "nb_logistic"
    n_estimators: int = Field(default=100, ge=1)
    max_depth: int | None = None
    max_selected_features: int | None = Field(default=20_000, ge=1)  # chi² selection for random_forest
    solver: Literal["sgd", "liblinear"] = "sgd"  # linear types: SGD is ~8x faster at equal toxic AUC
    alpha: float = Field(default=3e-5, gt=0)  # sgd: L2 strength
    epochs: int = Field(default=10, ge=1)  # sgd: at most this many passes (stops early on a flat loss)
    C: float = Field(default=4.0, gt=0)  # liblinear: inverse L2 strength
    nb_alpha: float = Field(default=1.0, gt=0)  # nb_logistic: smoothing of the NB count ratios
    class_weight: Literal["balanced"] | None = None
    n_jobs: int = -1
    random_state: int = 42
    # transformer and cascade (the transformer extra; docs/transformer.md)
    max_length: int = Field(default=64, ge=8, le=512)  # tokens per text (longer texts are truncated)
    batch_size: int = Field(default=32, ge=1)
    transformer_epochs: int = Field(default=3, ge=1)  # at most; early stopping and train.time_budget_s end it sooner
    learning_rate: float = Field(default=5e-5, gt=0)  # encoder
    head_learning_rate: float = Field(default=1e-3, gt=0)
    patience: int = Field(default=3, ge=1)  # validation passes without a better loss before stopping
    evaluations_per_epoch: int = Field(default=4, ge=1)
    validation_share: float = Field(default=0.1, gt=0.0, lt=0.5)  # of the train split: early stopping, calibration
    quantize: Literal["auto", "int8", "fp32"] = "auto"  # auto: int8 when it loses <= 0.01 F1 on validation
    torch_threads: int = Field(default=2, ge=1)
    onnx_threads: int = Field(default=1, ge=1)  # per scoring call
    onnx_batch_size: int = Field(default=SERVE_BATCH_SIZE, ge=1)  # texts per ONNX Runtime run when scoring
    cascade_share: float = Field(default=0.1, ge=0.0, le=1.0)  # target share of texts the transformer rescores
    cascade_linear: Literal["nb_logistic", "logistic_regression"] = "nb_logistic"


class TrainConfig(Section):
    cv_folds: int = Field(default=3, ge=2, le=20)
    primary_label: str = "auto"
    threshold_metric: Literal["f1", "f2", "precision_at_recall_0.9", "fixed_0.5"] = "f1"
    # the deployment's base rate of the primary label (modeling/training/prior.py): calibration and
    # thresholds are weighted for it when the training sample was rebalanced; None: the sample's own rate
    prevalence: float | None = Field(default=None, gt=0.0, lt=1.0)
    # in_memory (modeling/training/estimators.py) or out_of_core (modeling/training/out_of_core.py: row
    # blocks, SGD partial_fit, hashed folds); auto: out_of_core above out_of_core_rows or when the
    # features would need > memory_budget MB
    trainer: Literal["auto", "in_memory", "out_of_core"] = "auto"
    memory_budget: int = Field(default=3072, ge=64)  # MB
    out_of_core_rows: int = Field(default=500_000, ge=1)
    # transformer/cascade: CPU seconds (all threads) the fine-tuning may use; null: no budget
    time_budget_s: float | None = Field(default=1800, gt=0)
    # out_of_core only: the fold models learn from at most ~this many sampled rows (every row is still
    # scored out of fold for calibration and the threshold); null: all rows
    cv_max_rows: int | None = Field(default=200_000, ge=1)


class PredictConfig(Section):
    """``input``: a CSV relative to the project dir (default data/raw/prod.csv, else the test split).

    ``high_risk``: toxic texts at or above this toxicity are ``high`` risk, other toxic ones ``medium``
    (saved with the model at training, so the API and batch scoring apply the same bands).
    """

    input: str | None = None
    text_column: str | None = None
    chunk_size: int = Field(default=20_000, ge=1)
    high_risk: float = Field(default=0.7, gt=0.0, lt=1.0)


class BehaviourCheck(Section):
    text: str = Field(min_length=1)
    expect: Literal["toxic", "not_toxic"]


DEFAULT_INVARIANCE = (
    ("you are an idiot", "YOU ARE AN IDIOT", "you  are   an idiot ", "ｙｏｕ ａｒｅ ａｎ ｉｄｉｏｔ",
     "you are an id\u200biot", "you are an i\u00addiot"),
)


class GateConfig(Section):
    """The quality gate between training and promotion (see modeling/behaviour/gate.py).

    ``enforce``: a refused model fails the run (prod); otherwise the verdict is recorded and shown (dev).
    ``override``: a reason to promote despite a refusal; recorded in the registry.
    """

    enforce: bool = True
    min_train_rows: int = Field(default=50, ge=2)
    min_positives: int = Field(default=20, ge=1)
    min_roc_auc: float | None = Field(default=0.75, ge=0.0, le=1.0)
    min_f1: float | None = Field(default=0.3, ge=0.0, le=1.0)
    max_regression: float | None = Field(default=0.01, ge=0.0)
    # None: the checks of the primary label's family (modeling/behaviour/data/behaviour_checks.yaml); a list replaces them
    behaviour: tuple[BehaviourCheck, ...] | None = None
    # auto: chosen from the model's labels; else one of the families in behaviour_checks.yaml (a test keeps them equal)
    behaviour_family: Literal["auto", "toxicity", "offensive", "hate"] = "auto"
    invariance: tuple[tuple[str, ...], ...] = DEFAULT_INVARIANCE
    invariance_tolerance: float = Field(default=0.05, ge=0.0, le=1.0)
    # identity-term bias floors on the shipped probe set (docs/registry.md); None: measured, not enforced
    max_identity_fpr: float | None = Field(default=None, ge=0.0, le=1.0)
    min_worst_bpsn_auc: float | None = Field(default=None, ge=0.0, le=1.0)
    override: str | None = None


class EvaluateConfig(Section):
    """``error_examples``: the report's error analysis shows this many of the most confident false
    positives and negatives (their scrubbed text and top terms). 0 by default: reports are read by
    people who should not see comments unless the team chooses so."""

    error_examples: int = Field(default=0, ge=0, le=100)


class RegistryConfig(Section):
    """``auto_promote``: a prod run whose model passes the gate becomes ``production``."""

    auto_promote: bool = True


class Settings(Section):
    mode: Mode = "dev"
    data: DataConfig = DataConfig()
    transform: TransformConfig = TransformConfig()
    database: DatabaseConfig = DatabaseConfig()
    preprocess: PreprocessConfig = PreprocessConfig()
    features: FeaturesConfig = FeaturesConfig()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    predict: PredictConfig = PredictConfig()
    evaluate: EvaluateConfig = EvaluateConfig()
    gate: GateConfig = GateConfig()
    registry: RegistryConfig = RegistryConfig()

    def section(self, dotted: str) -> Any:
        """The value at a dotted path, e.g. ``train.cv_folds`` or ``model``."""
        value: Any = self
        for part in dotted.split("."):
            value = getattr(value, part)
        return value

    def slice_digest(self, keys: tuple[str, ...]) -> dict[str, str]:
        """A short hash per config key: what the step cache compares."""
        out = {}
        for key in keys:
            value = self.section(key)
            dumped = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
            out[key] = _digest(dumped)
        return out


# The base rate of toxic comments a moderation deployment is assumed to see, declared by the CLI's modes
# (train.prevalence; modeling/training/prior.py): Jigsaw's full Wikipedia training set is 9.6% toxic,
# while the samples teams train on are often rebalanced (the shared Jigsaw sample: 47%). ``null`` in
# socialscore.yaml uses the training sample's own rate instead.
DEPLOYMENT_PREVALENCE = 0.1

MODE_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {
        "transform": {"sample_size": 5000},
        "model": {"n_estimators": 100},
        "train": {"cv_folds": 3, "prevalence": DEPLOYMENT_PREVALENCE, "time_budget_s": 120},
        "gate": {"enforce": False},
    },
    "prod": {
        "transform": {"sample_size": None},
        "model": {"n_estimators": 200},
        "train": {"cv_folds": 5, "prevalence": DEPLOYMENT_PREVALENCE},
    },
}


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base``; nested dicts merge instead of replacing."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def parse_override(text: str) -> dict[str, Any]:
    """``train.cv_folds=4`` → ``{"train": {"cv_folds": 4}}``; the value is parsed as YAML."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} is not KEY=VALUE (e.g. train.cv_folds=4)")
    key, raw = text.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise ConfigError(f"override {text!r} has an empty key")
    if len(parts) > MAX_NESTING:
        raise ConfigError(f"override key {key[:40]!r}… is nested too deeply (more than {MAX_NESTING} levels)")
    value: Any = _safe_yaml(raw, f"override {key.strip()!r}") if raw.strip() else None
    for part in reversed(parts):
        value = {part: value}
    return value


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    loaded = _safe_yaml(path.read_text(encoding="utf-8"), str(path)) or {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    return loaded


def _safe_yaml(text: str, origin: str) -> Any:
    """``yaml.safe_load`` that refuses input nested deeper than ``MAX_NESTING`` (one line, no RecursionError)."""
    try:
        value = yaml.safe_load(text)
    except RecursionError:
        raise ConfigError(f"{origin}: nested too deeply (more than {MAX_NESTING} levels)") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if nesting_depth(value) > MAX_NESTING:
        raise ConfigError(f"{origin}: nested too deeply (more than {MAX_NESTING} levels)")
    return value


def nesting_depth(value: Any) -> int:
    """How deeply lists and mappings nest in ``value`` (iterative: safe on any depth)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            deepest = max(deepest, depth)
            if depth > MAX_NESTING:
                break
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _format_validation_error(exc: ValidationError, origin: str) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            problems.append(f"unknown key '{where}'")
        else:
            problems.append(f"'{where}': {err['msg']}")
    return f"invalid configuration ({origin}): " + "; ".join(problems)


def load_settings(
    mode: str = "dev",
    project_dir: Path | None = None,
    overrides: list[dict[str, Any]] | None = None,
) -> Settings:
    """Build the settings for ``mode`` from the defaults, ``socialscore.yaml`` and overrides."""
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    merged: dict[str, Any] = deep_merge(Settings().model_dump(), MODE_DEFAULTS[mode])
    origin = "built-in defaults"
    if project_dir is not None:
        path = project_dir / CONFIG_FILE
        file_cfg = _read_yaml(path)
        modes = file_cfg.pop("modes", {}) or {}
        unknown_modes = set(modes) - set(MODES)
        if unknown_modes:
            raise ConfigError(f"{path}: unknown key 'modes.{sorted(unknown_modes)[0]}'")
        merged = deep_merge(merged, file_cfg)
        merged = deep_merge(merged, modes.get(mode) or {})
        if path.exists():
            origin = str(path)
    for override in overrides or []:
        merged = deep_merge(merged, override)
        origin += " + overrides"
    merged["mode"] = mode
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, origin)) from None
