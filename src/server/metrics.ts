/**
 * Prometheus metrics (prom-client), served on their own port so that the
 * decision port never answers HTTP/1 and scrapers need no gRPC credentials.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { SinkHealth } from "../audit/sink.ts";
import type { AuthDecision } from "../model/types.ts";
import { HotCounter, HotHistogram, type CounterSlot, type HistogramSlot } from "./hot-metrics.ts";

/** Everything the server reports. */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly decisions: HotCounter<"effect" | "tier">;
  readonly decisionSeconds: HotHistogram<never>;
  readonly rpcs: HotCounter<"method" | "code">;
  readonly rpcSeconds: HotHistogram<"method">;
  readonly httpRequests: HotCounter<"route" | "status">;
  readonly httpSeconds: HotHistogram<"route">;
  readonly refusals: Counter<"group" | "code">;
  readonly storeErrors: Counter;
  readonly storeSeconds: HotHistogram<never>;
  readonly storeUp: Gauge;
  readonly auditLagSeconds: Gauge;
  readonly auditDropped: Counter<"sink">;
  readonly auditFileErrors: Counter;
  readonly auditSubscribers: Gauge;
  readonly subscriberOverflows: Counter;
  readonly policyInfo: Gauge<"revision" | "name" | "version">;
  readonly reloads: Counter<"result">;
  readonly reloadFailing: Gauge;
  /** Read at scrape time. */
  sources: { subscribers: () => number; storeUp: () => boolean } = { subscribers: () => 0, storeUp: () => true };

  constructor() {
    const sources = (): ServerMetrics["sources"] => this.sources;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "agent_auth_" });
    const registry = this.registry;
    this.decisions = new HotCounter("agent_auth_decisions_total", "Decisions answered, by effect and tier (autonomous on a denial).", ["effect", "tier"], registry);
    this.decisionSeconds = new HotHistogram(
      "agent_auth_decision_duration_seconds",
      "Time the engine took to decide, state store round trip included.",
      [],
      [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 0.1, 1],
      registry,
    );
    this.rpcs = new HotCounter("agent_auth_rpc_total", "Finished gRPC calls by method and status code.", ["method", "code"], registry);
    this.rpcSeconds = new HotHistogram(
      "agent_auth_rpc_duration_seconds",
      "Handling time of gRPC calls by method (streams: their whole life).",
      ["method"],
      [1e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2, 0.25, 1, 5],
      registry,
    );
    this.httpRequests = new HotCounter("agent_auth_http_requests_total", "Answered HTTP requests by route pattern (unmatched for none) and status.", ["route", "status"], registry);
    this.httpSeconds = new HotHistogram(
      "agent_auth_http_request_duration_seconds",
      "Handling time of HTTP requests by route pattern.",
      ["route"],
      [1e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2, 0.25, 1, 5],
      registry,
    );
    this.#decisionSlot = this.decisionSeconds.slot({});
    this.#outcomes = {
      allow: { autonomous: this.decisions.slot({ effect: "allow", tier: "autonomous" }), soft: this.decisions.slot({ effect: "allow", tier: "soft" }), strong: this.decisions.slot({ effect: "allow", tier: "strong" }) },
      deny: this.decisions.slot({ effect: "deny", tier: "autonomous" }),
    };
    this.refusals = new Counter({ name: "agent_auth_calls_refused_total", help: "Calls refused by caller authentication, by RPC group and status.", labelNames: ["group", "code"], registers });
    this.storeErrors = new Counter({ name: "agent_auth_state_store_errors_total", help: "State store reads that failed (each decision affected denied).", registers });
    this.storeSeconds = new HotHistogram(
      "agent_auth_state_store_duration_seconds",
      "Latency of a decision's state read (one round trip with Redis).",
      [],
      [1e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2, 0.25, 1, 2],
      registry,
    );
    this.#storeSlot = this.storeSeconds.slot({});
    this.storeUp = new Gauge({
      name: "agent_auth_state_store_up",
      help: "1 when the state store answers, 0 during an outage.",
      registers,
      collect() {
        this.set(sources().storeUp() ? 1 : 0);
      },
    });
    this.auditLagSeconds = new Gauge({ name: "agent_auth_audit_stream_lag_seconds", help: "Age of the newest audit entry when it reached this server's subscribers.", registers });
    this.auditDropped = new Counter({
      name: "agent_auth_audit_records_dropped_total",
      help: "Audit records given up on, by sink (stream: the Redis stream; file: the JSONL file). Must stay 0.",
      labelNames: ["sink"],
      registers,
    });
    this.auditFileErrors = new Counter({ name: "agent_auth_audit_file_write_errors_total", help: "Failed writes to the JSONL audit file (its records are kept and retried).", registers });
    this.auditSubscribers = new Gauge({
      name: "agent_auth_audit_subscribers",
      help: "Live audit subscribers on this server.",
      registers,
      collect() {
        this.set(sources().subscribers());
      },
    });
    this.subscriberOverflows = new Counter({ name: "agent_auth_audit_subscriber_overflows_total", help: "Subscriptions ended because the client read too slowly (it resumes by cursor).", registers });
    this.policyInfo = new Gauge({ name: "agent_auth_policy_info", help: "The policy being served (value 1).", labelNames: ["revision", "name", "version"], registers });
    this.reloads = new Counter({ name: "agent_auth_policy_reloads_total", help: "Policy reload attempts by result (ok, unchanged, error).", labelNames: ["result"], registers });
    this.reloadFailing = new Gauge({ name: "agent_auth_policy_reload_failing", help: "1 while the policy file on disk is invalid and an older policy is served.", registers });
  }

  /**
   * Reports a JSONL audit file's state at scrape time (registered only when
   * the server writes one, so a server without a file shows no "down" file).
   */
  watchAuditFile(health: () => SinkHealth): void {
    const registers = [this.registry];
    new Gauge({
      name: "agent_auth_audit_file_up",
      help: "1 while the JSONL audit file takes writes, 0 while it cannot be written.",
      registers,
      collect() {
        this.set(health().ok ? 1 : 0);
      },
    });
    new Gauge({
      name: "agent_auth_audit_file_buffered_bytes",
      help: "Audit records accepted and not yet in the JSONL file, in bytes (bounded by audit.buffer_bytes).",
      registers,
      collect() {
        this.set(health().bufferedBytes);
      },
    });
  }

  readonly #decisionSlot: HistogramSlot;
  #storeSlot: HistogramSlot;
  readonly #outcomes: { readonly allow: Readonly<Record<string, CounterSlot>>; readonly deny: CounterSlot };
  readonly #rpcSlots = new Map<string, { readonly duration: HistogramSlot; readonly codes: Map<string, CounterSlot> }>();
  readonly #httpSlots = new Map<string, { readonly duration: HistogramSlot; readonly statuses: Map<number, CounterSlot> }>();

  observeDecision(decision: AuthDecision): void {
    (decision.allowed ? (this.#outcomes.allow[decision.tier] ?? this.decisions.slot({ effect: "allow", tier: decision.tier })) : this.#outcomes.deny).value++;
    this.decisionSeconds.observe(this.#decisionSlot, decision.evaluationTimeMs / 1000);
  }

  /** A finished call: its method, status code name and duration in seconds. */
  observeCall(method: string, code: string, seconds: number): void {
    let m = this.#rpcSlots.get(method);
    if (m === undefined) {
      m = { duration: this.rpcSeconds.slot({ method }), codes: new Map() };
      this.#rpcSlots.set(method, m);
    }
    let c = m.codes.get(code);
    if (c === undefined) {
      c = this.rpcs.slot({ method, code });
      m.codes.set(code, c);
    }
    c.value++;
    this.rpcSeconds.observe(m.duration, seconds);
  }

  /** An answered HTTP request: its route pattern, status and duration in seconds. */
  observeHttp(route: string, status: number, seconds: number): void {
    let r = this.#httpSlots.get(route);
    if (r === undefined) {
      r = { duration: this.httpSeconds.slot({ route }), statuses: new Map() };
      this.#httpSlots.set(route, r);
    }
    let c = r.statuses.get(status);
    if (c === undefined) {
      c = this.httpRequests.slot({ route, status: String(status) });
      r.statuses.set(status, c);
    }
    c.value++;
    this.httpSeconds.observe(r.duration, seconds);
  }

  /** A decision's state read and how long it took (seconds). */
  observeStateRead(seconds: number): void {
    this.storeSeconds.observe(this.#storeSlot, seconds);
  }

  setPolicy(revision: string, name: string, version: string): void {
    this.policyInfo.reset();
    this.policyInfo.set({ revision, name, version }, 1);
  }
}

/** A running /metrics endpoint. */
export interface MetricsEndpoint {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` (Prometheus text format) on host:port. */
export async function serveMetrics(metrics: ServerMetrics, host: string, port: number): Promise<MetricsEndpoint> {
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url !== "/metrics" && !req.url?.startsWith("/metrics?"))) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: metrics are at /metrics\n");
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`cannot collect metrics: ${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    address: `${host.includes(":") ? `[${host}]` : host}:${bound}`,
    port: bound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
