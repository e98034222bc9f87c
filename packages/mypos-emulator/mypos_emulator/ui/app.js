// The emulator's dashboard: draws the snapshot the page was served with at once, then polls
// GET /_emulator/dashboard once a second and redraws when anything changed.
// Every value from the emulator is untrusted text (payload URLs, bodies, receiver answers and headers): it is
// only ever set as textContent, never parsed as HTML.
"use strict";

const POLL_MS = 1000;
const SEARCH_PAUSE_MS = 250;
// The filter bar: each chooser's snapshot parameter, label, "all" entry and fixed choices (the event and
// webhook choices come with each snapshot).
const OUTCOME_CHOICES = Object.freeze([["delivered", "delivered"], ["retrying", "retrying"], ["failed", "failed"]]);
const TIME_CHOICES = Object.freeze([["900", "last 15 minutes"], ["3600", "last hour"], ["86400", "last 24 hours"]]);
const CHOOSERS = Object.freeze([
  { name: "event", id: "filter-event", label: "Event", all: "all events", choices: [] },
  { name: "outcome", id: "filter-outcome", label: "Outcome", all: "all outcomes", choices: OUTCOME_CHOICES },
  { name: "webhook_id", id: "filter-webhook", label: "Webhook", all: "all webhooks", choices: [] },
  { name: "within", id: "filter-within", label: "Time", all: "any time", choices: TIME_CHOICES },
]);

const state = {
  version: null,
  // Query parameters of the snapshot, as the filter controls (data-filter) name them.
  filters: { event: "", outcome: "", webhook_id: "", within: "", q: "" },
  open: new Map(), // delivery id -> the attempt id shown in detail (null: its newest attempt)
  exactBytes: new Set(), // attempt ids whose request body is shown as the exact bytes sent, not pretty-printed
  revealed: new Map(), // webhook id -> secret, shown until hidden again
  webhooks: new Map(), // webhook id -> payload URL
  busy: false, // a poll is in flight
  again: false, // redraw once it is done
};

// DOM helpers

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function replaceChildren(id, ...children) {
  document.getElementById(id).replaceChildren(...children.flat(Infinity));
}

function pad(number, width = 2) {
  return String(number).padStart(width, "0");
}

function clockTime(seconds) {
  const date = new Date(seconds * 1000);
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function dayAndTime(seconds) {
  const date = new Date(seconds * 1000);
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function shortId(id) {
  return id.slice(0, 8);
}

function plural(count, word, words = `${word}s`) {
  return `${count} ${count === 1 ? word : words}`;
}

function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text; // not JSON (or cut off at the excerpt's end): shown as it came
  }
}

// Talking to the control plane (same origin: the session cookie, if any, goes along)

async function call(method, path, body) {
  const options = { method, headers: { Accept: "application/json" }, cache: "no-store" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const answer = await fetch(path, options);
  const text = await answer.text();
  const data = text ? JSON.parse(text) : {};
  if (!answer.ok) {
    const error = new Error(data.message || `HTTP ${answer.status}`);
    error.status = answer.status;
    throw error;
  }
  return data;
}

function showToast(message, failed = false) {
  const toast = document.getElementById("toast");
  toast.textContent = message;
  toast.className = failed ? "toast failed" : "toast";
  toast.hidden = false;
  clearTimeout(showToast.timer);
  showToast.timer = setTimeout(() => (toast.hidden = true), 4000);
}

function setStatus(kind, text) {
  document.getElementById("status").dataset.state = kind;
  document.getElementById("status-text").textContent = text;
}

function setBanner(text) {
  const banner = document.getElementById("banner");
  banner.textContent = text || "";
  banner.hidden = !text;
}

// Actions

function attemptOutcome(attempt) {
  if (attempt.delivered) return `delivered: HTTP ${attempt.response_code} in ${attempt.answered_in_ms} ms`;
  return `failed: ${attempt.response_code === null ? attempt.error : "HTTP " + attempt.response_code}`;
}

async function sendAttempt(button, path, body, verb) {
  button.disabled = true;
  try {
    const { delivery } = await call("POST", path, body);
    showToast(`${delivery.event} ${verb} → ${attemptOutcome(delivery)}`, !delivery.delivered);
    return delivery;
  } catch (problem) {
    showToast(`could not send: ${problem.message}`, true);
    return null;
  } finally {
    button.disabled = false;
    refresh(true);
  }
}

function sendSample(subscriptionId, button) {
  sendAttempt(button, "/_emulator/sample", { subscription_id: subscriptionId }, "sample");
}

function sampleButton(marker, subscriptionId) {
  return el("button", { [marker]: subscriptionId, onclick: (click) => sendSample(subscriptionId, click.currentTarget) }, "Send sample");
}

async function resend(attemptId, button) {
  const attempt = await sendAttempt(button, "/_emulator/resend", { attempt_id: attemptId }, "resent");
  if (attempt) {
    state.open.set(attempt.delivery_id, attempt.id); // show what the resend got
    refresh(true);
  }
}

async function toggleSecret(webhookId) {
  if (state.revealed.has(webhookId)) {
    state.revealed.delete(webhookId);
  } else {
    try {
      const { secret } = await call("POST", "/_emulator/reveal", { webhook_id: webhookId });
      state.revealed.set(webhookId, secret);
    } catch (problem) {
      showToast(`could not reveal the secret: ${problem.message}`, true);
    }
  }
  refresh(true);
}

function toggleDelivery(deliveryId) {
  if (state.open.has(deliveryId)) state.open.delete(deliveryId);
  else state.open.set(deliveryId, null);
  refresh(true);
}

function chooseAttempt(deliveryId, attemptId) {
  state.open.set(deliveryId, attemptId);
  refresh(true);
}

function toggleExactBytes(attemptId) {
  if (state.exactBytes.has(attemptId)) state.exactBytes.delete(attemptId);
  else state.exactBytes.add(attemptId);
  refresh(true);
}

// Drawing: webhooks and the event catalogue

function drawAccounts(accounts) {
  const total = accounts.reduce((sum, account) => sum + account.webhooks.length, 0);
  document.getElementById("webhook-count").textContent =
    `${plural(total, "webhook")} in ${plural(accounts.length, "account")}`;
  if (total === 0) {
    replaceChildren("accounts", el("p", { className: "empty" }, "No webhooks yet. Deploy a stack, or create one through /v1/webhooks."));
    return;
  }
  replaceChildren(
    "accounts",
    accounts
      .filter((account) => account.webhooks.length > 0)
      .map((account) =>
        el(
          "div",
          { className: "account", "data-account": account.client_id },
          el("p", { className: "account-id" }, "account ", el("code", {}, account.client_id)),
          account.webhooks.map(drawWebhook),
        ),
      ),
  );
}

function drawWebhook(hook) {
  const secret = state.revealed.get(hook.id);
  return el(
    "div",
    { className: "webhook", "data-webhook-id": hook.id },
    el(
      "div",
      { className: "webhook-line" },
      el("span", { className: "webhook-url" }, hook.payload_url),
      el("span", { className: hook.is_active ? "pill on" : "pill off" }, hook.is_active ? "active" : "inactive"),
    ),
    el(
      "div",
      { className: "webhook-line meta" },
      el("span", {}, `created ${dayAndTime(hook.created_on)} · `, el("code", { title: hook.id }, shortId(hook.id))),
      el(
        "span",
        { className: "secret" },
        el("code", { className: secret ? "secret-value revealed" : "secret-value" }, secret ?? "••••••••"),
        el("button", { className: "quiet", "data-reveal": hook.id, onclick: () => toggleSecret(hook.id) }, secret ? "Hide" : "Reveal"),
      ),
    ),
    listOf("subs", hook.subscriptions, "no subscriptions", (sub) =>
      el(
        "li",
        { "data-subscription-id": sub.id },
        el("span", { className: "event" }, sub.event),
        el("span", { className: "meta" }, sub.terminal_ids ? `terminals ${sub.terminal_ids.join(", ")}` : "all terminals"),
        sampleButton("data-send-sample", sub.id),
      ),
    ),
  );
}

function listOf(className, items, emptyText, drawItem) {
  return items.length === 0 ? el("p", { className: "meta" }, emptyText) : el("ul", { className }, items.map(drawItem));
}

function drawEvents(events) {
  replaceChildren(
    "events",
    events.map((event) =>
      el(
        "li",
        { "data-event": event.name },
        el("div", { className: "event-line" }, el("span", { className: "name" }, event.name), el("span", { className: "pill kind" }, event.kind)),
        listOf("targets", event.subscriptions, "no subscription", (sub) =>
          el(
            "li",
            { "data-catalogue-subscription": sub.id },
            el("span", { className: "target-url" }, state.webhooks.get(sub.webhook_id) ?? sub.webhook_id),
            sampleButton("data-catalogue-send", sub.id),
          ),
        ),
      ),
    ),
  );
}

// Drawing: the delivery log

function statusBadge(attempt) {
  if (attempt.response_code === null) {
    return [el("span", { className: "status-code bad" }, "no answer"), el("span", { className: "reason" }, attempt.error || "")];
  }
  const code = attempt.response_code;
  const kind = attempt.delivered ? "ok" : code >= 300 && code < 400 ? "other" : "bad";
  return el("span", { className: `status-code ${kind}` }, code);
}

function nextRetry(at, now, delivered) {
  if (at === null) return delivered ? "" : "none left";
  const seconds = at - now;
  return seconds > 0 ? `in ${seconds.toFixed(1)} s` : clockTime(at);
}

function drawDeliveries(deliveries, total, now) {
  const filtered = Object.values(state.filters).some((value) => value !== "");
  document.getElementById("delivery-count").textContent =
    deliveries.length < total ? `newest ${deliveries.length} of ${total}` : filtered ? plural(total, "match", "matches") : plural(total, "delivery", "deliveries");
  const rows = [];
  for (const delivery of deliveries) {
    rows.push(drawDeliveryRow(delivery, now));
    if (state.open.has(delivery.id)) rows.push(drawDeliveryDetails(delivery, now));
  }
  if (rows.length === 0) {
    const text = filtered ? "No delivery matches these filters." : "No deliveries yet. Send a sample event, or emit one.";
    rows.push(el("tr", {}, el("td", { className: "empty-row", colspan: 6 }, text)));
  }
  document.querySelector("#deliveries tbody").replaceChildren(...rows);
}

function drawDeliveryRow(delivery, now) {
  const latest = delivery.attempts[0];
  return el(
    "tr",
    {
      className: `delivery ${delivery.outcome}${state.open.has(delivery.id) ? " open" : ""}`,
      "data-delivery-id": delivery.id,
      "data-outcome": delivery.outcome,
      onclick: () => toggleDelivery(delivery.id),
    },
    el("td", { className: "time" }, clockTime(delivery.last_sent_on)),
    el("td", { className: "mono" }, delivery.event),
    el("td", { className: "url" }, delivery.url),
    el("td", { "data-attempts": delivery.attempts.length }, plural(delivery.attempts.length, "attempt")),
    el("td", { className: "result" }, el("span", { className: `pill outcome ${delivery.outcome}` }, delivery.outcome), " ", statusBadge(latest)),
    el("td", { className: "meta" }, nextRetry(delivery.next_retry_at, now, latest.delivered)),
  );
}

function drawDeliveryDetails(delivery, now) {
  const chosen = delivery.attempts.find((attempt) => attempt.id === state.open.get(delivery.id)) ?? delivery.attempts[0];
  const ids = [
    ["event", delivery.payload_id ?? "—"],
    ["delivery", delivery.id],
    ["webhook", delivery.webhook_id],
    ["subscription", delivery.subscription_id],
  ];
  return el(
    "tr",
    { className: "details", "data-details-for": delivery.id },
    el(
      "td",
      { colspan: 6 },
      el("p", { className: "ids" }, ids.map(([name, id]) => el("span", {}, `${name} `, el("code", { "data-id-of": name }, id)))),
      el("ol", { className: "attempts" }, delivery.attempts.map((attempt) => drawAttemptItem(delivery, attempt, attempt === chosen, now))),
      drawExchange(chosen),
    ),
  );
}

function drawAttemptItem(delivery, attempt, chosen, now) {
  return el(
    "li",
    {
      className: `attempt ${attempt.delivered ? "delivered" : "failed"}${chosen ? " chosen" : ""}`,
      "data-attempt-id": attempt.id,
      "data-attempt": attempt.attempt,
      onclick: () => chooseAttempt(delivery.id, attempt.id),
    },
    el("span", { className: "number" }, `#${attempt.attempt}`),
    el("span", { className: "time" }, clockTime(attempt.sent_on)),
    statusBadge(attempt),
    el("span", { className: "meta" }, attempt.answered_in_ms === null ? "" : `${attempt.answered_in_ms} ms`),
    attempt.resent_from ? el("span", { className: "pill kind" }, "resent") : null,
    attempt.next_retry_at !== null ? el("span", { className: "meta" }, `next retry ${nextRetry(attempt.next_retry_at, now, false)}`) : null,
  );
}

function drawHeaders(headers, what) {
  if (headers.length === 0) return el("p", { className: "meta" }, `no ${what} headers recorded`);
  return el(
    "table",
    { className: "headers" },
    el(
      "tbody",
      {},
      headers.map(([name, value]) => el("tr", { "data-header": name.toLowerCase() }, el("th", {}, name), el("td", {}, value))),
    ),
  );
}

function drawBody(text, className) {
  if (!text) return el("p", { className: "meta" }, "empty body");
  return el("pre", { className }, prettyJson(text));
}

function drawExchange(attempt) {
  const exact = state.exactBytes.has(attempt.id);
  const request = el(
    "section",
    { className: "request" },
    el("h3", {}, "Request"),
    el("p", { className: "request-line" }, el("code", {}, `POST ${attempt.url}`)),
    drawHeaders(attempt.request_headers, "request"),
    el(
      "div",
      { className: "body-head" },
      el("span", {}, "Body"),
      el("button", { className: "quiet", "data-exact-bytes": attempt.id, onclick: () => toggleExactBytes(attempt.id) }, exact ? "Pretty-print" : "Exact bytes"),
    ),
    exact ? el("pre", { className: "body exact" }, attempt.body) : drawBody(attempt.body, "body"),
  );
  const response = el(
    "section",
    { className: "response" },
    el("h3", {}, "Response"),
    attempt.response_code === null
      ? el("p", { className: "reason" }, attempt.error || "no answer")
      : [
          el("p", { className: "status-line" }, el("code", {}, `HTTP ${attempt.response_code}`), ` in ${attempt.answered_in_ms} ms`),
          drawHeaders(attempt.answer_headers, "response"),
          el("div", { className: "body-head" }, el("span", {}, "Body (first 2 KiB)")),
          drawBody(attempt.answer, "answer"),
        ],
  );
  return el(
    "div",
    { className: "exchange", "data-attempt-details": attempt.id },
    request,
    response,
    el(
      "div",
      { className: "actions" },
      el("button", { "data-resend": attempt.id, onclick: (click) => resend(attempt.id, click.currentTarget) }, "Resend this body"),
      el("span", { className: "meta" }, "a new attempt of the same delivery, signed now · attempt ", el("code", {}, attempt.id)),
    ),
  );
}

// Drawing: API requests, faults, settings, filter choices

function drawRequests(requests) {
  const rows = requests.map((entry) =>
    el(
      "tr",
      { "data-request-seq": entry.seq },
      el("td", { className: "time" }, clockTime(entry.time)),
      el("td", { className: "method" }, entry.method),
      el("td", { className: "path" }, entry.path + (entry.query ? `?${entry.query}` : "")),
      el(
        "td",
        {},
        entry.status === null
          ? el("span", { className: "status-code bad" }, "dropped")
          : el("span", { className: `status-code ${entry.status < 400 ? "ok" : "bad"}` }, entry.status),
      ),
      el("td", {}, `${entry.duration_ms} ms`),
      el("td", { className: "meta" }, entry.account ? shortId(entry.account) + "…" : ""),
      el("td", { className: "meta" }, entry.fault || ""),
    ),
  );
  if (rows.length === 0) {
    rows.push(el("tr", {}, el("td", { className: "empty-row", colspan: 7 }, "No API requests yet.")));
  }
  document.querySelector("#requests tbody").replaceChildren(...rows);
}

function drawFaults(faults) {
  if (faults.length === 0) {
    replaceChildren("faults", el("p", { className: "empty" }, "No fault rules: every request is answered normally."));
    return;
  }
  replaceChildren(
    "faults",
    el(
      "ul",
      { className: "faults" },
      faults.map((rule) =>
        el(
          "li",
          {},
          el("span", { className: "rule" }, `${rule.method} ${rule.path} → ${rule.kind}${rule.status ? " " + rule.status : ""}`),
          el("span", { className: "meta" }, ` · fired ${rule.fired} of ${rule.matched}`),
        ),
      ),
    ),
  );
}

function drawSettings(settings) {
  replaceChildren(
    "settings",
    Object.entries(settings).map(([name, value]) => [el("dt", {}, name), el("dd", {}, JSON.stringify(value))]),
  );
}

function drawChoices(id, choices) {
  const select = document.getElementById(id);
  const all = CHOOSERS.find((chooser) => chooser.id === id).all;
  select.replaceChildren(el("option", { value: "" }, all), ...choices.map(([value, label]) => el("option", { value }, label)));
  select.value = state.filters[select.dataset.filter];
}

function drawFilterBar() {
  const search = el("input", {
    type: "search",
    "data-filter": "q",
    id: "filter-search",
    placeholder: "event, delivery, attempt or webhook id",
    autocomplete: "off",
    spellcheck: "false",
  });
  replaceChildren(
    "filters",
    CHOOSERS.map((chooser) => el("label", {}, chooser.label, " ", el("select", { "data-filter": chooser.name, id: chooser.id }))),
    el("label", { className: "search" }, "Search ", search),
  );
  for (const chooser of CHOOSERS) drawChoices(chooser.id, chooser.choices);
}

function draw(data) {
  state.webhooks = new Map(data.accounts.flatMap((account) => account.webhooks.map((hook) => [hook.id, hook.payload_url])));
  drawAccounts(data.accounts);
  drawEvents(data.events);
  drawChoices("filter-event", data.events.map((event) => [event.name, event.name]));
  drawChoices("filter-webhook", [...state.webhooks]);
  drawDeliveries(data.deliveries, data.delivery_total, data.now);
  drawRequests(data.requests);
  drawFaults(data.faults);
  drawSettings(data.settings);
}

// The snapshot: the one the page came with, then the poll loop

function snapshotQuery() {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(state.filters)) if (value) query.set(name, value);
  return query.toString();
}

function showLive() {
  setBanner("");
  setStatus("live", `live · updated ${clockTime(Date.now() / 1000).slice(0, 8)}`);
}

function drawFirstSnapshot() {
  let data;
  try {
    data = JSON.parse(document.getElementById("first-snapshot").textContent);
  } catch {
    return; // a page not served by the emulator: the first poll draws it
  }
  state.version = `${data.version}|`;
  draw(data);
  showLive();
  performance.mark("first-snapshot-drawn"); // so a test can tell it came before the first paint
}

async function refresh(force = false) {
  // One request at a time: a slow answer must not let polls pile up. A forced redraw waits its turn.
  if (state.busy) {
    state.again = state.again || force;
    return;
  }
  state.busy = true;
  try {
    await poll(force);
  } finally {
    state.busy = false;
  }
  if (state.again) {
    state.again = false;
    refresh(true);
  }
}

async function poll(force) {
  const query = snapshotQuery();
  try {
    const data = await call("GET", `/_emulator/dashboard?${query}`);
    showLive();
    const key = `${data.version}|${query}`;
    if (force || key !== state.version) {
      state.version = key;
      draw(data);
    }
  } catch (problem) {
    setStatus("error", "not connected");
    if (problem.status === 401) {
      setBanner("This emulator has a control token. Open this page once as /_emulator/ui?token=<your control token>.");
    } else if (problem.status === 403) {
      setBanner(`Refused by the emulator: ${problem.message}`);
    } else {
      setBanner(`The emulator does not answer (${problem.message}). Is it still running?`);
    }
  }
}

function watchFilters() {
  let pause = null;
  for (const control of document.querySelectorAll("[data-filter]")) {
    const apply = () => {
      state.filters[control.dataset.filter] = control.value.trim();
      refresh(true);
    };
    if (control.tagName === "INPUT") {
      control.addEventListener("input", () => {
        clearTimeout(pause);
        pause = setTimeout(apply, SEARCH_PAUSE_MS); // one snapshot per pause in typing, not per key
      });
    } else {
      control.addEventListener("change", apply);
    }
  }
}

function start() {
  drawFilterBar();
  watchFilters();
  drawFirstSnapshot();
  refresh(state.version === null);
  setInterval(() => {
    if (!document.hidden) refresh();
  }, POLL_MS);
}

// A deferred script runs once the document is parsed: drawing right away, not at DOMContentLoaded, puts the
// snapshot into the first paint (which blocking="render" holds back until this script has run).
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
