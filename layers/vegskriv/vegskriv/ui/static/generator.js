// The Generator: predefined cases run end to end (register → start → poll → status), every request
// and response shown, every assertion judged.
import { CASES, LOCK } from "/ui/cases.js";
import { api, devLogin, h, pretty, token } from "/ui/common.js";

const view = document.getElementById("view");
const TERMINAL = ["UTFØRT_OG_ETTERBEHANDLET", "AVVIST", "KANSELLERT"];
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const drafts = {};  // edited documents per case id (reset drops them)
let selected = CASES[0];

function step(log, label, method, path, body, r) {
  const ok = r.status < 400;
  log.append(h("details.step", { "data-status": r.status },
    h("summary", {}, h(`span.badge.${ok ? "pass" : "fail"}`, {}, r.status), ` ${label}: ${method} ${decodeURI(path)} (${r.ms} ms)`),
    h("div.columns", {}, h("div.grow", {}, h("strong", {}, "Forespørsel"), h("pre", {}, body === undefined ? "(ingen kropp)" : pretty(body))),
      h("div.grow", {}, h("strong", {}, "Svar"), h("pre", {}, pretty(r.body))))));
  return r;
}

async function call(log, label, method, path, body, headers) {
  return step(log, label, method, path, body, await api(method, path, body, headers));
}

// register → start → poll → status; answers the final status and every fremdrift seen.
async function run(log, doc, ctx, { whileWaiting } = {}) {
  const headers = {};
  if (ctx.dryrun) headers["X-NVDB-DryRun"] = "true";
  if (ctx.delay) headers["X-NVDB-Delay"] = String(ctx.delay);
  const reg = await call(log, "Registrer", "POST", "/rest/v3/endringssett", doc, headers);
  if (reg.status !== 201) throw new Error(`registrering svarte ${reg.status}`);
  const id = reg.headers.location.split("/").pop();
  ctx.ids.push(id);
  await call(log, "Start", "POST", `/rest/v3/endringssett/${id}/start`);
  const seen = [];
  const done = ctx.dryrun ? [...TERMINAL, "UTFØRT"] : TERMINAL;
  const deadline = Date.now() + 60000 + (ctx.delay || 0) * 1000;
  let polls = 0;
  for (;;) {
    const r = await api("GET", `/rest/v3/endringssett/${id}/fremdrift`);
    polls += 1;
    if (!seen.includes(r.body)) { seen.push(r.body); step(log, `Fremdrift (${polls}. spørring)`, "GET", `/rest/v3/endringssett/${id}/fremdrift`, undefined, r); }
    if (done.includes(r.body) || Date.now() > deadline) break;
    if (r.body === "VENTER" && whileWaiting) { await whileWaiting(); whileWaiting = null; }
    // Quick polls first (a local changeset is done in a second or two), then Retry-After, at most 5 s.
    await sleep(polls < 20 ? 200 : Math.min(5000, 1000 * Number(r.headers["retry-after"] || 1)));
  }
  const status = await call(log, "Status", "GET", `/rest/v3/endringssett/${id}/status`);
  ctx.seen.push(...seen);
  return status.body;
}

function fill(doc, values) {
  return JSON.parse(JSON.stringify(doc), (k, v) => (typeof v === "string" && v.startsWith("$") && v.slice(1) in values ? values[v.slice(1)] : v));
}

async function send(c, editor, dry, delay, out) {
  const log = h("div#log");
  const results = h("ul#assertions.assertions");
  out.replaceChildren(h("h2", {}, "Forespørsler og svar"), log, h("h2", {}, "Utfall"), results);
  const ctx = { dryrun: dry.checked, delay: Number(delay.value) || 0, seen: [], ids: [] };
  document.body.dataset.running = c.id;
  let status = null;
  try {
    const doc = JSON.parse(editor.value);
    let values = {};
    if (c.setup) {  // the object to change, made for real (never dry) and without delay
      log.append(h("h3", {}, "Oppsett: registrer objektet som endres"));
      const made = await run(log, c.setup, { ...ctx, dryrun: false, delay: 0, seen: [] });
      const o = made.resultat?.vegobjekter?.[0] || {};
      values = { nvdbId: o.nvdbId, versjon: o.versjon };
      log.append(h("h3", {}, "Saken"));
    }
    if (c.lock) {
      const lock = await call(log, "Lås området", "POST", "/rest/v1/lås", LOCK);
      if (lock.status !== 201) throw new Error(`låsen svarte ${lock.status} (krever 5_fagdata_admin)`);
      status = await run(log, fill(doc, values), ctx, { whileWaiting: async () => {
        await sleep(300);
        await call(log, "Fjern låsen", "DELETE", `/rest/v1/lås/${lock.body.id}`);
      } });
    } else {
      status = await run(log, fill(doc, values), ctx);
    }
  } catch (err) {
    results.append(h("li", {}, h("span.badge.fail", {}, "FEIL"), ` ${err.message}`));
  }
  for (const a of c.assertions) {
    let ok = false;
    try { ok = status !== null && Boolean(a.check(status, ctx)); } catch { ok = false; }
    results.append(h("li", { "data-outcome": ok ? "pass" : "fail" },
      h(`span.badge.${ok ? "pass" : "fail"}`, {}, ok ? "OK" : "FEILET"), ` ${a.text}`));
  }
  if (ctx.ids.length) out.append(h("p", {}, "I Kontrollpanelet: ",
    ...ctx.ids.map((id) => h("a", { href: `/kontrollpanel#/jobs/view/${id}` }, `${id} `))));
  document.body.dataset.done = c.id;
  delete document.body.dataset.running;
}

function show() {
  const c = selected;
  const editor = h("textarea#document", { rows: 22, spellcheck: "false" });
  editor.value = drafts[c.id] ?? JSON.stringify(c.doc, null, 2);
  editor.addEventListener("input", () => { drafts[c.id] = editor.value; });
  const dry = h("input#dryrun", { type: "checkbox" });
  const delay = h("input#delay", { type: "number", min: 0, max: 3600, value: 0, style: "width:5rem" });
  const out = h("div#output");
  const list = h("div.cases", {}, CASES.map((x) => h(`button.secondary${x === c ? ".selected" : ""}`,
    { "data-case": x.id, onclick: () => { selected = x; show(); } }, x.title)));
  view.replaceChildren(h("div.columns", {}, list, h("div.grow", {},
    h("h1", {}, c.title),
    c.setup ? h("p.muted", {}, "Oppsett: et objekt registreres først; $nvdbId og $versjon fylles inn fra det.") : null,
    c.lock ? h("p.muted", {}, "Låser området først (krever 5_fagdata_admin), og fjerner låsen når endringssettet venter.") : null,
    editor,
    h("p", {}, h("label.inline", {}, dry, " Tørrkjøring (X-NVDB-DryRun)"), " ",
      h("label.inline", {}, "Forsinkelse (s, X-NVDB-Delay) ", delay), " ",
      h("button#reset.secondary", { onclick: () => { delete drafts[c.id]; show(); } }, "Tilbakestill"), " ",
      h("button#send", { onclick: () => send(c, editor, dry, delay, out) }, "Send")),
    h("h2", {}, "Påstander"), h("ul", {}, c.assertions.map((a) => h("li", {}, a.text))), out)));
}

function login() {
  const user = h("input", { name: "brukernavn", value: "generator" });
  const out = h("div");
  view.replaceChildren(h("h1", {}, "Logg inn"), h("form", { onsubmit: async (e) => {
    e.preventDefault();
    try { await devLogin(user.value, ["0_bruker_fagdata", "5_fagdata_admin"]); start(); }
    catch (err) { out.replaceChildren(h("div.message.error", {}, err.message)); }
  } }, h("label", {}, "Brukernavn (lokal utviklingsinnlogging; lås-saken trenger 5_fagdata_admin)", user),
    h("button", { type: "submit" }, "Logg inn")), out,
    h("p.muted", {}, "Logget inn i Kontrollpanelet? Samme token brukes her."));
}

function start() {
  const who = token.claims();
  document.getElementById("who").textContent = who ? `${who.sub} (${(who.roles || []).join(", ")})` : "";
  if (!who) return login();
  show();
}

start();
