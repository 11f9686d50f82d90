// The page's only script: call /predict, then /explain/html, and show both. Same-origin requests only.
"use strict";

const form = document.getElementById("form");
const review = document.getElementById("review");
const analyze = document.getElementById("analyze");
const result = document.getElementById("result");
const explanation = document.getElementById("explanation");
const error = document.getElementById("error");

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  });
  if (!response.ok) {
    let detail = response.status + " " + response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (ignored) { /* not JSON */ }
    throw new Error(detail);
  }
  return response;
}

function showPrediction(prediction) {
  const percent = (100 * prediction.probability).toFixed(1);
  result.replaceChildren();
  const line = document.createElement("div");
  const label = document.createElement("span");
  label.className = "label " + prediction.label;
  label.id = "label";
  label.textContent = prediction.label;
  line.append(label, document.createTextNode(" \u2014 P(positive) = " + prediction.probability.toFixed(3)));
  const bar = document.createElement("div");
  bar.className = "bar";
  bar.setAttribute("role", "img");
  bar.setAttribute("aria-label", percent + "% positive");
  const fill = document.createElement("div");
  fill.style.width = percent + "%";
  bar.append(fill);
  result.append(line, bar);
}

async function run() {
  const text = review.value;
  error.textContent = "";
  if (!text.trim()) {
    result.replaceChildren();
    explanation.replaceChildren();
    error.textContent = "Type or paste a review first.";
    review.focus();
    return;
  }
  analyze.disabled = true;
  analyze.textContent = "Analyzing\u2026";
  explanation.replaceChildren();
  try {
    const scored = await (await post("/predict", {texts: [text]})).json();
    showPrediction(scored.predictions[0]);
    // The fragment is built by the server from escaped tokens; it holds no scripts.
    explanation.innerHTML = await (await post("/explain/html", {text: text})).text();
  } catch (failure) {
    error.textContent = failure.message;
  } finally {
    analyze.disabled = false;
    analyze.textContent = "Analyze";
  }
}

form.addEventListener("submit", (event) => { event.preventDefault(); run(); });
review.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); run(); }
});
for (const example of document.querySelectorAll(".example")) {
  example.addEventListener("click", () => { review.value = example.textContent; run(); });
}

fetch("/model").then((response) => response.json()).then((model) => {
  const accuracy = model.metrics && model.metrics.accuracy;
  const sets = model.metrics && model.metrics.test_sets;
  const where = model.metrics_split ? " on the " + model.metrics_split + " split" : "";
  const shown = sets && sets.imdb && sets.sst2
    ? ", test accuracy " + (100 * sets.imdb).toFixed(1) + "% on IMDb reviews and " + (100 * sets.sst2).toFixed(1) +
      "% on SST-2 sentences"
    : (accuracy ? ", accuracy " + (100 * accuracy).toFixed(1) + "%" + where : "");
  document.getElementById("model").textContent = "Model " + model.name + " (" + model.version + ")" + shown +
    ", vocabulary of " + model.vocab_size.toLocaleString() + " words.";
}).catch(() => { document.getElementById("model").textContent = ""; });
