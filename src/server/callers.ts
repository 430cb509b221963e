/**
 * Caller authentication and RPC permissions. With callers configured, every
 * call must identify a caller — by a bearer token (`authorization: Bearer …`,
 * compared by SHA-256 digest) or by its mutual-TLS client certificate — and
 * the caller must hold the group of the service it calls. Anything else is
 * refused (UNAUTHENTICATED or PERMISSION_DENIED) and the refusal is reported.
 */
import { createHash } from "node:crypto";
import type { DescMethod } from "@bufbuild/protobuf";
import type { CallContext } from "./grpc/adapter.ts";
import { permissionDenied, unauthenticated, type RpcError } from "./grpc/errors.ts";
import type { CallerConfig, RpcGroup } from "./server-config.ts";

/** The group each agentauth.v1 service belongs to. */
export const SERVICE_GROUPS: Readonly<Record<string, RpcGroup>> = Object.freeze({
  "agentauth.v1.AuthorizationService": "authorize",
  "agentauth.v1.SessionService": "sessions",
  "agentauth.v1.DelegationService": "delegations",
  "agentauth.v1.AuditService": "audit",
  "agentauth.v1.PolicyService": "policy",
});

/** A refused call, as reported to the log, the refusal log and metrics. */
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

export interface CallerCheck {
  /** Throws UNAUTHENTICATED / PERMISSION_DENIED, after reporting the refusal. */
  check(context: CallContext, method: DescMethod): void;
  /** The caller a call identifies, or an explanation of why none. */
  identify(context: CallContext): { caller: CallerConfig } | { reason: string };
}

/** Checks calls against configured callers; `onRefused` sees every refusal. */
export function createCallerCheck(callers: readonly CallerConfig[], onRefused: (refusal: Refusal) => void): CallerCheck {
  const byToken = new Map<string, CallerConfig>();
  const byCertificate = new Map<string, CallerConfig>();
  for (const c of callers) {
    for (const h of c.tokenHashes) byToken.set(h, c);
    for (const name of c.certificates) byCertificate.set(name, c);
  }

  const identify = (context: CallContext): { caller: CallerConfig } | { reason: string } => {
    const header = context.metadata.get("authorization");
    if (header.length > 1) return { reason: "more than one authorization header" };
    if (header.length === 1) {
      const value = String(header[0]);
      const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
      if (m === null) return { reason: "the authorization header is not 'Bearer <token>'" };
      const caller = byToken.get(createHash("sha256").update(m[1]!).digest("hex"));
      return caller === undefined ? { reason: "unknown bearer token" } : { caller };
    }
    const cert = context.peerCertificate;
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

  const refuse = (context: CallContext, group: RpcGroup | undefined, caller: string | undefined, error: RpcError, code: Refusal["code"], reason: string): never => {
    onRefused({ time: new Date().toISOString(), method: context.method, group, caller, code, reason, peer: context.peer });
    throw error;
  };

  return {
    identify,
    check(context, method) {
      const group = SERVICE_GROUPS[method.parent.typeName];
      const who = identify(context);
      if (!("caller" in who)) return refuse(context, group, undefined, unauthenticated(`caller not authenticated: ${who.reason}`), "UNAUTHENTICATED", who.reason);
      const caller = who.caller;
      if (group === undefined || !caller.groups.has(group)) {
        const reason = `caller '${caller.name}' is not granted the '${group ?? "?"}' group needed for ${method.parent.name}.${method.name}`;
        return refuse(context, group, caller.name, permissionDenied(reason), "PERMISSION_DENIED", reason);
      }
    },
  };
}
