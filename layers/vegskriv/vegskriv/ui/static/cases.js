// The Generator's predefined cases: a changeset (with $nvdbId/$versjon filled from a setup run) and
// assertions on the final status. Objects stand on the sample network shipped with vegskriv.
const KUM = {
  typeId: 83, tempId: "kum#1", gyldighetsperiode: { startdato: "2024-09-27" },
  stedfesting: { punkt: [{ veglenkesekvensNvdbId: 1125766, posisjon: 0.3, sideposisjon: "H" }] },
  egenskaper: [
    { typeId: 1141, verdi: ["Standard kum"] }, { typeId: 1269, verdi: ["Drenering"] },
    { typeId: 1411, verdi: ["Betong"] }, { typeId: 2290, verdi: ["Kuppelrist, høy"] },
    { typeId: 1586, verdi: ["1.4"] }, { typeId: 7065, verdi: ["2023"] }, { typeId: 10470, verdi: ["Ingen"] },
    { typeId: 4784, geometri: [{ srid: 25833, wkt: "POINT (218124.0 7023329.5 350.3)" }] }],
};
const kum = (changes = {}, egenskaper = null) => ({ ...structuredClone(KUM), ...changes,
  ...(egenskaper ? { egenskaper: [...KUM.egenskaper.filter((e) => !egenskaper.some((x) => x.typeId === e.typeId)), ...egenskaper] } : {}) });
const doc = (ops) => ({ datakatalogversjon: "2.38",
  ...Object.fromEntries(Object.entries(ops).map(([op, objs]) => [op, { vegobjekter: objs }])) });

export const allFeil = (s) => [...(s.resultat?.feil || []), ...(s.resultat?.vegobjekter || []).flatMap((o) => o.feil || [])];
const codes = (s) => allFeil(s).map((v) => v.kode);
const done = (dry) => (dry ? ["UTFØRT", "UTFØRT_OG_ETTERBEHANDLET"] : ["UTFØRT_OG_ETTERBEHANDLET"]);

const isDone = { text: "fremdrift er UTFØRT_OG_ETTERBEHANDLET (UTFØRT ved tørrkjøring)",
                 check: (s, ctx) => done(ctx.dryrun).includes(s.fremdrift) };
const noFeil = { text: "ingen feil", check: (s) => allFeil(s).length === 0 };
const rejected = (kode) => [
  { text: "fremdrift er AVVIST", check: (s) => s.fremdrift === "AVVIST" },
  { text: "avvistårsak er VALIDERINGSFEIL", check: (s) => s.avvistårsak === "VALIDERINGSFEIL" },
  { text: `feil ${kode}`, check: (s) => codes(s).includes(kode) }];
const registered = doc({ registrer: [kum({ tempId: "kum#oppsett" })] });

export const CASES = [
  { id: "registrer", title: "Gyldig registrer (Kum)", doc: doc({ registrer: [kum()] }),
    assertions: [isDone, noFeil,
      { text: "vegobjektet har fått nvdbId (ikke ved tørrkjøring)",
        check: (s, ctx) => ctx.dryrun || Number.isInteger(s.resultat?.vegobjekter?.[0]?.nvdbId) }] },
  { id: "ukjent-type", title: "Feil: UKJENT_VEGOBJEKTTYPE", doc: doc({ registrer: [kum({ typeId: 424242 })] }),
    assertions: rejected("UKJENT_VEGOBJEKTTYPE") },
  { id: "ukjent-egenskap", title: "Feil: UKJENT_EGENSKAPSTYPE",
    doc: doc({ registrer: [kum({}, [{ typeId: 999999, verdi: ["x"] }])] }), assertions: rejected("UKJENT_EGENSKAPSTYPE") },
  { id: "ugyldig-egenskap", title: "Feil: UGYLDIG_EGENSKAPSTYPE",
    doc: doc({ registrer: [kum({}, [{ typeId: 5225, verdi: ["x"] }])] }), assertions: rejected("UGYLDIG_EGENSKAPSTYPE") },
  { id: "oppdater", title: "Oppdater et eksisterende objekt", setup: registered,
    doc: doc({ oppdater: [kum({ tempId: undefined, nvdbId: "$nvdbId", versjon: "$versjon",
      gyldighetsperiode: { startdato: "2025-01-01" } }, [{ typeId: 1586, verdi: ["2.5"] }])] }),
    assertions: [isDone, noFeil,
      { text: "ny versjon 2 (ikke ved tørrkjøring)", check: (s, ctx) => ctx.dryrun || s.resultat?.vegobjekter?.[0]?.versjon === 2 }] },
  { id: "lukk", title: "Lukk et eksisterende objekt", setup: registered,
    doc: doc({ lukk: [{ typeId: 83, nvdbId: "$nvdbId", versjon: "$versjon", lukkedato: "2026-01-01" }] }),
    assertions: [isDone, noFeil] },
  { id: "laas", title: "Venter på lås (lås fjernes underveis)", lock: true,
    doc: doc({ registrer: [kum({ tempId: "kum#laas" })] }),
    assertions: [
      { text: "fremdrift var VENTER mens låsen fantes", check: (s, ctx) => ctx.seen.includes("VENTER") },
      isDone, noFeil] },
  { id: "utkast", title: "Fritt utkast", doc: doc({ registrer: [kum({ tempId: "kum#utkast" })] }),
    assertions: [{ text: "behandlingen ble ferdig", check: (s) =>
      ["UTFØRT", "UTFØRT_OG_ETTERBEHANDLET", "AVVIST", "KANSELLERT"].includes(s.fremdrift) }] },
];

// The lock the lock-wait case holds while its changeset waits: the whole sample sequence, type 83.
export const LOCK = { vegobjekttyper: [{ typeId: 83 }], stedfesting: [{ veglenkesekvensNvdbId: 1125766 }],
                      varighetSekunder: 300 };
