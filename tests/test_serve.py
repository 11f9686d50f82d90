"""The HTTP API in-process (FastAPI's test client): answers, limits and every refusal."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from lstm_sentiment.cli import main
from lstm_sentiment.predict import load_model
from lstm_sentiment.serve.app import build_app
from lstm_sentiment.serve.batcher import MicroBatcher
from lstm_sentiment.serve.body_limit import BodyLimit
from lstm_sentiment.serve.service import ModelService, recorded_metrics
from lstm_sentiment.serve.settings import ServeSettings

REVIEWS = ["This movie was fantastic, the acting was superb.", "A dull, boring waste of two hours.",
           "I expected little and got less: awful dialogue, worse plot."]
SMALL = ServeSettings(device="cpu", max_texts=4, max_chars=200, max_body_bytes=4096, max_explain_tokens=50)


@pytest.fixture(scope="module")
def service() -> ModelService:
    return ModelService.load(SMALL)


@pytest.fixture
def client(service):
    with TestClient(build_app(service)) as test_client:
        yield test_client


def test_predict_returns_the_predictors_numbers_in_order(client, service):
    body = client.post("/predict", json={"texts": REVIEWS}).json()
    expected = load_model(device="cpu").probabilities(REVIEWS)
    got = [p["probability"] for p in body["predictions"]]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert [p["label"] for p in body["predictions"]] == ["positive", "negative", "negative"]
    assert body["model"] == {"name": "default", "version": service.version}
    assert len(service.version) == 12


def test_explain_matches_the_cli_json(client, capsys):
    text = "Not the best film, but the cast is wonderful."
    served = client.post("/explain", json={"text": text}).json()
    assert main(["explain", "--json", text]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert served.keys() == cli.keys()
    assert served["tokens"] == cli["tokens"] and served["label"] == cli["label"]
    for key in ("contributions", "forget", "running_probability"):
        np.testing.assert_allclose(served[key], cli[key], atol=1e-5)
    occluded = client.post("/explain", json={"text": text, "method": "occlusion"}).json()
    assert occluded["method"] == "occlusion"


def test_explain_html_fragment_has_the_coloured_review_and_strips(client):
    response = client.post("/explain/html", json={"text": "<script>alert(1)</script> a superb film"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "<svg" in response.text and "forget gate" in response.text
    assert "<script" not in response.text.lower()


def test_health_model_and_openapi(client, service):
    assert client.get("/health").json() == {"status": "ok"}
    described = client.get("/model").json()
    shipped = json.loads((service.model_dir / "config.json").read_text())
    assert described["vocab_size"] == shipped["vocab_size"]
    # the loaded config: the file's values, and for keys a format-1 file predates, their defaults
    assert described["config"]["data"] == {**described["config"]["data"], **shipped["data"]}
    assert described["metrics"]["accuracy"] == recorded_metrics(service.model_dir)["accuracy"]
    assert described["metrics_split"] == "test"
    assert "data" not in described["metrics"] and "machine" not in described["metrics"]  # no server-side paths
    assert described["limits"] == {"max_body_bytes": 4096, "max_texts": 4, "max_chars": 200, "max_explain_queue": 4,
                                   "max_explain_tokens": 50}
    schema = client.get("/openapi.json").json()
    assert {"/predict", "/explain", "/explain/html", "/health", "/model"} <= set(schema["paths"])
    texts = schema["components"]["schemas"]["PredictRequest"]["properties"]["texts"]
    assert texts["maxItems"] == 4 and texts["items"]["maxLength"] == 200
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(("body", "status", "field", "words"), [
    (b'{"texts": [', 400, "body", "malformed JSON"),
    (b"", 422, "body", "JSON object"),
    (b"[]", 422, "body", "JSON object"),
    (b"null", 422, "body", "JSON object"),
    (b"\xff\xfe", 400, "body", "malformed JSON"),
    (b'{"texts": []}', 422, "texts", "at least 1"),
    (b'{"texts": "one review"}', 422, "texts", "valid list"),
    (b'{"texts": [1]}', 422, "texts[0]", "valid string"),
    (b'{"texts": ["ok", null]}', 422, "texts[1]", "valid string"),
    (b'{"texts": ["a", "b", "c", "d", "e"]}', 422, "texts", "at most 4"),
    (b'{"texts": ["' + b"a" * 201 + b'"]}', 422, "texts[0]", "at most 200 characters"),
    (b'{"texts": ["\\ud800"]}', 422, "texts[0]", "unicode"),
    (b'{"text": "singular"}', 422, "texts", "required"),
    (b'{"texts": ["a"], "extra": 1}', 422, "extra", "not permitted"),
    (b'{"texts": ["fine", ""]}', 422, "texts[1]", "empty review text"),
    (b'{"texts": [" \\n\\t "]}', 422, "texts[0]", "empty review text"),
])
def test_predict_refusals_name_the_field(client, body, status, field, words):
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    error = response.json()
    assert error["field"] == field and words.lower() in error["detail"].lower()


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"text": "   "}, "text", "no words"),
    ({"text": ""}, "text", "no words"),
    ({"text": "fine", "method": "shap"}, "method", "integrated-gradients"),
    ({"texts": ["fine"]}, "text", "required"),
    ({"text": "x" * 201}, "text", "at most 200"),
    ({"text": "ok " * 60}, "text", "60 tokens; this server explains reviews of up to 50"),
])
def test_explain_refusals_name_the_field(client, body, field, words):
    for path in ("/explain", "/explain/html"):
        response = client.post(path, json=body)
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field and words in response.json()["detail"]


def test_bodies_over_the_limit_are_refused_with_or_without_content_length(client):
    declared = client.post("/predict", content=b"x" * 5000, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and "5000 bytes is over the limit of 4096" in declared.json()["detail"]
    streamed = client.post("/predict", content=iter([b'{"texts": ["', b"a" * 3000, b"a" * 3000, b'"]}']),
                           headers={"content-type": "application/json"})
    assert "content-length" not in streamed.request.headers
    assert streamed.status_code == 413 and streamed.json()["field"] == "body"


def test_invalid_content_length_is_a_400():
    sent = []

    async def app(scope, receive, send):  # never reached
        raise AssertionError

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "headers": [(b"content-length", b"12abc")]}
    asyncio.run(BodyLimit(app, 100)(scope, None, send))
    assert sent[0]["status"] == 400 and b"invalid Content-Length" in sent[1]["body"]


def test_unknown_routes_and_methods_answer_json(client):
    assert client.get("/nope").status_code == 404 and client.get("/nope").json()["detail"] == "Not Found"
    assert client.get("/predict").status_code == 405


def test_page_is_self_contained_and_locked_to_this_origin(client):
    page = client.get("/")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    script = client.get("/page.js")
    assert script.headers["content-type"].startswith("text/javascript")
    for text in (page.text, script.text):  # no external requests: every address is relative or data:
        assert not re.findall(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//""", text)
        assert not re.findall(r"""fetch\(\s*["'](?!/)""", text)
    assert '<textarea id="review"' in page.text and 'id="analyze"' in page.text and "viewport" in page.text


def test_concurrent_requests_share_model_calls_and_keep_their_own_answers():
    calls, release = [], threading.Event()

    def score(texts):
        calls.append(list(texts))
        release.wait(5)  # the first call holds the model while the others queue up
        return [len(t) / 100 for t in texts]

    async def scenario():
        from concurrent.futures import ThreadPoolExecutor

        batcher = MicroBatcher(score, ThreadPoolExecutor(1), max_batch=64)
        first = asyncio.ensure_future(batcher.score(["x"]))
        await asyncio.sleep(0.05)
        rest = [asyncio.ensure_future(batcher.score(["y" * k, "z" * (k + 1)])) for k in range(1, 9)]
        ticks = 0
        for _ in range(10):  # the event loop keeps running while the model works
            await asyncio.sleep(0.01)
            ticks += 1
        release.set()
        results = await asyncio.gather(first, *rest)
        await batcher.stop()
        return results, ticks

    results, ticks = asyncio.run(scenario())
    assert ticks == 10
    assert len(calls) == 2 and len(calls[1]) == 16  # eight requests, one model call
    assert results[0] == [0.01]
    assert results[1:] == [[k / 100, (k + 1) / 100] for k in range(1, 9)]


def test_a_failing_model_call_reaches_every_waiting_request():
    def score(texts):
        time.sleep(0.05)
        raise RuntimeError("out of memory")

    async def scenario():
        from concurrent.futures import ThreadPoolExecutor

        batcher = MicroBatcher(score, ThreadPoolExecutor(1))
        outcomes = await asyncio.gather(*(batcher.score(["a"]) for _ in range(3)), return_exceptions=True)
        await batcher.stop()
        return outcomes

    assert all(isinstance(o, RuntimeError) for o in asyncio.run(scenario()))


@pytest.mark.parametrize("flags", [["--workers", "0"], ["--port", "70000"], ["--max-texts", "0"]])
def test_serve_refuses_bad_settings(flags, capsys):
    assert main(["serve", *flags]) == 2
    assert "serve:" in capsys.readouterr().err


def test_serve_refuses_a_missing_model_before_binding(tmp_path, capsys):
    assert main(["serve", "--model", str(tmp_path / "nothing"), "--port", "0"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_serve_refuses_shared_port_zero(capsys):
    assert main(["serve", "--workers", "2", "--port", "0"]) == 2
    assert "fixed --port" in capsys.readouterr().err


def test_length_chunks_cover_every_review_once_with_little_padding():
    import torch

    from lstm_sentiment.predict import length_chunks

    lengths = torch.tensor(sorted([600, 590, 420, 400, 399, 250, 240, 30, 29, 28, 3, 1] * 5, reverse=True))
    chunks = length_chunks(lengths, max_rows=8)
    covered = [i for chunk in chunks for i in range(len(lengths))[chunk]]
    assert covered == list(range(len(lengths)))
    for chunk in chunks:
        part = lengths[chunk]
        assert len(part) <= 8 and int(part.min()) >= 0.7 * int(part.max())


def test_bfloat16_precision_is_close_to_float32_and_names_bad_values():
    from lstm_sentiment.errors import UserError

    exact = load_model(device="cpu").probabilities(REVIEWS)
    fast = load_model(device="cpu", precision="bfloat16").probabilities(REVIEWS)
    np.testing.assert_allclose(fast, exact, atol=0.02)
    with pytest.raises(UserError, match="precision"):
        load_model(device="cpu", precision="int4")


def test_a_body_over_the_limit_sent_whole_gets_its_413_not_a_reset():
    """urllib sends the whole body before it reads the answer: the server must read it (bounded) first."""
    import urllib.error
    import urllib.request

    from lstm_sentiment.serve.background import background_server

    with background_server("--device", "cpu", "--max-body-bytes", "4096") as url:
        for size in (2 << 20, 8 << 20):
            request = urllib.request.Request(url + "/predict", b"x" * size, {"Content-Type": "application/json"})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=60)
            assert refused.value.code == 413
            assert "over the limit" in json.loads(refused.value.read())["detail"]


def test_explanations_queue_is_bounded_and_abandoned_work_is_dropped(service):
    async def scenario():
        started = threading.Event()
        release = threading.Event()
        calls = []
        original = service.predictor

        def slow_explain(*args):
            calls.append(args)
            started.set()
            release.wait(10)

        from lstm_sentiment.serve import service as service_module
        real = service_module.explain
        service_module.explain = slow_explain
        try:
            gone = {"value": False}

            async def client_gone():
                return gone["value"]

            first = asyncio.ensure_future(service.explain("a fine film", "occlusion", client_gone))
            await asyncio.sleep(0.2)
            waiting = [asyncio.ensure_future(service.explain(f"film {i}", "occlusion", client_gone))
                       for i in range(service.settings.max_explain_queue - 1)]
            await asyncio.sleep(0.2)
            from lstm_sentiment.serve.service import Busy
            with pytest.raises(Busy):
                await service.explain("one too many", "occlusion", client_gone)
            gone["value"] = True  # every client hangs up
            results = await asyncio.gather(first, *waiting)
            release.set()
            await asyncio.sleep(0.3)
            return results, len(calls), original
        finally:
            service_module.explain = real

    results, calls, _ = asyncio.run(scenario())
    assert results == [None] * len(results)
    assert calls == 1  # the queued explanations never ran
