import type { TLSSocket } from "node:tls";
import type { FastifyRequest, onRequestHookHandler } from "fastify";
import { peerCertificateOf, type CallerCheck, type CallerCredentials } from "../callers.ts";
import type { RpcGroup } from "../server-config.ts";
import { HttpError } from "./errors.ts";

/** What a 401 asks for: a bearer token (RFC 6750), in the realm of this server. */
const CHALLENGE = 'Bearer realm="agent-auth"';

/**
 * The shared caller check as an HTTP hook for routes that need `group`. It
 * runs before the body is read. A request that identifies no caller is `401`
 * with `WWW-Authenticate` (with `error="invalid_token"` when it sent a token
 * that is not accepted); a known caller outside the group is `403`. Both are
 * reported by the check (log, refusal log, metric) like gRPC refusals.
 */
export function httpCallerHook(check: CallerCheck, group: RpcGroup): onRequestHookHandler {
  return (request, _reply, done) => {
    const verdict = check.check({
      method: `${request.method} ${request.routeOptions.url ?? request.url}`,
      group,
      peer: peerOf(request),
      credentials: credentialsOf(request),
    });
    if (verdict.ok) {
      request.callerName = verdict.caller.name;
      done();
    } else if (verdict.code === "UNAUTHENTICATED") {
      const challenge = request.headers.authorization === undefined ? CHALLENGE : `${CHALLENGE}, error="invalid_token"`;
      done(new HttpError(401, verdict.message, { "www-authenticate": challenge }));
    } else {
      done(new HttpError(403, verdict.message));
    }
  };
}

function credentialsOf(request: FastifyRequest): CallerCredentials {
  return {
    get authorization() {
      // Node keeps only the first of repeated Authorization headers; the raw list shows them all.
      const raw = request.raw.rawHeaders;
      const out: string[] = [];
      for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === "authorization") out.push(raw[i + 1]!);
      return out;
    },
    get peerCertificate() {
      const socket = request.raw.socket as Partial<TLSSocket>;
      return typeof socket.getPeerCertificate === "function" ? peerCertificateOf(socket.getPeerCertificate()) : undefined;
    },
  };
}

function peerOf(request: FastifyRequest): string {
  const s = request.raw.socket;
  return `${s.remoteAddress ?? "?"}:${s.remotePort ?? "?"}`;
}
