// Shared by Kontrollpanel and Generator: the token, API calls and a tiny DOM helper (no build step).
const KEY = "vegskriv.token";
const REFRESH_KEY = "vegskriv.refresh";

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => { sessionStorage.removeItem(KEY); sessionStorage.removeItem(REFRESH_KEY); },
  // The payload of the JWT, for showing who is logged in (the API verifies it, not we).
  claims() {
    const t = this.get();
    try { return t ? JSON.parse(atob(t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))) : null; }
    catch { return null; }
  },
};

async function call(method, path, body, headers) {
  const started = performance.now();
  const init = { method, headers: { "X-Client": "kontrollpanel", ...headers } };
  if (token.get()) init.headers.Authorization = `Bearer ${token.get()}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let parsed = text;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* text/plain answers */ }
  return { status: res.status, headers: Object.fromEntries(res.headers), body: parsed,
           ms: Math.round(performance.now() - started) };
}

// One API call; answers {status, headers, body (parsed JSON or text), ms}. Never throws on HTTP errors.
// A 401 with a refresh token at hand renews the token once and repeats the call.
export async function api(method, path, body, headers = {}) {
  const r = await call(method, path, body, headers);
  if (r.status === 401 && sessionStorage.getItem(REFRESH_KEY) && await refresh()) {
    return call(method, path, body, headers);
  }
  return r;
}

// Login through the OIDC endpoints (autentisering.md): locally a user whose password is the user name.
// Failure is an empty object with 200, as in NVDB.
export async function oidcLogin(username, password, realm = "EMPLOYEE") {
  const r = await call("POST", "/rest/v1/oidc/authenticate", { username, password, realm });
  if (r.status !== 200 || !r.body?.idToken) throw new Error(r.body?.message || "feil brukernavn eller passord");
  token.set(r.body.idToken);
  if (r.body.refreshToken) sessionStorage.setItem(REFRESH_KEY, r.body.refreshToken);
  keepFresh();
  return token.claims();
}

// A new id token from the refresh token; false (and logged out) when it is refused.
export async function refresh() {
  const refreshToken = sessionStorage.getItem(REFRESH_KEY);
  if (!refreshToken) return false;
  const r = await call("POST", "/rest/v1/oidc/refresh", { refreshToken });
  if (r.status !== 200 || !r.body?.idToken) { token.clear(); return false; }
  token.set(r.body.idToken);
  keepFresh();
  return true;
}

// Renew a minute before the token expires (id tokens live 15 minutes), so a panel left open stays usable.
let timer = null;
export function keepFresh() {
  clearTimeout(timer);
  const exp = token.claims()?.exp;
  if (!exp || !sessionStorage.getItem(REFRESH_KEY)) return;
  timer = setTimeout(refresh, Math.max(5, exp - Date.now() / 1000 - 60) * 1000);
}

// Local login: the dev token endpoint exists only on the local stack (the Generator uses it for its roles).
export async function devLogin(brukernavn, roller) {
  const r = await api("POST", "/ui/dev-token", { brukernavn, roller });
  if (r.status !== 200) throw new Error(r.body?.message || `HTTP ${r.status}`);
  token.set(r.body.token);
  return r.body;
}

// h("tag#id.class", {attr, onclick}, ...children): enough DOM for two small apps.
export function h(spec, attrs = {}, ...children) {
  const [head, ...classes] = spec.split(".");
  const [tag, id] = head.split("#");
  const el = document.createElement(tag || "div");
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(" ");
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const pretty = (v) => (typeof v === "string" ? v : JSON.stringify(v, null, 2));

export function table(columns, rows, attrs = {}) {
  return h("table", attrs,
    h("thead", {}, h("tr", {}, columns.map(([title]) => h("th", {}, title)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(row) ?? ""))))));
}

// Bar charts as inline SVG. series: [{name, color}], data: [{label, [name]: number}].
export function barChart(title, data, series, { stacked = true } = {}) {
  const W = 560, H = 200, pad = 30;
  const totals = data.map((d) => (stacked ? series.reduce((s, x) => s + (d[x.name] || 0), 0)
                                          : Math.max(0, ...series.map((x) => d[x.name] || 0))));
  const max = Math.max(1, ...totals);
  const bw = data.length ? (W - pad) / data.length : 0;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H + 40}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", title);
  const add = (tag, attrs, text) => {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    svg.append(el);
    return el;
  };
  add("line", { x1: pad, y1: H, x2: W, y2: H, stroke: "#888" });
  add("text", { x: 2, y: 12, "font-size": 11 }, String(max));
  data.forEach((d, i) => {
    let y = H;
    series.forEach((s, j) => {
      const v = d[s.name] || 0;
      if (!v) return;
      const bh = (v / max) * (H - 20);
      const w = stacked ? bw * 0.7 : (bw * 0.7) / series.length;
      const x = pad + i * bw + bw * 0.15 + (stacked ? 0 : j * w);
      const top = stacked ? y - bh : H - bh;
      add("rect", { x, y: top, width: w, height: bh, fill: s.color, class: "bar" })
        .append(Object.assign(document.createElementNS(ns, "title"), { textContent: `${s.name}: ${v}` }));
      if (stacked) y -= bh;
    });
    add("text", { x: pad + i * bw + bw / 2, y: H + 14, "font-size": 10, "text-anchor": "middle" }, d.label);
  });
  let lx = pad;
  for (const s of series) {  // legend entries as wide as their names
    add("rect", { x: lx, y: H + 24, width: 10, height: 10, fill: s.color });
    add("text", { x: lx + 14, y: H + 33, "font-size": 11 }, s.name);
    lx += 24 + s.name.length * 7;
  }
  return h("figure.chart", {}, h("figcaption", {}, title), svg,
    data.length ? null : h("p.muted", {}, "Ingen data ennå"));
}
