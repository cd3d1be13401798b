// The admin console: draws itself from the actuator's JSON. Plain DOM, no framework, no build step.
// Every value from the server is written as text (textContent), never as HTML.
"use strict";

/**
 * Where the actuator serves each endpoint the console reads, relative to this page ("../actuator/chains"),
 * as the server says in endpoints.json: a base path or path-mapping of the gateway's moves them.
 */
let endpoints = {};

/** Creates an element with attributes and children (strings become text). */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : text(String(child)));
  }
  return node;
}

/**
 * Characters that show nothing, or turn round or join what is beside them: controls (but tab and line
 * breaks), format characters (bidirectional overrides and isolates, zero-width spaces and joiners, soft
 * hyphens, tags), line and paragraph separators, and the Hangul fillers that render blank.
 */
const UNSEEN = /([\p{Cf}\p{Zl}\p{Zp}\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u115F\u1160\u3164\uFFA0])/u;

/**
 * A text node; one that is not plain printable ASCII (an ID, a reason, an error from outside may hold
 * right-to-left letters) inside a <bdi>, so that it cannot turn round the text beside it, with each
 * UNSEEN character shown by its code: otherwise @\u202Emoc.elpmaxe:ecila, whose server is ecila, and
 * @al\u200Bice:example.com would both read as @alice:example.com.
 */
function text(value) {
  if (!/[^\x20-\x7E\t\n\r]/.test(value)) return document.createTextNode(value);
  const isolated = document.createElement("bdi");
  // split() with a capturing group: the text between the UNSEEN characters at even places, each one at an odd place
  value.split(UNSEEN).forEach((part, index) => isolated.append(index % 2 === 0 ? part : unseen(part)));
  return isolated;
}

/** An UNSEEN character as its code, "U+202E", marked so that no text typed to look like one can pass for one. */
function unseen(character) {
  const code = "U+" + character.codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
  return el("span", { class: "unseen", title: code + ": a character that shows nothing, or turns round or joins the text"
    + " beside it, shown here by its code" }, code);
}

function table(headings, rows) {
  return el("table", {},
    el("thead", {}, el("tr", {}, headings.map(h => typeof h === "string" ? el("th", {}, h) : el("th", h.attributes, h.text)))),
    el("tbody", {}, rows));
}

/** A label in the colour of its outcome, optionally with a count: "deny 3". */
function pill(label, count) {
  return el("span", { class: "pill " + label }, count === undefined ? label : label + " " + count);
}

/** The mark of a mode: shadow entry, or of what one did: its answers never take effect. */
function shadowMark(text = "shadow") {
  return el("span", { class: "pill shadow", title: "A mode: shadow entry: asked and recorded, never obeyed" }, text);
}

function errorBox(message) {
  return el("div", { class: "error-box", role: "alert" }, message);
}

/** Replaces a container's content; null and undefined parts are left out, as el() leaves them out. */
function show(containerId, ...content) {
  document.getElementById(containerId).replaceChildren(...content.filter(part => part !== undefined && part !== null));
}

/**
 * A path relative to this page as an absolute URL without a user name or password: a page opened as
 * http://admin:token@host/console/ would pass them on to every relative URL, and fetch refuses a URL that
 * holds credentials. The browser sends the login it keeps for this origin instead.
 */
function fromThePage(relative) {
  const url = new URL(relative, document.baseURI);
  url.username = "";
  url.password = "";
  return url.href;
}

/** GET or POST an endpoint (and a path or query after it); resolves to {status, json} and never rejects for an HTTP error. */
async function call(endpoint, suffix = "", options = {}) {
  const response = await fetch(fromThePage(endpoints[endpoint] + suffix), {
    credentials: "same-origin",
    headers: { "Accept": "application/json", ...(options.body !== undefined ? { "Content-Type": "application/json" } : {}) },
    ...options,
  });
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (notJson) { json = { error: text }; }
  return { status: response.status, json };
}

/** The message of a Matrix error or of a failed reload, for a human. */
function describeError(answer) {
  const body = answer.json || {};
  const code = body.errcode ? body.errcode + ": " : "";
  return "HTTP " + answer.status + " " + code + (body.error || body.message || "no details");
}

/** An ISO-8601 instant as "2026-12-01 14:02:03.123 UTC". */
function utc(instant) {
  return new Date(instant).toISOString().replace("T", " ").replace("Z", " UTC");
}

function micros(value) {
  if (value === undefined || value === null || Number.isNaN(value)) return "";
  return value >= 1000 ? (value / 1000).toFixed(1) + " ms" : value.toFixed(1) + " µs";
}

// ---- Chains ----

const state = { chains: null, stats: {} };

/** The chains as [{category, callback, key, entries}], in the order of /actuator/chains. */
function chainList(chains) {
  const list = [];
  for (const [category, callbacks] of Object.entries(chains)) {
    for (const [callback, entries] of Object.entries(callbacks)) {
      if (Array.isArray(entries)) list.push({ category, callback, key: "", entries });
      else for (const [key, perKey] of Object.entries(entries)) list.push({ category, callback, key, entries: perKey });
    }
  }
  return list;
}

async function loadChains() {
  const [chains, stats] = await Promise.all([call("chains"), call("chainstats")]);
  if (chains.status !== 200) {
    show("chains-body", errorBox("Cannot read the chains: " + describeError(chains)));
    return;
  }
  state.chains = chains.json;
  state.stats = stats.status === 200 ? stats.json : {};
  drawChains();
  fillPickers();
}

function drawChains() {
  const showEmpty = document.getElementById("show-empty-chains").checked;
  const rows = [];
  for (const chain of chainList(state.chains)) {
    if (!showEmpty && chain.entries.length === 0) continue;
    const stats = ((state.stats[chain.category] || {})[chain.callback]) || {};
    const name = chain.category + "/" + chain.callback + (chain.key ? " (" + chain.key + ")" : "");
    if (chain.entries.length === 0) {
      rows.push(el("tr", { "data-callback": chain.callback }, el("td", { class: "id" }, name), el("td", { colspan: 6, class: "muted" }, "no entries")));
      continue;
    }
    chain.entries.forEach((entry, index) => {
      const entryStats = stats[entry] || { mode: "enforce", decisions: {}, shadow_answers: {}, calls: {} };
      const shadow = entryStats.mode === "shadow";
      // A shadow entry never decides: what it answered is what it would have decided.
      const decided = Object.entries(shadow ? entryStats.shadow_answers : entryStats.decisions).map(([outcome, count]) => pill(outcome, count));
      const calls = Object.values(entryStats.calls);
      const count = calls.reduce((sum, c) => sum + c.count, 0);
      const mean = count ? calls.reduce((sum, c) => sum + c.mean_micros * c.count, 0) / count : NaN;
      const max = calls.reduce((m, c) => Math.max(m, c.max_micros), 0);
      const failures = Object.entries(entryStats.calls).filter(([outcome]) => outcome !== "answered")
        .map(([outcome, c]) => pill(outcome, c.count));
      rows.push(el("tr", { "data-callback": chain.callback, "data-entry": entry, "data-mode": entryStats.mode, class: shadow ? "shadow" : null },
        index === 0 ? el("td", { rowspan: chain.entries.length }, el("span", { class: "id" }, name)) : null,
        el("td", { class: "num" }, index + 1),
        el("td", { class: "entry" }, entry, shadow ? [" ", shadowMark()] : null),
        el("td", {}, decided.length ? [shadow ? el("span", { class: "muted" }, "would have: ") : null, decided]
          : el("span", { class: "muted" }, "none yet")),
        el("td", { class: "num" }, count, failures.length ? el("div", {}, failures) : null),
        el("td", { class: "num" }, micros(mean)),
        el("td", { class: "num" }, count ? micros(max) : "")));
    });
  }
  show("chains-body", rows.length ? table(["Callback", { text: "#", attributes: { class: "num" } }, "Entry",
      "Decisions (as decider)", { text: "Calls", attributes: { class: "num" } }, { text: "Mean", attributes: { class: "num" } },
      { text: "Max", attributes: { class: "num" } }], rows)
    : el("p", { class: "muted" }, "No callback has entries: the configuration lists no modules."));
}

/** The callback and entry names for the decision filters and the explain form. */
function fillPickers() {
  const chains = chainList(state.chains);
  const callbacks = [...new Set(chains.map(c => c.callback))];
  const entries = [...new Set(chains.flatMap(c => c.entries))];
  document.getElementById("callback-names").replaceChildren(...callbacks.map(c => el("option", { value: c })));
  document.getElementById("entry-names").replaceChildren(...entries.map(e => el("option", { value: e })));
}

/** The explain form's callbacks: those the server says an explain accepts (decisions with entries, no notifications). */
async function loadExplainable() {
  const answer = await call("explain");
  if (answer.status !== 200) {
    show("explain-result", errorBox("Cannot read the callbacks to explain: " + describeError(answer)));
    return;
  }
  const select = document.getElementById("explain-callback");
  const chosen = select.value;
  select.replaceChildren(...answer.json.callbacks.map(path => el("option", { value: path }, path)));
  if (chosen) select.value = chosen;
}

// ---- Decisions ----

async function loadDecisions() {
  const form = document.getElementById("decisions-filter");
  const query = new URLSearchParams();
  for (const [name, value] of new FormData(form)) if (String(value).trim()) query.set(name, String(value).trim());
  const answer = await call("decisions", "?" + query);
  if (answer.status !== 200) {
    show("decisions-body", errorBox("Cannot read the decisions: " + describeError(answer)));
    return;
  }
  const log = answer.json;
  // the filters as text, which shows an UNSEEN character that the filter's input field shows not
  const filters = [...query].filter(([name]) => name !== "limit").map(([name, value]) => [" " + name + " ", el("code", {}, value)]);
  const summary = el("p", { class: "muted", id: "decisions-summary" }, log.decisions.length + " shown",
    filters.length ? [" for", filters] : null,
    "; " + log.recorded + " recorded since startup; the log keeps the last " + log.capacity + ".");
  if (log.decisions.length === 0) {
    show("decisions-body", summary, el("p", { class: "muted", id: "no-decisions" }, "No refusals or failures match."));
    return;
  }
  const rows = log.decisions.map(d => el("tr", { class: d.mode === "shadow" ? "decision shadow" : "decision", "data-mode": d.mode },
    el("td", { class: "time" }, utc(d.time)),
    el("td", {}, el("span", { class: "muted" }, d.category + "/"), d.callback),
    el("td", {}, d.entry || el("span", { class: "muted" }, "none")),
    el("td", {}, d.mode === "shadow"
      ? shadowMark("would have " + d.outcome)
      : pill(d.outcome)),
    el("td", {}, d.errcode ? el("code", {}, d.errcode) : pill(d.verdict), d.reason ? el("div", { class: "reason" }, d.reason) : null),
    el("td", { class: "num" }, d.status),
    el("td", {}, ids(d.users, "user")),
    el("td", {}, ids(d.rooms, "room")),
    el("td", {}, d.servers.map(s => el("span", { class: "id" }, s)))));
  show("decisions-body", summary, table(["Time", "Callback", "Entry", "Outcome", "Answer", { text: "Status", attributes: { class: "num" } },
    "Users", "Rooms", "Servers"], rows));
}

/** IDs as links that filter the decisions by them. */
function ids(values, filter) {
  return values.map(value => el("a", {
    class: "id", href: "#decisions", title: "Show only decisions involving " + value,
    onclick: event => {
      event.preventDefault();
      document.querySelector("#decisions-filter [name=" + filter + "]").value = value;
      loadDecisions();
    },
  }, value));
}

// ---- Sources ----

async function loadSources() {
  const answer = await call("sources");
  if (answer.status !== 200) {
    show("sources-body", errorBox("Cannot read the sources: " + describeError(answer)));
    return;
  }
  const instances = Object.entries(answer.json);
  if (instances.length === 0) {
    show("sources-body", el("p", { class: "muted" }, "No module with a source is configured."));
    return;
  }
  show("sources-body", ...instances.flatMap(([instance, reading]) => [
    el("h3", { "data-instance": instance }, instance, " ", el("span", { class: "muted" }, reading.module)),
    table(["Source", "Kind", "Location", "Entries", "Last good read", "Last error", { text: "Failures", attributes: { class: "num" } }],
      reading.sources.map(source => {
        const entries = Object.entries(source.entries).map(([kind, count]) => kind + ": " + count);
        return el("tr", { class: "source", "data-instance": instance, "data-source": source.name },
          el("td", {}, source.name),
          el("td", {}, source.kind),
          el("td", {}, el("code", {}, source.location)),
          el("td", {}, entries.length ? entries.map(e => el("div", {}, e)) : el("span", { class: "muted" }, "none")),
          el("td", { class: source.last_success ? "ok" : "muted" }, source.last_success ? utc(source.last_success) : "never"),
          el("td", { class: source.last_error ? "bad" : "muted" }, source.last_error || "none"),
          el("td", { class: "num" }, source.failures));
      })),
  ]));
}

// ---- Explain ----

async function explain(event) {
  event.preventDefault();
  const path = document.getElementById("explain-callback").value;
  const text = document.getElementById("explain-body").value;
  try {
    JSON.parse(text);
  } catch (invalid) {
    show("explain-result", errorBox("The arguments are not JSON: " + invalid.message));
    return;
  }
  if (!path) {
    show("explain-result", errorBox("No callback has entries to explain."));
    return;
  }
  show("explain-result", el("p", { class: "loading" }, "Asking…"));
  const answer = await call("explain", "/" + path, { method: "POST", body: text });
  if (answer.status !== 200) {
    show("explain-result", errorBox(describeError(answer)));
    return;
  }
  const result = answer.json;
  show("explain-result",
    el("p", { id: "explain-summary" }, "The homeserver would get ", el("strong", {}, "HTTP " + result.status), ", decided by ",
      result.decided_by ? el("strong", { class: "id" }, result.decided_by) : el("span", { class: "muted" }, "no single entry"),
      el("span", { class: "muted" }, " (generation " + result.generation + ")")),
    el("pre", { id: "explain-answer" }, JSON.stringify(result.answer, null, 2)),
    result.trace.length ? table(["Entry", "Mode", "Outcome", "Answer or error", { text: "Time", attributes: { class: "num" } }, "Decided"],
      result.trace.map(step => el("tr", {
        class: ["step", step.decided ? "decided" : "", step.mode === "shadow" ? "shadow" : ""].join(" ").trim(),
        "data-entry": step.entry, "data-mode": step.mode,
      },
        el("td", { class: "entry" }, step.entry),
        el("td", {}, step.mode === "shadow" ? shadowMark() : step.mode),
        el("td", {}, pill(step.outcome)),
        step.error ? el("td", { class: "bad" }, step.error)
          : el("td", {}, step.answer === null || step.answer === undefined ? "" : el("code", {}, JSON.stringify(step.answer))),
        el("td", { class: "num" }, micros(step.micros)),
        el("td", {}, step.decided ? el("strong", {}, "decided") : "")))) : null,
    el("p", { class: "muted", id: "explain-not-asked" }, "Not asked: ",
      result.not_asked.length ? result.not_asked.map(e => el("span", { class: "id" }, e)) : "none"));
}

// ---- Configuration ----

/** The serving generation and how the last reload ended (the configReload health details). */
async function loadStatus() {
  const answer = await call("reload");
  const details = answer.status === 200 ? answer.json : null;
  if (!details) {
    show("config-status", errorBox("Cannot read the configuration status: " + describeError(answer)));
    return;
  }
  const last = details.last_reload || {};
  show("config-status",
    "Serving configuration ", el("strong", { id: "generation" }, "generation " + details.generation),
    " since " + utc(details.since) + ". Last reload: ", pill(last.result),
    el("span", { class: "muted" }, "(" + last.trigger + ", " + utc(last.at) + ")"),
    // One line can be long (key, value, file, line, problem, fix): folded, as the reload result shows it whole.
    last.error ? el("details", { id: "last-reload-error" }, el("summary", {}, "why"), last.error) : null);
}

async function reload() {
  show("reload-result", el("p", { class: "loading" }, "Reloading…"));
  const answer = await call("reload", "", { method: "POST", body: "{}" });
  const body = answer.json || {};
  if (answer.status === 200) {
    show("reload-result", el("p", { class: "ok" }, body.result === "unchanged"
      ? "Unchanged: the configuration on disk is the one serving (generation " + body.generation + ")."
      : "Reloaded: generation " + body.generation + " serves."));
  } else if (answer.status === 409) {
    show("reload-result", errorBox("Reload failed; generation " + body.generation + " keeps serving. " + body.error));
  } else {
    show("reload-result", errorBox("Reload failed: " + describeError(answer)));
  }
  await refreshAll();
}

// ---- Wiring ----

const loaders = { status: loadStatus, chains: loadChains, explainable: loadExplainable, decisions: loadDecisions, sources: loadSources };

function refreshAll() {
  return Promise.all(Object.values(loaders).map(load => load().catch(failure => console.error(failure))));
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("show-empty-chains").addEventListener("change", () => state.chains && drawChains());
  document.querySelectorAll("[data-refresh]").forEach(button =>
    button.addEventListener("click", () => loaders[button.dataset.refresh]()));
  const filter = document.getElementById("decisions-filter");
  filter.addEventListener("submit", event => { event.preventDefault(); loadDecisions(); });
  filter.addEventListener("reset", () => setTimeout(loadDecisions));
  document.getElementById("explain-form").addEventListener("submit", explain);
  document.getElementById("reload-button").addEventListener("click", reload);
  fetch(fromThePage("endpoints.json"), { credentials: "same-origin" })
    .then(response => response.ok ? response.json() : Promise.reject(new Error("HTTP " + response.status)))
    .then(served => { endpoints = served; })
    .then(refreshAll, failure => {
      // without the endpoints no section can load: say so once, where the status goes, not "Loading…" for ever
      const message = "Cannot read the console's endpoint list (endpoints.json): " + failure.message
        + ". Reload the page; if this persists, check the management port and any proxy in front of it.";
      show("config-status", errorBox(message));
      document.querySelectorAll(".body .loading").forEach(loading => loading.replaceChildren("Not loaded."));
    })
    .then(() => document.body.setAttribute("data-loaded", "true"));
});
