import { isIPv4, isIPv6 } from "node:net";
import { AgentAuthError } from "./agent-auth-error.ts";

/**
 * The grpc-js target for one or several server addresses (`host:port`).
 *
 * One address is used as given (a DNS name that resolves to every replica
 * is balanced over all of them). Several addresses become one `ipv4:` or
 * `ipv6:` target, so grpc-js balances over them itself; they must therefore
 * be IP literals of one family — grpc-js has no resolver for a list of names.
 */
export function channelTarget(addresses: readonly string[]): string {
  if (addresses.length === 0) throw new AgentAuthError("INVALID_ARGUMENT", "address: give the server's address (host:port) as `address` or `addresses`");
  for (const [i, a] of addresses.entries()) {
    if (typeof a !== "string" || a === "") throw new AgentAuthError("INVALID_ARGUMENT", `addresses[${i}]: expected "host:port", got ${JSON.stringify(a)}`);
  }
  if (addresses.length === 1) return addresses[0]!;
  const hosts = addresses.map((a, i) => {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(a);
    if (m === null) throw new AgentAuthError("INVALID_ARGUMENT", `addresses[${i}]: expected "host:port" or "[ipv6]:port", got "${a}"`);
    return { host: m[1] ?? m[2]!, port: m[3]!, index: i };
  });
  if (hosts.every((h) => isIPv4(h.host))) return "ipv4:" + hosts.map((h) => `${h.host}:${h.port}`).join(",");
  if (hosts.every((h) => isIPv6(h.host))) return "ipv6:" + hosts.map((h) => `[${h.host}]:${h.port}`).join(",");
  const name = hosts.find((h) => !isIPv4(h.host) && !isIPv6(h.host));
  throw new AgentAuthError(
    "INVALID_ARGUMENT",
    name === undefined
      ? "addresses: mixes IPv4 and IPv6 literals; give addresses of one family"
      : `addresses[${name.index}]: "${name.host}" is not an IP literal; several addresses must be IP literals of one family (for host names, give one DNS name that resolves to every replica)`,
  );
}

/** Channel options that balance calls over every address the target resolves to. */
export const ROUND_ROBIN_OPTIONS = Object.freeze({
  "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
});
