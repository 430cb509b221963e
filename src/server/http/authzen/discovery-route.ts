import type { FastifyInstance, FastifyRequest } from "fastify";

/** The well-known path of the PDP metadata (AuthZEN 1.0 §9.2). */
export const DISCOVERY_PATH = "/.well-known/authzen-configuration";

/**
 * What a route group adds to the discovery document: endpoint URLs by
 * metadata name (paths under the PDP's base URL), capability URNs, and other
 * URL-valued members (`jwks_uri`). The document lists only what is served.
 */
export interface AuthZenMetadata {
  readonly endpoints?: Readonly<Record<string, string>>;
  readonly capabilities?: readonly string[];
}

/** Options for {@link registerDiscovery}. */
export interface DiscoveryOptions {
  /**
   * The PDP's base URL as clients reach it (`http.policy_decision_point`),
   * e.g. behind a proxy. Default: the scheme and `Host` of each request, so
   * the answer names the URL the client used.
   */
  readonly policyDecisionPoint?: string | undefined;
  /** `https` when the listener serves TLS. */
  readonly scheme: "http" | "https";
  /** The listener's own address, for a request without a usable Host header. */
  readonly fallbackHost: () => string;
  readonly metadata: readonly AuthZenMetadata[];
}

/**
 * `GET /.well-known/authzen-configuration`: public, cacheable. With a
 * configured base URL that has a path (`https://gw.example/authz`), the
 * document is also served at the well-known URL for that path
 * (`/.well-known/authzen-configuration/authz`), as AuthZEN derives it.
 */
export function registerDiscovery(scope: FastifyInstance, o: DiscoveryOptions): void {
  const configured = o.policyDecisionPoint;
  const paths = [DISCOVERY_PATH];
  if (configured !== undefined) {
    const path = new URL(configured).pathname.replace(/\/+$/, "");
    if (path !== "") paths.push(DISCOVERY_PATH + path);
  }
  const capabilities = [...new Set(o.metadata.flatMap((m) => m.capabilities ?? []))];
  const endpoints = o.metadata.flatMap((m) => Object.entries(m.endpoints ?? {}));
  const baseOf = baseUrlOf(o);
  for (const url of paths) {
    scope.get(url, (request, reply) => {
      const base = baseOf(request);
      const doc: Record<string, unknown> = { policy_decision_point: base };
      for (const [name, path] of endpoints) doc[name] = base + path;
      // A member without values is left out, as the specification asks.
      if (capabilities.length > 0) doc["capabilities"] = capabilities;
      return reply.header("cache-control", "max-age=60").send(doc);
    });
  }
}

/** The PDP's base URL for a request: the configured one, else the request's scheme and Host. */
export function baseUrlOf(o: Pick<DiscoveryOptions, "policyDecisionPoint" | "scheme" | "fallbackHost">): (request: FastifyRequest) => string {
  const configured = o.policyDecisionPoint;
  return (request) => configured ?? `${o.scheme}://${hostOf(request) ?? o.fallbackHost()}`;
}

/** The request's Host header when it is a plain host[:port] (anything else is not echoed). */
function hostOf(request: FastifyRequest): string | undefined {
  const host = request.headers.host;
  if (host === undefined) return undefined;
  return /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host) ? host : undefined;
}

/** A configured base URL as it is published: http(s), no query or fragment, no trailing slash; an Error naming what is wrong otherwise. */
export function normalizePolicyDecisionPoint(value: string): string | Error {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return new Error(`'${value}' is not an absolute URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return new Error(`'${value}' must be an https:// (or http://) URL`);
  if (url.search !== "" || url.hash !== "" || value.includes("?") || value.includes("#")) return new Error(`'${value}' must have no query or fragment`);
  if (url.username !== "" || url.password !== "") return new Error(`'${value}' must not carry credentials`);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}
