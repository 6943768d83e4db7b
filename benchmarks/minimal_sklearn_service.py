"""The yardstick for bench_startup.py: a minimal FastAPI + scikit-learn scoring service.

A TF-IDF + LogisticRegression pipeline (``joblib`` file, trained by ``--train``) loaded at start-up,
one warm-up prediction, then ``/ready``. Nothing else: no auth, no PII scrubbing, no language check.

    python benchmarks/minimal_sklearn_service.py --train MODEL.joblib
    python benchmarks/minimal_sklearn_service.py --serve MODEL.joblib --port 8001
"""

from __future__ import annotations

import argparse
import contextlib
import sys


def train(path: str) -> None:
    import joblib
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts = ["thanks for the edit", "great point", "you are an idiot", "shut up you moron"] * 50
    labels = [0, 0, 1, 1] * 50
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression())
    joblib.dump(model.fit(texts, labels), path)


def serve(path: str, port: int) -> None:
    import joblib
    import uvicorn
    from fastapi import FastAPI
    from pydantic import BaseModel

    state: dict = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        state["model"] = joblib.load(path)
        state["model"].predict_proba(["warm up"])
        yield

    app = FastAPI(lifespan=lifespan)

    class Text(BaseModel):
        text: str

    @app.get("/ready")
    async def ready() -> dict:
        return {"status": "ready"}

    @app.post("/v1/score")
    async def score(body: Text) -> dict:
        return {"toxicity": float(state["model"].predict_proba([body.text])[0, 1])}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", metavar="MODEL")
    parser.add_argument("--serve", metavar="MODEL")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    if args.train:
        train(args.train)
    elif args.serve:
        serve(args.serve, args.port)
    else:
        sys.exit(parser.format_usage())
