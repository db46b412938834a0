"""FastAPI variant of the example inference server (same API as examples/mlp-server).

POST /predict  {"features": [16 numbers]} or {"instances": [[...], ...]}
GET  /health   200 once the model is loaded, 503 before
GET  /metrics  Prometheus: inference_queue_depth, inference_requests_total, latency histograms

Run: ./setup.sh && .venv/bin/uvicorn server:app --host 127.0.0.1 --port ${PORT:-8080}
Env: TTA_SAMPLES (default 8), STARTUP_DELAY_MS (default 0), MAX_QUEUE (default 1000).
One model worker: requests run one at a time (a lock), so inference_queue_depth is the backlog.
"""
import asyncio
import itertools
import os
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from model import MLP

TTA = max(1, int(os.environ.get("TTA_SAMPLES", "8")))
STARTUP_DELAY = float(os.environ.get("STARTUP_DELAY_MS", "0")) / 1000
MAX_QUEUE = int(os.environ.get("MAX_QUEUE", "1000"))

QUEUE_DEPTH = Gauge("inference_queue_depth", "Requests waiting for or in inference")
REQUESTS = Counter("inference_requests", "Inference requests by outcome", ["code"])
LATENCY = Histogram(
    "inference_request_duration_seconds",
    "Time from request arrival to response, including queueing",
    buckets=[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
)
COMPUTE = Histogram(
    "inference_compute_seconds",
    "Model compute time per request",
    buckets=[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
)

state = {"model": None, "depth": 0}
worker = threading.Lock()
seq = itertools.count(1)


@asynccontextmanager
async def lifespan(_app: FastAPI):
    async def load() -> None:
        await asyncio.sleep(STARTUP_DELAY)
        state["model"] = MLP(Path(__file__).with_name("weights.json"))

    task = None
    if STARTUP_DELAY > 0:
        task = asyncio.get_running_loop().create_task(load())  # serve /health (503) while loading
    else:
        await load()
    yield
    if task is not None:
        task.cancel()


app = FastAPI(title="mlp-server (FastAPI)", lifespan=lifespan)


def reply(status: int, body: dict, t0: float) -> JSONResponse:
    REQUESTS.labels(code=str(status)).inc()
    LATENCY.observe(time.perf_counter() - t0)
    return JSONResponse(body, status_code=status)


def parse(data, inputs: int):
    if not isinstance(data, dict):
        return 'expected {"features":[...]} or {"instances":[[...],...]}'
    items = [data["features"]] if "features" in data else data.get("instances")
    if not isinstance(items, list) or not items:
        return 'expected {"features":[...]} or {"instances":[[...],...]}'
    if len(items) > 64:
        return "at most 64 instances per request"
    for x in items:
        if not isinstance(x, list) or len(x) != inputs or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf") for v in x
        ):
            return f"each instance must be an array of {inputs} finite numbers"
    return items


def infer(model: MLP, items):
    with worker:
        t = time.perf_counter()
        out = []
        for x in items:
            p = model.predict_tta(x, TTA, 0.02, next(seq))
            best = max(range(len(p)), key=p.__getitem__)
            out.append({"class": model.classes[best], "index": best, "probabilities": [round(v, 4) for v in p]})
        COMPUTE.observe(time.perf_counter() - t)
        return out


@app.get("/health")
async def health():
    model = state["model"]
    if model is None:
        return JSONResponse({"status": "loading"}, status_code=503)
    return {"status": "ok", "model": model.name}


@app.get("/metrics")
async def metrics():
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@app.post("/predict")
async def predict(request: Request):
    t0 = time.perf_counter()
    model = state["model"]
    if model is None:
        return reply(503, {"error": "model is loading"}, t0)
    try:
        data = await request.json()
    except Exception:
        return reply(400, {"error": "body is not JSON"}, t0)
    items = parse(data, model.inputs)
    if isinstance(items, str):
        return reply(400, {"error": items}, t0)
    if state["depth"] >= MAX_QUEUE:
        return reply(429, {"error": "queue full"}, t0)
    state["depth"] += 1
    QUEUE_DEPTH.set(state["depth"])
    try:
        predictions = await asyncio.to_thread(infer, model, items)
    finally:
        state["depth"] -= 1
        QUEUE_DEPTH.set(state["depth"])
    return reply(200, {"model": model.name, "predictions": predictions}, t0)
