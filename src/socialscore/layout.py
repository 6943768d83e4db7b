"""Every artifact path for one project directory and mode, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socialscore.config import Settings


def user_cache_dir() -> Path:
    """This user's cache shared by every project (``$XDG_CACHE_HOME/socialscore``, else ``~/.cache/socialscore``)."""
    import os

    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "socialscore"


@dataclass(frozen=True)
class Layout:
    project_dir: Path
    mode: str

    @classmethod
    def for_settings(cls, settings: Settings, project_dir: Path | str) -> Layout:
        """The project's layout for a run with ``settings``: the mode is the settings' own (held once)."""
        return cls(Path(project_dir), settings.mode)

    def check(self, settings: Settings) -> Layout:
        """This layout, refusing settings of another mode (its files and the run's mode would disagree)."""
        if settings.mode != self.mode:
            raise ValueError(f"layout mode {self.mode!r} differs from the settings' mode {settings.mode!r}")
        return self

    @property
    def data_dir(self) -> Path:
        return self.project_dir / "data"

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def interim_dir(self) -> Path:
        return self.data_dir / "interim"

    @property
    def processed_dir(self) -> Path:
        return self.data_dir / "processed"

    @property
    def nltk_cache_dir(self) -> Path:
        return self.data_dir / "cache" / "nltk_data"

    @property
    def models_dir(self) -> Path:
        return self.project_dir / "models"

    @property
    def reports_dir(self) -> Path:
        return self.project_dir / "reports"

    @property
    def logs_dir(self) -> Path:
        return self.project_dir / "logs"

    @property
    def state_dir(self) -> Path:
        return self.project_dir / ".socialscore"

    def shown(self, path: Path) -> str:
        """``path`` as a run prints it: relative to the project directory when inside it."""
        try:
            return str(path.relative_to(self.project_dir))
        except ValueError:
            return str(path)

    # --- files -------------------------------------------------------------
    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "socialscore.db"

    @property
    def raw_fallbacks(self) -> tuple[Path, ...]:
        """The original spec's fallback chain when no data file is configured."""
        return (
            self.raw_dir / "cleaned_training_sample.csv",
            self.raw_dir / "prod.csv",
            self.raw_dir / "train.csv",
        )

    @property
    def prod_input(self) -> Path:
        return self.raw_dir / "prod.csv"

    def interim(self, name: str, ext: str = "parquet") -> Path:
        return self.interim_dir / f"{name}_{self.mode}.{ext}"

    def processed(self, name: str, ext: str) -> Path:
        return self.processed_dir / f"{name}_{self.mode}.{ext}"

    @property
    def model_metadata(self) -> Path:
        return self.models_dir / f"model_metadata_{self.mode}.json"

    @property
    def metrics(self) -> Path:
        return self.reports_dir / f"metrics_{self.mode}.json"

    @property
    def figures_dir(self) -> Path:
        return self.reports_dir / f"figures_{self.mode}"

    @property
    def report_html(self) -> Path:
        return self.reports_dir / f"report_{self.mode}.html"

    @property
    def predictions(self) -> Path:
        return self.reports_dir / f"predictions_{self.mode}.csv"

    @property
    def log_file(self) -> Path:
        return self.logs_dir / f"pipeline_{self.mode}.log"

    @property
    def state_file(self) -> Path:
        return self.state_dir / f"state_{self.mode}.json"

    def comments_table(self, prefix: str = "comments") -> str:
        return f"{prefix}_{self.mode}"

    @property
    def predictions_table(self) -> str:
        return f"predictions_{self.mode}"

    def ensure(self) -> None:
        for directory in (
            self.raw_dir,
            self.interim_dir,
            self.processed_dir,
            self.models_dir,
            self.reports_dir,
            self.logs_dir,
            self.state_dir,
        ):
            directory.mkdir(parents=True, exist_ok=True)
