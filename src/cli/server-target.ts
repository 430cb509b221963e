import { UsageError } from "./io.ts";

/** The port a server listens on unless told otherwise (`agent-auth serve`). */
export const DEFAULT_PORT = 50051;

/** Where `--server` points: a gRPC target and whether to speak TLS. */
export interface ServerTarget {
  /** `host:port` as the client dials it. */
  readonly target: string;
  /** True for `https://…`. */
  readonly tls: boolean;
}

/**
 * Reads `--server`: `host`, `host:port`, `[v6]`, `[v6]:port`,
 * `http://host[:port]` (plaintext) or `https://host[:port]` (TLS). Every form
 * without a port means port 50051 — never a scheme's default port.
 */
export function parseServerTarget(text: string): ServerTarget {
  let rest = text.trim();
  let tls = false;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest);
  if (scheme !== null) {
    const s = scheme[1]!.toLowerCase();
    if (s !== "http" && s !== "https" && s !== "grpc" && s !== "grpcs") throw new UsageError(`--server: unknown scheme '${scheme[1]}://' in '${text}' (use host:port, http://host:port or https://host:port)`);
    tls = s === "https" || s === "grpcs";
    rest = rest.slice(scheme[0].length);
    const slash = rest.indexOf("/");
    if (slash >= 0) {
      if (rest.slice(slash) !== "/") throw new UsageError(`--server: a gRPC server has no path ('${text}'); give host:port`);
      rest = rest.slice(0, slash);
    }
  }
  if (rest === "") throw new UsageError(`--server: no host in '${text}'`);
  let host: string;
  let port: string | undefined;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0) throw new UsageError(`--server: unclosed '[' in '${text}'`);
    host = rest.slice(0, close + 1);
    const after = rest.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) throw new UsageError(`--server: unexpected '${after}' after ${host} in '${text}'`);
    port = after === "" ? undefined : after.slice(1);
  } else {
    const colons = rest.split(":").length - 1;
    if (colons > 1) {
      // A bare IPv6 address.
      host = `[${rest}]`;
    } else {
      const colon = rest.indexOf(":");
      host = colon < 0 ? rest : rest.slice(0, colon);
      port = colon < 0 ? undefined : rest.slice(colon + 1);
    }
  }
  if (port !== undefined && !/^\d{1,5}$/.test(port)) throw new UsageError(`--server: the port must be a number, got '${port}' in '${text}'`);
  if (port !== undefined && Number(port) > 65535) throw new UsageError(`--server: the port must be at most 65535, got ${port}`);
  return { target: `${host}:${port ?? DEFAULT_PORT}`, tls };
}

/** How the CLI dials `--server` with the global TLS options, for error explanations. */
export function dialInfo(g: { readonly server: string | undefined; readonly tlsCa: string | undefined; readonly tlsCert: string | undefined }): { target: string; tls: boolean; clientCertificate: boolean } {
  const t = g.server === undefined ? { target: "", tls: false } : safeTarget(g.server);
  return { target: t.target, tls: t.tls || g.tlsCa !== undefined || g.tlsCert !== undefined, clientCertificate: g.tlsCert !== undefined };
}

function safeTarget(text: string): ServerTarget {
  try {
    return parseServerTarget(text);
  } catch {
    return { target: text, tls: false };
  }
}
