/**
 * Caller authentication and permissions, for every transport. With callers
 * configured, every request must identify a caller — by a bearer token
 * (`authorization: Bearer …`, compared by SHA-256 digest) or by its
 * mutual-TLS client certificate — and the caller must hold the group the
 * request needs. Anything else is refused (UNAUTHENTICATED or
 * PERMISSION_DENIED) and the refusal is reported. gRPC and HTTP each turn the
 * verdict into their own answer (grpc/caller-hook.ts, http/caller-auth.ts).
 */
import { createHash } from "node:crypto";
import type { CallerConfig, RpcGroup } from "./server-config.ts";

/** The parts of a TLS client certificate callers are identified by. */
export interface PeerCertificate {
  readonly subject: Readonly<Record<string, string>>;
  readonly subjectAltNames: readonly string[];
}

/** What a request presents to say who sent it. Read lazily by transports that can. */
export interface CallerCredentials {
  /** Every `authorization` header value the request carries. */
  readonly authorization: readonly string[];
  /** The client certificate under mutual TLS. */
  readonly peerCertificate: PeerCertificate | undefined;
}

/** A request about to be served: what it is, which group it needs, where it came from. */
export interface CallAttempt {
  /** `/package.Service/Method` for gRPC, `POST /access/v1/evaluation` for HTTP. */
  readonly method: string;
  /** How a refusal message names the request (`AuthorizationService.Authorize`); default `method`. */
  readonly label?: string;
  /** The group the request needs; undefined when none grants it (always refused). */
  readonly group: RpcGroup | undefined;
  /** Other groups that grant the request as well (DecideApproval: `approvals-relay` besides `approve`). */
  readonly orGroups?: readonly RpcGroup[] | undefined;
  /** The client's address. */
  readonly peer: string;
  readonly credentials: CallerCredentials;
}

/** A refused request, as reported to the log, the refusal log and metrics. */
export interface Refusal {
  readonly time: string;
  readonly method: string;
  readonly group: RpcGroup | undefined;
  /** The identified caller; undefined when none could be identified. */
  readonly caller: string | undefined;
  readonly code: "UNAUTHENTICATED" | "PERMISSION_DENIED";
  readonly reason: string;
  readonly peer: string;
}

/** The outcome of a check: the caller, or why the request is refused (already reported). */
export type CallerVerdict =
  | { readonly ok: true; readonly caller: CallerConfig }
  | { readonly ok: false; readonly code: Refusal["code"]; readonly message: string };

/** Checks requests against the configured callers. */
export interface CallerCheck {
  /** The caller of an attempt, or a refusal; every refusal is reported before this returns. */
  check(attempt: CallAttempt): CallerVerdict;
  /** The caller credentials identify, or an explanation of why none. */
  identify(credentials: CallerCredentials): { caller: CallerConfig } | { reason: string };
  /**
   * Replaces the callers in one assignment: calls checked from then on see
   * only the new list (a server config reloaded on SIGHUP). Throws, keeping
   * the old list, when `callers` is empty — that would turn caller
   * authentication off.
   */
  replace(callers: readonly CallerConfig[]): void;
  /** The caller of that name in the current list (after any reload); undefined when it is gone. */
  named(name: string): CallerConfig | undefined;
}

/** The callers by token digest and by certificate name. */
interface CallerIndex {
  readonly byToken: ReadonlyMap<string, CallerConfig>;
  readonly byCertificate: ReadonlyMap<string, CallerConfig>;
  readonly byName: ReadonlyMap<string, CallerConfig>;
}

function indexCallers(callers: readonly CallerConfig[]): CallerIndex {
  const byToken = new Map<string, CallerConfig>();
  const byCertificate = new Map<string, CallerConfig>();
  const byName = new Map<string, CallerConfig>();
  for (const c of callers) {
    byName.set(c.name, c);
    for (const h of c.tokenHashes) byToken.set(h, c);
    for (const name of c.certificates) byCertificate.set(name, c);
  }
  return { byToken, byCertificate, byName };
}

/** Checks requests against configured callers; `onRefused` sees every refusal. */
export function createCallerCheck(callers: readonly CallerConfig[], onRefused: (refusal: Refusal) => void): CallerCheck {
  let current = indexCallers(callers);

  const identify = (credentials: CallerCredentials): { caller: CallerConfig } | { reason: string } => {
    // One index for the whole identification, even if a reload swaps it meanwhile.
    const { byToken, byCertificate } = current;
    const header = credentials.authorization;
    if (header.length > 1) return { reason: "more than one authorization header" };
    if (header.length === 1) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header[0]!);
      if (m === null) return { reason: "the authorization header is not 'Bearer <token>'" };
      const caller = byToken.get(createHash("sha256").update(m[1]!).digest("hex"));
      return caller === undefined ? { reason: "unknown bearer token" } : { caller };
    }
    const cert = credentials.peerCertificate;
    if (cert === undefined) return { reason: "no bearer token and no client certificate" };
    const names = cert.subject["CN"] === undefined ? cert.subjectAltNames : [`CN=${cert.subject["CN"]}`, ...cert.subjectAltNames];
    const found = new Set<CallerConfig>();
    for (const n of names) {
      const c = byCertificate.get(n);
      if (c !== undefined) found.add(c);
    }
    if (found.size === 1) return { caller: [...found][0]! };
    if (found.size > 1) return { reason: `the client certificate matches several callers (${[...found].map((c) => c.name).join(", ")})` };
    return { reason: `no caller is configured for the client certificate (${names.join(", ") || "no names"})` };
  };

  const refuse = (attempt: CallAttempt, caller: string | undefined, code: Refusal["code"], reason: string, message: string): CallerVerdict => {
    onRefused({ time: new Date().toISOString(), method: attempt.method, group: attempt.group, caller, code, reason, peer: attempt.peer });
    return { ok: false, code, message };
  };

  return {
    identify,
    named: (name) => current.byName.get(name),
    replace(next) {
      if (next.length === 0) throw new Error("no callers: an empty list would turn caller authentication off (restart the server to do that)");
      current = indexCallers(next);
    },
    check(attempt) {
      const who = identify(attempt.credentials);
      if (!("caller" in who)) return refuse(attempt, undefined, "UNAUTHENTICATED", who.reason, `caller not authenticated: ${who.reason}`);
      const caller = who.caller;
      const group = attempt.group;
      if (group === undefined || !(caller.groups.has(group) || attempt.orGroups?.some((g) => caller.groups.has(g)) === true)) {
        const alternatives = (attempt.orGroups ?? []).map((g) => ` or '${g}'`).join("");
        const reason = `caller '${caller.name}' is not granted the '${group ?? "?"}'${alternatives} group needed for ${attempt.label ?? attempt.method}`;
        return refuse(attempt, caller.name, "PERMISSION_DENIED", reason, reason);
      }
      return { ok: true, caller };
    },
  };
}

/** The subject and subjectAltNames of a certificate as Node's TLS reports it (`getPeerCertificate()`); undefined for none. */
export function peerCertificateOf(cert: { subject?: unknown; subjectaltname?: string | undefined } | null | undefined): PeerCertificate | undefined {
  if (cert === undefined || cert === null || Object.keys(cert).length === 0) return undefined;
  const subject: Record<string, string> = {};
  for (const [k, v] of Object.entries((cert.subject ?? {}) as Record<string, unknown>)) subject[k] = Array.isArray(v) ? v.join(",") : String(v);
  const sans = (cert.subjectaltname ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  return { subject, subjectAltNames: sans };
}
