// The emulator's dashboard: draws the snapshot the page was served with at once, then polls
// GET /_emulator/dashboard once a second and redraws when anything changed.
// Every value from the emulator is untrusted text (payload URLs, bodies, receiver answers and headers): it is
// only ever set as textContent, never parsed as HTML.
"use strict";

const POLL_MS = 1000;
const SEARCH_PAUSE_MS = 250;
// The filter bar: each chooser's snapshot parameter, label, "all" entry and fixed choices (the event, webhook
// and status choices come with each snapshot).
const OUTCOME_CHOICES = Object.freeze([["delivered", "delivered"], ["retrying", "retrying"], ["failed", "failed for good"]]);
const TIME_CHOICES = Object.freeze([["900", "last 15 minutes"], ["3600", "last hour"], ["86400", "last 24 hours"]]);
const STATUS_CLASSES = Object.freeze([["2xx", "any 2xx"], ["4xx", "any 4xx"], ["5xx", "any 5xx"], ["none", "no answer"]]);
const CHOOSERS = Object.freeze([
  { name: "event", id: "filter-event", label: "Event", all: "all events", choices: [] },
  { name: "outcome", id: "filter-outcome", label: "Outcome now", all: "all outcomes", choices: OUTCOME_CHOICES },
  { name: "status", id: "filter-status", label: "Status", all: "any status", choices: STATUS_CLASSES },
  { name: "webhook_id", id: "filter-webhook", label: "Webhook", all: "all webhooks", choices: [] },
  { name: "within", id: "filter-within", label: "Time", all: "any time", choices: TIME_CHOICES },
]);
// "Resend failed…": how far back, in seconds before the emulator's now (null: since the start).
const SINCE_CHOICES = Object.freeze([["900", "the last 15 minutes"], ["3600", "the last hour"], ["86400", "the last 24 hours"], ["all", "any time"]]);

const state = {
  version: null,
  now: null, // the emulator's time in the latest snapshot
  // Query parameters of the snapshot, as the filter controls (data-filter) name them.
  filters: { event: "", outcome: "", status: "", webhook_id: "", within: "", failed_attempt: "", q: "" },
  open: new Map(), // delivery id -> the attempt id shown in detail (null: its newest attempt)
  exactBytes: new Set(), // attempt ids whose request body is shown as the exact bytes sent, not pretty-printed
  samples: new Set(), // event names whose sample payload is shown in the catalogue
  revealed: new Map(), // webhook id -> secret, shown until hidden again
  webhooks: new Map(), // webhook id -> payload URL
  bulk: null, // the open "resend failed" panel's count: { since, webhookId, deliveryIds } (null: closed)
  scrollTo: null, // a delivery id to bring into view (below the sticky header) after the next redraw
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

function breakable(text, after = /([./?&])/) {
  // The text with a line-break opportunity after each separator (a <wbr>, never markup from the text), so a
  // narrow column breaks pos.payment.completed or a URL at a dot or a slash rather than mid-word.
  return text.split(after).flatMap((part) => (after.test(part) ? [part, el("wbr")] : part ? [part] : []));
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
  // Says what the delivery's row will say: a failure with a retry due is "retrying", not yet "failed".
  if (attempt.delivered) return `delivered: HTTP ${attempt.response_code} in ${attempt.answered_in_ms} ms`;
  const what = attempt.response_code === null ? attempt.error : `HTTP ${attempt.response_code}`;
  const maybe = attempt.response_code === null && attempt.request_sent ? " (your receiver may still have processed it)" : "";
  let next = "failed for good: no retry left";
  if (attempt.next_retry_at !== null) next = `retrying in ${Math.max(0, attempt.next_retry_at - attempt.sent_on).toFixed(1)} s`;
  else if (attempt.resent_from) next = "not retried (a resend never is)";
  return `${what}${maybe} · ${next}`;
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
    state.scrollTo = attempt.delivery_id; // its row, in view below the sticky header
    refresh(true);
  }
}

// Copying: an attempt as a curl command that replays its exact bytes and headers, its body, its headers

function shellQuoted(text) {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function curlCommand(attempt) {
  // Every header as it was sent (Host and Content-Length too); curl's own Accept and Expect are switched off, so
  // what arrives is what the emulator sent. The signature's t stays as it was: this is a replay.
  const lines = [`curl --silent --show-error --include ${shellQuoted(attempt.url)}`]; // --data-binary: a POST
  for (const [name, value] of attempt.request_headers) lines.push(`  -H ${shellQuoted(`${name}: ${value}`)}`);
  lines.push("  -H 'Accept:' -H 'Expect:'");
  lines.push(`  --data-binary ${shellQuoted(attempt.body)}`);
  return lines.join(" \\\n");
}

function headerLines(attempt) {
  return attempt.request_headers.map(([name, value]) => `${name}: ${value}`).join("\n");
}

function copiedTheOldWay(text) {
  // Where the Clipboard API is missing (a page not served from loopback or https is no secure context).
  const area = el("textarea", { className: "offscreen", readonly: true });
  area.value = text;
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

async function copy(text, what) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    if (!copiedTheOldWay(text)) {
      showToast(`could not copy the ${what}: this browser refused the clipboard`, true);
      return;
    }
  }
  showToast(`copied the ${what}`);
}

// Resend every delivery that failed for good since a time: counted first, then exactly those are resent

function bulkSince() {
  const choice = document.getElementById("bulk-since").value;
  return choice === "all" ? 0 : (state.now ?? Date.now() / 1000) - Number(choice);
}

async function countFailed() {
  const since = bulkSince();
  const webhookId = state.filters.webhook_id || undefined;
  const count = document.getElementById("bulk-count");
  const confirm = document.getElementById("bulk-confirm");
  confirm.disabled = true;
  try {
    const found = await call("POST", "/_emulator/resend-failed", { since, webhook_id: webhookId, dry_run: true });
    state.bulk = { since, webhookId, deliveryIds: found.delivery_ids };
    const to = webhookId ? ` to ${state.webhooks.get(webhookId) ?? webhookId}` : "";
    const when = since === 0 ? "ever" : `since ${clockTime(since).slice(0, 8)}`;
    count.dataset.count = found.count;
    count.textContent =
      found.count === 0
        ? `No delivery${to} failed for good ${when}.`
        : `${plural(found.count, "delivery", "deliveries")}${to} failed for good ${when}; each gets its body once more.`;
    confirm.textContent = `Resend ${found.count}`;
    confirm.disabled = found.count === 0;
  } catch (problem) {
    count.textContent = `could not count: ${problem.message}`;
  }
}

function toggleBulk() {
  const panel = document.getElementById("bulk");
  panel.hidden = !panel.hidden;
  state.bulk = null;
  if (!panel.hidden) countFailed();
}

async function resendCounted(button) {
  if (!state.bulk) return;
  button.disabled = true;
  const { since, webhookId, deliveryIds } = state.bulk;
  try {
    const done = await call("POST", "/_emulator/resend-failed", { since, webhook_id: webhookId, delivery_ids: deliveryIds });
    const failed = done.resent.length - done.delivered;
    showToast(`resent ${done.resent.length}: ${done.delivered} delivered, ${failed} failed`, failed > 0);
    document.getElementById("bulk").hidden = true;
    state.bulk = null;
  } catch (problem) {
    showToast(`could not resend: ${problem.message}`, true);
    button.disabled = false;
  }
  refresh(true);
}

function toggleSample(eventName) {
  if (state.samples.has(eventName)) state.samples.delete(eventName);
  else state.samples.add(eventName);
  refresh(true);
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
      el("span", { className: "webhook-url" }, breakable(hook.payload_url)),
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

function drawSample(event) {
  if (!state.samples.has(event.name)) return null;
  return el(
    "div",
    { className: "sample", "data-sample-of": event.name },
    el("p", { className: "meta invented" }, "Invented by the emulator: myPOS documents no payload. ", el("code", {}, "emit --set"), " changes any field."),
    el("pre", { className: "sample-payload" }, JSON.stringify(event.sample, null, 2)),
  );
}

function drawEvents(events) {
  replaceChildren(
    "events",
    events.map((event) =>
      el(
        "li",
        { "data-event": event.name },
        el(
          "div",
          { className: "event-line" },
          el("span", { className: "name" }, event.name),
          el(
            "span",
            { className: "event-tools" },
            el("span", { className: "pill kind" }, event.kind),
            el(
              "button",
              { className: "quiet", "data-sample-toggle": event.name, "aria-expanded": state.samples.has(event.name) ? "true" : "false", onclick: () => toggleSample(event.name) },
              state.samples.has(event.name) ? "Hide sample" : "Sample payload",
            ),
          ),
        ),
        drawSample(event),
        listOf("targets", event.subscriptions, "no subscription", (sub) =>
          el(
            "li",
            { "data-catalogue-subscription": sub.id },
            el("span", { className: "target-url" }, breakable(state.webhooks.get(sub.webhook_id) ?? sub.webhook_id)),
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

function deliveryNextRetry(delivery, now) {
  // What a successful resend did to the retry that was due (the emulator's retries_after_resend setting).
  if (delivery.after_resend === "stopped") return el("span", { className: "after-resend", "data-after-resend": "stopped" }, "stopped by the resend");
  const next = nextRetry(delivery.next_retry_at, now, delivery.outcome === "delivered");
  if (delivery.after_resend !== "continuing") return next;
  return [next, el("span", { className: "after-resend", "data-after-resend": "continuing" }, "still sent after the resend")];
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
    el("td", { className: "mono" }, breakable(delivery.event)),
    el("td", { className: "url" }, breakable(delivery.url)),
    el(
      "td",
      { "data-attempts": delivery.attempts.length },
      plural(delivery.attempts.length, "attempt"),
      delivery.failed_attempts > 0 && delivery.outcome === "delivered"
        ? el("span", { className: "meta failed-count" }, ` · ${delivery.failed_attempts} failed`)
        : null,
    ),
    el("td", { className: "result" }, el("span", { className: `pill outcome ${delivery.outcome}` }, delivery.outcome), " ", statusBadge(latest)),
    el("td", { className: "meta next-retry" }, deliveryNextRetry(delivery, now)),
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
    attempt.stopped_retries ? el("span", { className: "pill kind" }, "stopped the retries") : null,
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

function drawSigning(attempt) {
  const signing = attempt.signing;
  if (!signing) return el("section", { className: "signing" }, el("h3", {}, "Signature"), el("p", { className: "meta" }, "not recorded for this attempt (an older emulator sent it)"));
  const facts = [
    ["scheme", signing.scheme, signing.timestamp_signed ? "t is signed" : "t is not signed"],
    ["body_form", signing.body_form, signing.body_form === "raw" ? "the bytes sent" : "not the bytes sent: re-formed"],
    ["t", String(signing.timestamp), clockTime(signing.timestamp).slice(0, 8)],
    ["secret", signing.secret_fingerprint, "its fingerprint, never the secret"],
  ];
  return el(
    "section",
    { className: "signing", "data-signing-for": attempt.id },
    el("h3", {}, "Signature"),
    signing.hint ? el("p", { className: "callout signature-hint", role: "note" }, signing.hint) : null,
    el(
      "dl",
      { className: "signing-facts" },
      facts.map(([name, value, note]) => [
        el("dt", {}, name),
        el("dd", { "data-signing": name }, el("code", {}, value), el("span", { className: "meta" }, ` ${note}`)),
      ]),
    ),
    el("div", { className: "body-head" }, el("span", {}, "Signing input: HMAC-SHA256, keyed with the secret (never shown), over exactly these bytes, as hex")),
    el("pre", { className: "signing-input" }, signing.signing_input),
  );
}

function drawExchange(attempt) {
  const exact = state.exactBytes.has(attempt.id);
  const request = el(
    "section",
    { className: "request" },
    el(
      "div",
      { className: "section-head" },
      el("h3", {}, "Request"),
      el(
        "span",
        { className: "copies" },
        el("button", { className: "quiet", "data-copy-curl": attempt.id, title: "a curl command that replays this attempt: the exact bytes and headers, its old t included", onclick: () => copy(curlCommand(attempt), "curl command") }, "Copy as curl"),
        el("button", { className: "quiet", "data-copy-body": attempt.id, onclick: () => copy(attempt.body, "body") }, "Copy body"),
        el("button", { className: "quiet", "data-copy-headers": attempt.id, onclick: () => copy(headerLines(attempt), "headers") }, "Copy headers"),
      ),
    ),
    el("p", { className: "request-line" }, el("code", {}, `POST ${attempt.url}`)),
    drawHeaders(attempt.request_headers, "request"),
    el(
      "div",
      { className: "body-head" },
      el(
        "span",
        {},
        "Body",
        attempt.invented_payload
          ? el("span", { className: "pill kind invented", title: "myPOS documents no payload: the emulator made this one up" }, "invented payload")
          : null,
      ),
      el("button", { className: "quiet", "data-exact-bytes": attempt.id, onclick: () => toggleExactBytes(attempt.id) }, exact ? "Pretty-print" : "Exact bytes"),
    ),
    exact ? el("pre", { className: "body exact" }, attempt.body) : drawBody(attempt.body, "body"),
  );
  const response = el(
    "section",
    { className: "response" },
    el("h3", {}, "Response"),
    attempt.response_code === null
      ? [el("p", { className: "reason" }, attempt.error || "no answer"), attempt.no_answer_hint ? el("p", { className: "callout no-answer-hint" }, attempt.no_answer_hint) : null]
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
    el("div", { className: "answer-side" }, response, drawSigning(attempt)),
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
    placeholder: "an id or a payload value (payment reference…)",
    autocomplete: "off",
    spellcheck: "false",
  });
  const failedOnce = el("input", { type: "checkbox", "data-filter": "failed_attempt", id: "filter-failed-attempt" });
  replaceChildren(
    "filters",
    CHOOSERS.map((chooser) => el("label", {}, chooser.label, " ", el("select", { "data-filter": chooser.name, id: chooser.id }))),
    el("label", { className: "check", title: "any attempt failed, whatever the outcome now" }, failedOnce, " had a failed attempt"),
    el("label", { className: "search" }, "Search ", search),
  );
  for (const chooser of CHOOSERS) drawChoices(chooser.id, chooser.choices);
  const since = document.getElementById("bulk-since");
  since.replaceChildren(...SINCE_CHOICES.map(([value, label]) => el("option", { value }, label)));
  since.value = "3600";
  since.addEventListener("change", countFailed);
  document.getElementById("bulk-open").addEventListener("click", toggleBulk);
  document.getElementById("bulk-cancel").addEventListener("click", toggleBulk);
  document.getElementById("bulk-confirm").addEventListener("click", (click) => resendCounted(click.currentTarget));
}

function bringIntoView(deliveryId) {
  // The log's column header sticks to the top of whatever scrolls it (its pane, or the page when the panes are
  // stacked) and would cover a row scrolled to the top: a scroll margin of its height keeps the row below it.
  const row = document.querySelector(`#deliveries tr.delivery[data-delivery-id="${CSS.escape(deliveryId)}"]`);
  if (!row) return;
  row.style.scrollMarginTop = `${document.querySelector("#deliveries thead").offsetHeight}px`;
  row.scrollIntoView({ block: "nearest" });
}

function draw(data) {
  state.now = data.now;
  state.webhooks = new Map(data.accounts.flatMap((account) => account.webhooks.map((hook) => [hook.id, hook.payload_url])));
  drawAccounts(data.accounts);
  drawEvents(data.events);
  drawChoices("filter-event", data.events.map((event) => [event.name, event.name]));
  drawChoices("filter-status", [...STATUS_CLASSES, ...data.statuses.filter((code) => code !== "none").map((code) => [code, code])]);
  drawChoices("filter-webhook", [...state.webhooks]);
  drawDeliveries(data.deliveries, data.delivery_total, data.now);
  if (state.scrollTo) {
    bringIntoView(state.scrollTo);
    state.scrollTo = null;
  }
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
      state.filters[control.dataset.filter] = control.type === "checkbox" ? (control.checked ? "true" : "") : control.value.trim();
      refresh(true);
    };
    if (control.type === "checkbox") {
      control.addEventListener("change", apply);
    } else if (control.tagName === "INPUT") {
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
