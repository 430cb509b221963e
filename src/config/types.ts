/**
 * The typed, validated, immutable form of an `agent_auth.yaml` policy file.
 *
 * Field names follow TypeScript naming; the YAML keys they come from are given
 * in docs/config.md (`max_session_duration` → `maxSessionDuration`, …). Every
 * object returned by `parseConfig` / `loadConfig` is deeply frozen.
 */

/** A value a policy variable (`variables:`) can hold: plain YAML data. */
export type VariableValue =
  | null
  | boolean
  | number
  | string
  | readonly VariableValue[]
  | { readonly [key: string]: VariableValue };

/** Policy-level metadata (`metadata:`). */
export interface AuthMetadata {
  readonly name: string;
  readonly description: string;
  readonly author: string;
}

/** A named role (`roles.NAME`): actions, optionally inheriting a parent's. */
export interface RoleConfig {
  readonly name: string;
  /** fnmatch patterns. */
  readonly actions: readonly string[];
  /** Name of the parent role, "" when none. */
  readonly extends: string;
  readonly description: string;
}

/** An agent profile (`profiles.NAME`); the profile name is the agent name. */
export interface AgentProfileConfig {
  readonly name: string;
  /** Role name, "" when none. */
  readonly role: string;
  /** fnmatch patterns added to the role's actions. */
  readonly allow: readonly string[];
  /** fnmatch patterns that deny, checked before anything else. */
  readonly deny: readonly string[];
  /** fnmatch patterns for request scopes; empty means every scope. */
  readonly scopes: readonly string[];
  /** Seconds; the default session duration for this agent. */
  readonly maxSessionDuration: number;
  readonly defaultTier: string;
  readonly description: string;
}

/** A conditional approval policy (`approval_policies[i]`). */
export interface ApprovalPolicyConfig {
  readonly name: string;
  /** Condition source text; "" means "always". */
  readonly condition: string;
  readonly tier: string;
  readonly description: string;
}

/** A rule every delegation must satisfy (`delegation.rules[i]`). */
export interface DelegationRuleConfig {
  readonly name: string;
  /** fnmatch patterns; empty means any action. */
  readonly allowedActions: readonly string[];
  /** Seconds. */
  readonly maxDuration: number;
  readonly requireReason: boolean;
  readonly description: string;
}

/** `delegation:` */
export interface DelegationConfig {
  readonly enabled: boolean;
  /** Seconds. */
  readonly defaultDuration: number;
  /** Seconds. */
  readonly maxDuration: number;
  readonly rules: readonly DelegationRuleConfig[];
}

/** An agent-to-agent rule (`a2a.policies[i]`). */
export interface A2APolicyConfig {
  readonly name: string;
  /** fnmatch pattern for the calling agent. */
  readonly fromAgent: string;
  /** fnmatch pattern for the target agent. */
  readonly toAgent: string;
  /** fnmatch pattern for the action. */
  readonly action: string;
  readonly effect: string;
  /** Condition source text; "" means "always". */
  readonly condition: string;
  readonly description: string;
}

/** `a2a:` */
export interface A2AConfig {
  readonly default: string;
  readonly policies: readonly A2APolicyConfig[];
}

/** `sessions:` */
export interface SessionConfig {
  /** Seconds. */
  readonly defaultDuration: number;
  /** Seconds. */
  readonly maxDuration: number;
  /** Seconds; accepted for compatibility, expiry needs no sweeper here. */
  readonly cleanupInterval: number;
  /**
   * A request in a session with a scope must name a scope itself (else it is
   * denied). Default false: the original let such requests through.
   */
  readonly requireScope: boolean;
}

/** `audit:` */
export interface AuditConfig {
  readonly enabled: boolean;
  /** JSONL file the local audit sink appends to. */
  readonly path: string;
  readonly retentionDays: number;
  /**
   * `sync`: a decision is returned only after its audit record is stored (with
   * Redis, in the same round trip as the state read); `async`: records are
   * batched off the decision path. Default `async`.
   */
  readonly durability: "sync" | "async";
  /** Upper bound on the shared audit stream's length (approximate trimming). */
  readonly streamMaxLength: number;
  /**
   * Records carry the request's metadata (`"metadata"`, last field), so
   * `agent-auth replay` can re-decide them exactly. Off by default: metadata
   * can be large and can hold personal data.
   */
  readonly includeMetadata: boolean;
  /**
   * Bytes of records the JSONL file may hold in memory while it cannot be
   * written (a full disk). Without Redis the file is the record: past this
   * bound decisions deny (`Audit log unavailable`); with Redis it is a copy:
   * past it, copies are dropped and counted. Default 8 MiB.
   */
  readonly bufferBytes: number;
}

/** The approvals section: how long approval tasks live and who may decide them. */
export interface ApprovalsConfig {
  /** Seconds a pending task waits for an answer before it expires. */
  readonly pendingTtl: number;
  /** Seconds an approval stays redeemable once granted. */
  readonly grantTtl: number;
  /** Redemptions per approval. */
  readonly maxUses: number;
  /** Seconds a task is kept (readable, listed) after it stops being usable. */
  readonly historyTtl: number;
  /** Pending tasks one agent may have open for one user at a time. */
  readonly maxPending: number;
  /**
   * Approver identity patterns (fnmatch) per tier; `self` stands for the
   * request's user (soft tier only). Defaults: soft `[self, "*"]`, strong `["*"]`.
   */
  readonly approvers: { readonly soft: readonly string[]; readonly strong: readonly string[] };
}

/** The whole policy file. */
export interface AuthConfig {
  readonly version: string;
  readonly metadata: AuthMetadata;
  /** `$name` values available to conditions, in file order. */
  readonly variables: ReadonlyMap<string, VariableValue>;
  /** In file order. */
  readonly roles: ReadonlyMap<string, RoleConfig>;
  /** In file order. */
  readonly profiles: ReadonlyMap<string, AgentProfileConfig>;
  /** In file order; order matters for `approval_policy` reporting. */
  readonly approvalPolicies: readonly ApprovalPolicyConfig[];
  readonly delegation: DelegationConfig;
  readonly a2a: A2AConfig;
  readonly sessions: SessionConfig;
  readonly audit: AuditConfig;
  readonly approvals: ApprovalsConfig;
}
