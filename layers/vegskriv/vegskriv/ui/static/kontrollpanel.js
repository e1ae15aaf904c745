// The Kontrollpanel: a hash-routed single page over the token-protected API.
import { api, barChart, h, keepFresh, oidcLogin, pretty, table, token } from "/ui/common.js";

const view = document.getElementById("view");
const STATES = ["IKKE_STARTET", "BEHANDLES", "VENTER", "UTFØRT", "UTFØRT_OG_ETTERBEHANDLET", "AVVIST", "KANSELLERT"];
const PAGE = 20;
const enc = encodeURIComponent;
const badge = (s) => h(`span.badge.${s}`, {}, s);
const link = (href, text) => h("a", { href }, text);
const message = (text, error = false) => h(`div.message${error ? ".error" : ""}`, { role: "status" }, text);

function failed(r) {
  return r.status >= 400 ? message(`${r.status}: ${r.body?.message ?? pretty(r.body)}`, true) : null;
}

function render(...children) {
  view.replaceChildren(...children.flat().filter(Boolean));
}

function nav() {
  const here = location.hash.split("/")[1] || "jobs";
  const items = [["jobs", "Endringssett"], ["locks", "Låser"], ["services", "Tjenester"],
                 ["provisioning", "Leveranser"], ["stats", "Statistikk"], ["status", "Systemstatus"]];
  document.getElementById("nav").replaceChildren(...items.map(([k, t]) =>
    h(`a${k === here ? ".active" : ""}`, { href: `#/${k}` }, t)), h("a", { href: "/generator" }, "Generator"));
  const who = token.claims();
  document.getElementById("who").replaceChildren(who
    ? h("span", {}, `${who.sub} (${(who.roles || []).join(", ")}) `,
        h("button.secondary", { onclick: () => { token.clear(); location.hash = "#/login"; } }, "Logg ut"))
    : link("#/login", "Logg inn"));
}

// --- login -----------------------------------------------------------------------------------------------

function login() {
  const user = h("input", { name: "brukernavn", value: "olanor", autocomplete: "username" });
  const password = h("input", { name: "passord", type: "password", autocomplete: "current-password" });
  const realm = h("select", { name: "realm" }, ["EMPLOYEE", "EXTERNAL", "SERVICE_ACCOUNT"].map((r) => h("option", { value: r }, r)));
  const pasted = h("textarea", { name: "token", rows: 3, placeholder: "… eller lim inn et token (Bearer)" });
  const out = h("div");
  const form = h("form", { onsubmit: async (e) => {
    e.preventDefault();
    try {
      if (pasted.value.trim()) token.set(pasted.value.trim().replace(/^Bearer\s+/i, ""));
      else await oidcLogin(user.value, password.value, realm.value);
      const target = sessionStorage.getItem("vegskriv.after") || "#/jobs";
      if (location.hash === target) await route(); else location.hash = target;
    } catch (err) { out.replaceChildren(message(`Innlogging feilet: ${err.message}`, true)); }
  } }, h("label", {}, "Brukernavn", user), h("label", {}, "Passord", password), h("label", {}, "Realm", realm),
    h("label", {}, "Token", pasted), h("button", { type: "submit" }, "Logg inn"));
  render(h("h1", {}, "Logg inn"),
    h("p.muted", {}, "Innlogging via /rest/v1/oidc/authenticate; tokenet fornyes med refresh-tokenet. ",
      "Lokalt er passordet lik brukernavnet (rollene står i OIDC_LOCAL_USERS). Ellers: lim inn et token fra utstederen."),
    form, out);
}

// --- changesets ------------------------------------------------------------------------------------------

const toMs = (v) => (v ? String(new Date(v).getTime()) : "");

async function jobs(params) {
  const q = new URLSearchParams(params);
  const start = Number(q.get("start") || 1);
  const field = (name, label, attrs = {}) => h("label", {}, label, h("input", { name, value: q.get(name) || "", ...attrs }));
  const status = h("select", { name: "status" }, h("option", { value: "" }, "(alle)"),
    STATES.map((s) => h("option", { value: s, selected: q.get("status") === s }, s)));
  const form = h("form.filters", { onsubmit: (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const next = new URLSearchParams();
    for (const [k, v] of f) if (v) next.set(k, v);
    location.hash = `#/jobs?${next}`;
  } }, field("brukernavnEllerKlient", "Eier eller klient"), field("fra", "Fra", { type: "datetime-local" }),
    field("til", "Til", { type: "datetime-local" }), h("label", {}, "Fremdrift", status), field("årsak", "Årsak"),
    h("button", { type: "submit" }, "Søk"));
  const query = new URLSearchParams({ antall: PAGE, start });
  for (const k of ["brukernavnEllerKlient", "status", "årsak"]) if (q.get(k)) query.set(k, q.get(k));
  if (q.get("fra")) query.set("fraEpochMs", toMs(q.get("fra")));
  if (q.get("til")) query.set("tilEpochMs", toMs(q.get("til")));
  const r = await api("GET", `/rest/v3/endringssett?${query}`);
  if (r.status >= 400) return render(h("h1", {}, "Endringssett"), form, failed(r));
  const page = (s) => { const p = new URLSearchParams(q); p.set("start", s); return `#/jobs?${p}`; };
  const total = r.body.antallTotalt;
  render(h("h1", {}, "Endringssett"), form,
    h("p.muted", { id: "treff" }, `${total} treff`),
    table([["Id", (m) => link(`#/jobs/view/${m.id}`, m.id)], ["Fremdrift", (m) => badge(m.status.fremdrift)],
           ["Mottatt", (m) => m.status.mottatt], ["Eier", (m) => m.status.eier], ["Klient", (m) => m.status.klient],
           ["Årsak", (m) => m.status.avvistårsak || m.status.venteårsak]], r.body.endringssett, { id: "jobs" }),
    h("p", {}, start > 1 ? link(page(Math.max(1, start - PAGE)), "← Forrige") : null, " ",
      `${Math.min(start, total)}–${Math.min(start + PAGE - 1, total)} av ${total}`, " ",
      start + PAGE <= total ? link(page(start + PAGE), "Neste →") : null));
}

function varsler(title, list) {
  if (!list?.length) return null;
  return h("div", {}, h("strong", {}, title),
    h("ul", {}, list.map((v) => h("li", {}, h("code", {}, v.kode), " ", v.melding, v.referanse ? ` (${v.referanse})` : ""))));
}

async function job(id) {
  const [r, events] = await Promise.all([api("GET", `/rest/v3/endringssett/${enc(id)}/status`),
                                         api("GET", `/rest/v1/endringssett/${enc(id)}/hendelser`)]);
  if (r.status >= 400) return render(h("h1", {}, `Endringssett ${id}`), failed(r));
  const s = r.body;
  const out = h("div");
  const act = (what, label, cls = "") => h(`button${cls}`, { "data-action": what, onclick: async () => {
    const a = await api("POST", `/rest/v3/endringssett/${enc(id)}/${what}`);
    if (a.status >= 400) out.replaceChildren(failed(a));
    else { await job(id); view.prepend(message(`${label}: ${a.status}`)); }
  } }, label);
  const res = s.resultat || {};
  render(h("h1", {}, "Endringssett ", h("code", {}, id)),
    h("p", {}, "Fremdrift: ", h("span", { id: "fremdrift" }, badge(s.fremdrift)),
      s.avvistårsak ? ` (${s.avvistårsak})` : "", s.venteårsak ? ` venter: ${s.venteårsak}` : ""),
    table([["Felt", (x) => x[0]], ["Verdi", (x) => x[1]]],
      [["Eier", s.eier], ["Klient", s.klient], ["Mottatt", s.mottatt], ["Oppdatert", s.fremdriftOppdatert],
       ["Transaksjon", s.transaksjon ? pretty(s.transaksjon) : ""]]),
    h("p", {}, s.fremdrift === "IKKE_STARTET" ? act("start", "Start") : null, " ",
      act("kanseller", "Kanseller", ".danger"), " ", act("restart", "Start på nytt", ".secondary")),
    out,
    h("h2", {}, "Resultat"),
    varsler("Feil", res.feil), varsler("Advarsler", res.advarsler), varsler("Notabener", res.notabener),
    table([["tempId", (o) => o.tempId], ["nvdbId", (o) => o.nvdbId], ["Versjon", (o) => o.versjon],
           ["Type", (o) => o.typeId], ["Operasjon", (o) => o.operasjon],
           ["Varsler", (o) => h("div", {}, varsler("Feil", o.feil), varsler("Advarsler", o.advarsler),
                                 varsler("Notabener", o.notabener))]], res.vegobjekter || [], { id: "resultat" }),
    h("h2", {}, "Hendelseslogg (arbeidsflyt)"),
    events.status >= 400 ? failed(events)
      : table([["Tid", (e) => e.tid], ["Kjøring", (e) => e.kjøring], ["Hendelse", (e) => e.type],
               ["Steg", (e) => e.steg], ["Detaljer", (e) => e.detaljer]], events.body.hendelser, { id: "hendelser" }));
}

// --- locks -----------------------------------------------------------------------------------------------

async function locks() {
  const r = await api("GET", "/rest/v1/lås?antall=1000");
  render(h("h1", {}, "Låser"), failed(r),
    r.status < 400 ? table([["Id", (l) => link(`#/locks/${l.id}`, l.id)], ["Eier", (l) => l.eier],
      ["Type", (l) => l.type], ["Vegobjekttyper", (l) => (l.vegobjekttyper || []).join(", ")],
      ["Utløper", (l) => l.utløper]], r.body.låser, { id: "locks" }) : null);
}

async function lock(id) {
  const r = await api("GET", `/rest/v1/lås/${enc(id)}`);
  const out = h("div");
  render(h("h1", {}, "Lås ", h("code", {}, id)), failed(r), r.status < 400 ? h("pre", {}, pretty(r.body)) : null,
    r.status < 400 ? h("button.danger", { onclick: async () => {
      const d = await api("DELETE", `/rest/v1/lås/${enc(id)}`);
      out.replaceChildren(d.status >= 400 ? failed(d)
        : message(`Låsen er fjernet; vekket: ${(d.body.vekket || []).join(", ") || "ingen"}`));
    } }, "Fjern låsen") : null, out, h("p", {}, link("#/locks", "← Alle låser")));
}

// --- services and editions ------------------------------------------------------------------------------

async function services() {
  const [owners, masters] = await Promise.all([api("GET", "/rest/v1/tjenesteeiere"), api("GET", "/rest/v1/mastertjenester")]);
  const sections = [];
  for (const o of owners.status < 400 ? owners.body : []) {
    const s = await api("GET", `/rest/v1/tjenesteeiere/${enc(o.kode)}/tjenester`);
    for (const t of s.status < 400 ? s.body : []) {
      const e = await api("GET", `/rest/v1/tjenesteeiere/${enc(o.kode)}/tjenester/${enc(t.tjenestekode)}/utgaver`);
      sections.push(h("h2", {}, `${o.kode} / ${t.tjenestekode}`), failed(e), e.status < 400 ? table([
        ["Utgave", (u) => link(`#/services/${enc(o.kode)}/${enc(t.tjenestekode)}/${enc(u.utgavekode)}`, u.utgavekode)],
        ["Master", (u) => (u.master ? "master" : u.basertPåMaster ? `fra ${u.basertPåMaster.eier}/${u.basertPåMaster.tjenestekode}/${u.basertPåMaster.utgavekode}` : "")],
        ["Status", (u) => u.status], ["Gyldig", (u) => pretty(u.gyldighetsperiode ?? "")]], e.body) : null);
    }
  }
  render(h("h1", {}, "Tjenester og utgaver"), failed(owners),
    h("h2", {}, "Mastere"), masters.status < 400 ? h("pre", {}, pretty(masters.body)) : failed(masters),
    sections.length ? sections : h("p.muted", {}, "Ingen tjenester du administrerer."));
}

async function edition(eier, tk, uk) {
  const r = await api("GET", `/rest/v1/tjenesteeiere/${eier}/tjenester/${tk}/utgaver/${uk}`);
  const b = r.body || {};
  render(h("h1", {}, `Utgave ${decodeURIComponent(eier)}/${decodeURIComponent(tk)}/${decodeURIComponent(uk)}`), failed(r),
    r.status < 400 && b.basertPåMaster !== undefined ? h("div", {}, h("h2", {}, "Endret i masteren siden migrering"),
      h("p", {}, b.masterEndretSidenMigrering ? "Ja" : "Nei"), h("pre", { id: "diff" }, pretty(b.endringerSidenMigrering || []))) : null,
    r.status < 400 ? h("div", {}, h("h2", {}, "Utgaven"), h("pre", {}, pretty(b))) : null);
}

// --- provisioning ---------------------------------------------------------------------------------------

async function provisioning() {
  const r = await api("GET", "/rest/v1/konsumenter");
  const parts = [];
  for (const k of r.status < 400 ? r.body.konsumenter : []) {
    const runs = await api("GET", `/rest/v1/konsumenter/${enc(k.id)}/kjøringer?antall=20`);
    parts.push(h("h2", {}, `${k.id} (${k.mål?.type ?? ""})`), table([
      ["Kjøring", (x) => link(`#/provisioning/${enc(k.id)}/${enc(x.id)}`, x.id)], ["Status", (x) => badge(x.status)],
      ["Modus", (x) => x.modus + (x.tørrkjøring ? " (tørr)" : "")], ["Startet", (x) => x.startet],
      ["Opprettet/oppdatert/slettet", (x) => `${x.opprettet}/${x.oppdatert}/${x.slettet}`],
      ["Ventende slettinger", (x) => x.ventendeSlettinger],
      ["Siste merknad", (x) => (x.merknader || []).at(-1) ?? ""]], runs.body?.kjøringer || []));
  }
  render(h("h1", {}, "Leveranser (konsumenter)"), failed(r), parts.length ? parts : h("p.muted", {}, "Ingen konsumenter."));
}

async function run(konsument, id) {
  const base = `/rest/v1/konsumenter/${konsument}/kjøringer/${id}`;
  const [r, log] = await Promise.all([api("GET", base), api("GET", `${base}/logg?antall=200`)]);
  const out = h("div");
  render(h("h1", {}, "Kjøring ", h("code", {}, decodeURIComponent(id))), failed(r),
    r.status < 400 ? h("p", {}, "Status: ", h("span", { id: "run-status" }, badge(r.body.status))) : null,
    r.body?.status === "KARANTENE" ? h("button", { onclick: async () => {
      const a = await api("POST", `${base}/godkjenn`);
      if (a.status >= 400) return out.replaceChildren(failed(a));
      for (let i = 0; i < 100; i++) {  // the approved run deletes, then finishes
        const now = await api("GET", base);
        if (now.body?.status !== "PÅGÅR") break;
        await new Promise((ok) => setTimeout(ok, 200));
      }
      await run(konsument, id);
      view.prepend(message("Kjøringen er godkjent"));
    } }, "Godkjenn slettingene") : null, out,
    r.status < 400 ? h("pre", {}, pretty(r.body)) : null,
    h("h2", {}, "Logg per objekt"), log.status < 400 ? table([["nvdbId", (e) => e.id], ["Handling", (e) => e.handling],
      ["Melding", (e) => e.melding]], log.body.logg) : failed(log));
}

// --- statistics ------------------------------------------------------------------------------------------

async function stats() {
  const r = await api("GET", "/rest/v1/statistikk");
  if (r.status >= 400) return render(h("h1", {}, "Statistikk"), failed(r));
  const s = r.body;
  const outcomes = [["UTFØRT_OG_ETTERBEHANDLET", "#1a7f37"], ["UTFØRT", "#6fbf73"], ["AVVIST", "#c62828"],
                    ["KANSELLERT", "#8d6e63"], ["PÅGÅR", "#f0b400"]].map(([name, color]) => ({ name, color }));
  render(h("h1", {}, "Statistikk"), h("p.muted", {}, `${s.antallEndringssett} endringssett`),
    h("div.grid", { id: "charts" },
      barChart("Endringssett per dag etter utfall", s.perDag.map((d) => ({ label: d.dag, ...d })), outcomes),
      barChart("Behandlingstid (mottatt → ferdig)", s.behandlingstid.map((b) => ({ label: b.intervall, antall: b.antall })),
        [{ name: "antall", color: "#0b5cad" }]),
      barChart("Låseventing per dag", s.låseventing.map((d) => ({ label: d.dag, ...d })),
        [{ name: "endringssett", color: "#b26a00" }, { name: "forsøk", color: "#f0b400" }], { stacked: false }),
      barChart("Leveranser: skrivinger per kjøring", s.leveranser.map((x) => ({ label: `${x.konsument} ${String(x.startet).slice(11, 19)}`, ...x })),
        [{ name: "opprettet", color: "#1a7f37" }, { name: "oppdatert", color: "#0b5cad" }, { name: "slettet", color: "#c62828" }])));
}

// --- system status (9_system_admin) ---------------------------------------------------------------------

async function status() {
  const r = await api("GET", "/rest/v1/systemstatus");
  if (r.status >= 400) return render(h("h1", {}, "Systemstatus"), failed(r));
  const s = r.body;
  const problem = (x) => (x.feil ? h("span.badge.AVVIST", {}, x.feil) : null);
  render(h("h1", {}, "Systemstatus"),
    h("p", {}, "API: ", h("span#api-status", {}, badge(s.api.status)), ` versjon ${s.api.versjon}, ${s.api.tid}. `,
      "Datakatalog: ", h("code#datakatalog", {}, s.datakatalogversjon), " ", h("button.secondary", { onclick: status }, "Oppdater")),
    h("h2", {}, "Køer (omtrentlige antall fra SQS)"),
    table([["Kø", (q) => q.navn], ["Venter", (q) => q.synlige], ["Under behandling", (q) => q.underBehandling],
           ["Forsinket", (q) => q.forsinket], ["", problem]], s.køer, { id: "queues" }),
    h("h2", {}, "Kjøringer og låser"),
    table([["Arbeidsflyt", (k) => k.navn], ["Kjører nå", (k) => (k.flere ? `${k.antall}+` : k.antall)], ["", problem]],
      s.kjøringer, { id: "executions" }),
    h("p", {}, "Låser: ", h("strong#lock-count", {}, s.låser.låser), ", endringssett som venter på en lås: ",
      h("strong#waiting-count", {}, s.låser.ventendeEndringssett)),
    h("h2", {}, "Siste leveranser"),
    s.sisteLeveranser.length ? table([["Konsument", (x) => x.konsument],
      ["Kjøring", (x) => (x.kjøring ? link(`#/provisioning/${enc(x.konsument)}/${enc(x.kjøring)}`, x.kjøring) : "ingen")],
      ["Status", (x) => (x.status ? badge(x.status) : "")], ["Startet", (x) => x.startet]], s.sisteLeveranser, { id: "last-runs" })
      : h("p.muted", {}, "Ingen konsumenter."));
}

// --- routing ---------------------------------------------------------------------------------------------

async function route() {
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean);
  nav();
  if (parts[0] !== "login" && !token.get()) {
    sessionStorage.setItem("vegskriv.after", location.hash);  // back to the deep link after logging in
    return login();
  }
  try {
    if (parts[0] === "login") return login();
    if (parts[0] === "jobs" && parts[1] === "view" && parts[2]) return await job(decodeURIComponent(parts[2]));
    if (parts[0] === "locks") return parts[1] ? await lock(decodeURIComponent(parts[1])) : await locks();
    if (parts[0] === "services") return parts[3] ? await edition(parts[1], parts[2], parts[3]) : await services();
    if (parts[0] === "provisioning") return parts[2] ? await run(parts[1], parts[2]) : await provisioning();
    if (parts[0] === "stats") return await stats();
    if (parts[0] === "status") return await status();
    return await jobs(query || "");
  } catch (err) {
    render(message(`Feil i Kontrollpanelet: ${err.message}`, true));
  } finally {
    document.body.dataset.ready = location.hash;  // lets tests wait for a rendered view
  }
}

window.addEventListener("hashchange", route);
keepFresh();  // after a reload: renew on schedule again
route();
