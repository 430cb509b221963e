import type { AuditHub } from "../../audit/hub.ts";
import type { AuthEngine } from "../../engine/auth-engine.ts";
import type { Logger } from "../logger.ts";
import type { ServerMetrics } from "../metrics.ts";
import type { PolicyReloader } from "../reload.ts";
import type { ReplicaInfo } from "../../state/redis/index.ts";
import type { ConfigLimits } from "../../config/index.ts";
import type { CallerCheck } from "../callers.ts";

/** What the service handlers work with. */
export interface ServiceContext {
  readonly engine: AuthEngine;
  /** The audit stream this server serves to subscribers. */
  readonly hub: AuditHub;
  /** Largest AuthorizeBatch accepted. */
  readonly maxBatch: number;
  readonly logger: Logger;
  readonly metrics?: ServerMetrics | undefined;
  /** Reloads the policy file; undefined when the server was given no file. */
  readonly reloader?: PolicyReloader | undefined;
  /** The replicas serving this deployment and their revisions (this server alone without Redis). */
  readonly replicas?: (() => Promise<ReplicaInfo[]>) | undefined;
  /** Limits for policies this server reads (ValidatePolicy uses the same as a reload). */
  readonly configLimits?: Partial<ConfigLimits> | undefined;
  /** The caller check, when callers are configured: approvals read the caller's identity from it. */
  readonly callerCheck?: CallerCheck | undefined;
  /** Which approval callback URLs the server accepts; undefined: none. */
  readonly callbacks?: { refusal(url: string): string | undefined } | undefined;
}
