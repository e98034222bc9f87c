// The emulator's dashboard: polls GET /_emulator/dashboard once a second and draws it.
// Every value from the emulator is untrusted text (payload URLs, bodies, receiver answers): it is only
// ever set as textContent, never parsed as HTML.
"use strict";

const POLL_MS = 1000;
const state = {
  version: null,
  filters: { webhook: "", outcome: "" },
  expanded: new Set(), // delivery ids whose details are open
  revealed: new Map(), // webhook id -> secret, shown until hidden again
  webhooks: new Map(), // webhook id -> payload URL, for labels
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

function webhookLabel(id) {
  const url = state.webhooks.get(id);
  if (!url) return shortId(id);
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return url;
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

async function sendSample(subscriptionId, button) {
  button.disabled = true;
  try {
    const { delivery } = await call("POST", "/_emulator/sample", { subscription_id: subscriptionId });
    const outcome = delivery.delivered
      ? `delivered: HTTP ${delivery.response_code} in ${delivery.answered_in_ms} ms`
      : `failed: ${delivery.response_code === null ? delivery.error : "HTTP " + delivery.response_code}`;
    showToast(`${delivery.event} → ${outcome}`, !delivery.delivered);
  } catch (problem) {
    showToast(`could not send: ${problem.message}`, true);
  } finally {
    button.disabled = false;
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

function toggleDetails(deliveryId) {
  if (state.expanded.has(deliveryId)) state.expanded.delete(deliveryId);
  else state.expanded.add(deliveryId);
  refresh(true);
}

// Drawing

function drawAccounts(accounts) {
  const total = accounts.reduce((sum, account) => sum + account.webhooks.length, 0);
  document.getElementById("webhook-count").textContent =
    `${total} webhook${total === 1 ? "" : "s"} in ${accounts.length} account${accounts.length === 1 ? "" : "s"}`;
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
      el("span", { className: "meta" }, `created ${dayAndTime(hook.created_on)} · `, el("code", {}, shortId(hook.id))),
      el(
        "span",
        { className: "secret" },
        el("code", { className: secret ? "secret-value revealed" : "secret-value" }, secret ?? "••••••••••••"),
        el("button", { className: "quiet", "data-reveal": hook.id, onclick: () => toggleSecret(hook.id) }, secret ? "Hide" : "Reveal"),
      ),
    ),
    hook.subscriptions.length === 0
      ? el("p", { className: "meta" }, "no subscriptions")
      : el(
          "ul",
          { className: "subs" },
          hook.subscriptions.map((sub) =>
            el(
              "li",
              { "data-subscription-id": sub.id },
              el("span", { className: "event" }, sub.event),
              el("span", { className: "meta" }, sub.terminal_ids ? `terminals ${sub.terminal_ids.join(", ")}` : "all terminals"),
              el(
                "button",
                { "data-send-sample": sub.id, onclick: (event) => sendSample(sub.id, event.currentTarget) },
                "Send sample event",
              ),
            ),
          ),
        ),
  );
}

function drawEvents(events) {
  replaceChildren(
    "events",
    events.map((event) => {
      const chooser =
        event.subscriptions.length > 0
          ? el(
              "select",
              { "data-event-subscriptions": event.id },
              event.subscriptions.map((sub) => el("option", { value: sub.id }, webhookLabel(sub.webhook_id))),
            )
          : null;
      return el(
        "li",
        { "data-event": event.name },
        el("span", { className: "name" }, event.name),
        el("span", { className: "pill kind" }, event.kind),
        el(
          "div",
          { className: "row2" },
          chooser
            ? [
                chooser,
                el(
                  "button",
                  { onclick: (click) => sendSample(chooser.value, click.currentTarget) },
                  "Send sample",
                ),
              ]
            : el("span", { className: "meta" }, "no subscription"),
        ),
      );
    }),
  );
}

function statusBadge(delivery) {
  if (delivery.response_code === null) {
    return [el("span", { className: "status-code bad" }, "no answer"), el("span", { className: "reason" }, delivery.error || "")];
  }
  const kind = delivery.delivered ? "ok" : delivery.response_code >= 300 && delivery.response_code < 400 ? "other" : "bad";
  return el("span", { className: `status-code ${kind}` }, delivery.response_code);
}

function nextRetry(delivery, now) {
  if (delivery.next_retry_at === null) return delivery.delivered ? "" : "none left";
  const seconds = delivery.next_retry_at - now;
  return seconds > 0 ? `in ${seconds.toFixed(1)} s` : `${clockTime(delivery.next_retry_at)}`;
}

function drawDeliveries(deliveries, now) {
  const rows = [];
  for (const delivery of deliveries) {
    const outcome = delivery.delivered ? "delivered" : "failed";
    rows.push(
      el(
        "tr",
        { className: `delivery ${outcome}`, "data-delivery-id": delivery.id, "data-outcome": outcome, onclick: () => toggleDetails(delivery.id) },
        el("td", { className: "time" }, clockTime(delivery.sent_on)),
        el("td", { className: "mono" }, delivery.event),
        el("td", { className: "url", title: delivery.url }, webhookLabel(delivery.webhook_id)),
        el("td", { "data-attempt": delivery.attempt }, `#${delivery.attempt}`),
        el("td", { className: "result" }, statusBadge(delivery)),
        el("td", {}, delivery.answered_in_ms === null ? "—" : `${delivery.answered_in_ms} ms`),
        el("td", { className: "meta" }, nextRetry(delivery, now)),
      ),
    );
    if (state.expanded.has(delivery.id)) rows.push(drawDeliveryDetails(delivery));
  }
  if (rows.length === 0) {
    rows.push(el("tr", {}, el("td", { className: "empty-row", colspan: 7 }, "No deliveries yet. Send a sample event, or emit one.")));
  }
  document.querySelector("#deliveries tbody").replaceChildren(...rows);
}

function drawDeliveryDetails(delivery) {
  const item = (label, value) => [el("dt", {}, label), el("dd", {}, value)];
  return el(
    "tr",
    { className: "details", "data-details-for": delivery.id },
    el(
      "td",
      { colspan: 7 },
      el(
        "dl",
        {},
        item("POST to", el("code", {}, delivery.url)),
        item("X-myPOS-Signature", el("code", { className: "signature" }, delivery.signature)),
        item("Body sent", el("pre", { className: "body" }, delivery.body)),
        item(
          "Receiver answered",
          delivery.response_code === null
            ? el("span", { className: "reason" }, delivery.error || "no answer")
            : el("pre", { className: "answer" }, `HTTP ${delivery.response_code}` + (delivery.answer ? `\n\n${delivery.answer}` : "")),
        ),
        item("Ids", el("code", {}, `delivery ${delivery.id} · webhook ${delivery.webhook_id} · subscription ${delivery.subscription_id}`)),
      ),
    ),
  );
}

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

function drawWebhookFilter(accounts) {
  const select = document.getElementById("filter-webhook");
  const options = [el("option", { value: "" }, "all webhooks")];
  for (const account of accounts) {
    for (const hook of account.webhooks) {
      options.push(el("option", { value: hook.id }, webhookLabel(hook.id)));
    }
  }
  select.replaceChildren(...options);
  select.value = state.filters.webhook;
}

function draw(data) {
  state.webhooks = new Map(data.accounts.flatMap((account) => account.webhooks.map((hook) => [hook.id, hook.payload_url])));
  drawAccounts(data.accounts);
  drawEvents(data.events);
  drawWebhookFilter(data.accounts);
  drawDeliveries(data.deliveries, data.now);
  drawRequests(data.requests);
  drawFaults(data.faults);
  drawSettings(data.settings);
}

// The poll loop

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
  const query = new URLSearchParams();
  if (state.filters.webhook) query.set("webhook_id", state.filters.webhook);
  if (state.filters.outcome) query.set("outcome", state.filters.outcome);
  try {
    const data = await call("GET", `/_emulator/dashboard?${query}`);
    setBanner("");
    setStatus("live", `live · updated ${clockTime(Date.now() / 1000).slice(0, 8)}`);
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

function start() {
  document.getElementById("filter-webhook").addEventListener("change", (event) => {
    state.filters.webhook = event.target.value;
    refresh(true);
  });
  document.getElementById("filter-outcome").addEventListener("change", (event) => {
    state.filters.outcome = event.target.value;
    refresh(true);
  });
  refresh(true);
  setInterval(() => {
    if (!document.hidden) refresh();
  }, POLL_MS);
}

document.addEventListener("DOMContentLoaded", start);
