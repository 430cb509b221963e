import { defineCommand } from "../command-spec.ts";

/** `agent-auth serve`. */
export const serveSpec = defineCommand({
  name: "serve",
  summary: "serve the policy over gRPC (and the AuthZEN HTTP API with --http-port)",
  usage: ["agent-auth -c FILE serve [--host H] [--port P] [--http-port P] [--tls-cert F --tls-key F [--tls-client-ca F]] [--redis URL] [OPTIONS]"],
  description: `Serves the policy over gRPC (and, with --http-port, the OpenID AuthZEN API over HTTP on the
same host, with the same callers and TLS) until SIGTERM or SIGINT, then stops gracefully. SIGHUP and
changes to the file reload the policy (an invalid file keeps the running one); SIGHUP also reloads
the server config's callers. Logs go to stderr:
readable lines on a terminal, one JSON object per line otherwise (--log-format).`,
  options: {
    host: { type: "string", default: "127.0.0.1", value: "H", help: "address to listen on" },
    port: { type: "string", default: "50051", value: "P", help: "port; 0 picks a free one" },
    "http-port": { type: "string", value: "P", help: "also serve the AuthZEN HTTP API on this port (0: a free one; npm start: 8080)" },
    "tls-cert": { type: "string", value: "FILE", help: "serve TLS with this certificate (PEM), with --tls-key" },
    "tls-key": { type: "string", value: "FILE", help: "the certificate's private key (PEM)" },
    "tls-client-ca": { type: "string", value: "FILE", help: "require client certificates signed by this CA (mutual TLS)" },
    redis: { type: "string", value: "URL", help: "keep sessions, delegations and the audit stream in Redis ($AGENT_AUTH_REDIS_URL)" },
    "redis-prefix": { type: "string", value: "P", help: "Redis key prefix (default agent-auth)" },
    "max-batch": { type: "string", value: "N", help: "largest AuthorizeBatch (default 1000)" },
    "grace-ms": { type: "string", value: "MS", help: "how long calls in flight may finish on shutdown (default 10000)" },
    "server-config": { type: "string", value: "FILE", help: "callers, limits, metrics, reload, Redis settings ($AGENT_AUTH_SERVER_CONFIG)" },
    "log-format": { type: "string", value: "pretty|json", help: "log lines for people or for machines (default: pretty on a terminal, else json)" },
  },
  examples: ["agent-auth -c examples/agent_auth.yaml serve --port 50051", "agent-auth -c examples/agent_auth.yaml serve --port 50051 --http-port 8080"],
  load: async () => (await import("../commands/serve.ts")).serveCommand,
});
