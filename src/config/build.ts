import type { ConfigReader } from "./reader.ts";
import { entry, join } from "./reader.ts";
import type {
  A2APolicyConfig,
  AgentProfileConfig,
  ApprovalPolicyConfig,
  AuthConfig,
  DelegationRuleConfig,
  RoleConfig,
  VariableValue,
} from "./types.ts";
import type { YamlMap, YamlNode } from "./yaml.ts";

const ROOT_KEYS = ["version", "metadata", "variables", "roles", "profiles", "approval_policies", "delegation", "a2a", "sessions", "audit", "approvals"];
const METADATA_KEYS = ["name", "description", "author"];
const ROLE_KEYS = ["actions", "extends", "description"];
const PROFILE_KEYS = ["role", "allow", "deny", "scopes", "max_session_duration", "default_tier", "description"];
const APPROVAL_KEYS = ["name", "condition", "tier", "description"];
const DELEGATION_KEYS = ["enabled", "default_duration", "max_duration", "rules"];
const RULE_KEYS = ["name", "allowed_actions", "max_duration", "require_reason", "description"];
const A2A_KEYS = ["default", "policies"];
const A2A_POLICY_KEYS = ["name", "from_agent", "to_agent", "action", "effect", "condition", "description"];
const SESSION_KEYS = ["default_duration", "max_duration", "cleanup_interval", "require_scope"];
const APPROVALS_KEYS = ["pending_ttl", "grant_ttl", "max_uses", "history_ttl", "max_pending", "approvers"];
const APPROVERS_KEYS = ["soft", "strong"];
/** Approvers when the policy names none: soft — the user or any approver; strong — any approver (never the user or agent). */
export const DEFAULT_APPROVERS = Object.freeze({ soft: Object.freeze(["self", "*"]), strong: Object.freeze(["*"]) });
const AUDIT_KEYS = ["enabled", "path", "retention_days", "durability", "stream_max_length", "include_metadata", "buffer_bytes"];

/** Every key the loader reads, by section (the JSON Schema is checked against these by a test). */
export const POLICY_KEYS = Object.freeze({
  root: ROOT_KEYS,
  metadata: METADATA_KEYS,
  role: ROLE_KEYS,
  profile: PROFILE_KEYS,
  approvalPolicy: APPROVAL_KEYS,
  delegation: DELEGATION_KEYS,
  delegationRule: RULE_KEYS,
  a2a: A2A_KEYS,
  a2aPolicy: A2A_POLICY_KEYS,
  sessions: SESSION_KEYS,
  audit: AUDIT_KEYS,
  approvals: APPROVALS_KEYS,
  approvers: APPROVERS_KEYS,
});

/**
 * Builds the typed config from the YAML tree with the original's defaults.
 * Problems go to the reader; the result is complete either way (defaults fill
 * in), so validation can still report everything else.
 */
export function buildConfig(root: YamlMap, r: ConfigReader): AuthConfig {
  r.map(root, "", ROOT_KEYS);
  const metadata = r.map(entry(root, "metadata"), "metadata", METADATA_KEYS);
  const delegation = r.map(entry(root, "delegation"), "delegation", DELEGATION_KEYS);
  const a2a = r.map(entry(root, "a2a"), "a2a", A2A_KEYS);
  const sessions = r.map(entry(root, "sessions"), "sessions", SESSION_KEYS);
  const audit = r.map(entry(root, "audit"), "audit", AUDIT_KEYS);
  const approvals = r.map(entry(root, "approvals"), "approvals", APPROVALS_KEYS);
  const approvers = r.map(entry(approvals, "approvers"), "approvals.approvers", APPROVERS_KEYS);
  const approverList = (tier: "soft" | "strong"): readonly string[] => {
    const node = entry(approvers, tier);
    return node === undefined || (node.kind === "scalar" && node.type === "null") ? DEFAULT_APPROVERS[tier] : r.strings(node, `approvals.approvers.${tier}`);
  };
  const durability = r.string(entry(audit, "durability"), "audit.durability", "async");
  if (durability !== "sync" && durability !== "async") {
    r.problem("audit.durability", `audit.durability: invalid durability '${r.shown("audit.durability", durability)}', expected one of ['async', 'sync']`, entry(audit, "durability"));
  }
  return {
    version: r.string(entry(root, "version"), "version", "1.0"),
    metadata: {
      name: r.string(entry(metadata, "name"), "metadata.name", ""),
      description: r.string(entry(metadata, "description"), "metadata.description", ""),
      author: r.string(entry(metadata, "author"), "metadata.author", ""),
    },
    variables: variables(r.map(entry(root, "variables"), "variables", undefined), r),
    roles: named(r.map(entry(root, "roles"), "roles", undefined), "roles", r, (node, name, path): RoleConfig => {
      const m = r.map(node, path, ROLE_KEYS);
      return {
        name,
        actions: r.strings(entry(m, "actions"), join(path, "actions")),
        extends: r.string(entry(m, "extends"), join(path, "extends"), ""),
        description: r.string(entry(m, "description"), join(path, "description"), ""),
      };
    }),
    profiles: named(r.map(entry(root, "profiles"), "profiles", undefined), "profiles", r, (node, name, path): AgentProfileConfig => {
      const m = r.map(node, path, PROFILE_KEYS);
      return {
        name,
        role: r.string(entry(m, "role"), join(path, "role"), ""),
        allow: r.strings(entry(m, "allow"), join(path, "allow")),
        deny: r.strings(entry(m, "deny"), join(path, "deny")),
        scopes: r.strings(entry(m, "scopes"), join(path, "scopes")),
        maxSessionDuration: r.integer(entry(m, "max_session_duration"), join(path, "max_session_duration"), 3600),
        defaultTier: r.string(entry(m, "default_tier"), join(path, "default_tier"), "autonomous"),
        description: r.string(entry(m, "description"), join(path, "description"), ""),
      };
    }),
    approvalPolicies: listed(entry(root, "approval_policies"), "approval_policies", r, (m, path): ApprovalPolicyConfig => {
      r.map(m, path, APPROVAL_KEYS);
      return {
        name: r.string(entry(m, "name"), join(path, "name"), ""),
        condition: r.string(entry(m, "condition"), join(path, "condition"), ""),
        tier: r.string(entry(m, "tier"), join(path, "tier"), "soft"),
        description: r.string(entry(m, "description"), join(path, "description"), ""),
      };
    }),
    delegation: {
      enabled: r.boolean(entry(delegation, "enabled"), "delegation.enabled", true),
      defaultDuration: r.integer(entry(delegation, "default_duration"), "delegation.default_duration", 3600),
      maxDuration: r.integer(entry(delegation, "max_duration"), "delegation.max_duration", 86400),
      rules: listed(entry(delegation, "rules"), "delegation.rules", r, (m, path): DelegationRuleConfig => {
        r.map(m, path, RULE_KEYS);
        return {
          name: r.string(entry(m, "name"), join(path, "name"), ""),
          allowedActions: r.strings(entry(m, "allowed_actions"), join(path, "allowed_actions")),
          maxDuration: r.integer(entry(m, "max_duration"), join(path, "max_duration"), 86400),
          requireReason: r.boolean(entry(m, "require_reason"), join(path, "require_reason"), false),
          description: r.string(entry(m, "description"), join(path, "description"), ""),
        };
      }),
    },
    a2a: {
      default: r.string(entry(a2a, "default"), "a2a.default", "deny"),
      policies: listed(entry(a2a, "policies"), "a2a.policies", r, (m, path): A2APolicyConfig => {
        r.map(m, path, A2A_POLICY_KEYS);
        return {
          name: r.string(entry(m, "name"), join(path, "name"), ""),
          fromAgent: r.string(entry(m, "from_agent"), join(path, "from_agent"), "*"),
          toAgent: r.string(entry(m, "to_agent"), join(path, "to_agent"), "*"),
          action: r.string(entry(m, "action"), join(path, "action"), "*"),
          effect: r.string(entry(m, "effect"), join(path, "effect"), "allow"),
          condition: r.string(entry(m, "condition"), join(path, "condition"), ""),
          description: r.string(entry(m, "description"), join(path, "description"), ""),
        };
      }),
    },
    sessions: {
      defaultDuration: r.integer(entry(sessions, "default_duration"), "sessions.default_duration", 3600),
      maxDuration: r.integer(entry(sessions, "max_duration"), "sessions.max_duration", 86400),
      cleanupInterval: r.integer(entry(sessions, "cleanup_interval"), "sessions.cleanup_interval", 300),
      requireScope: r.boolean(entry(sessions, "require_scope"), "sessions.require_scope", false),
    },
    audit: {
      enabled: r.boolean(entry(audit, "enabled"), "audit.enabled", true),
      path: r.string(entry(audit, "path"), "audit.path", ".agent_auth/audit.jsonl"),
      retentionDays: r.integer(entry(audit, "retention_days"), "audit.retention_days", 90),
      durability: durability === "sync" ? "sync" : "async",
      streamMaxLength: r.integer(entry(audit, "stream_max_length"), "audit.stream_max_length", 100_000),
      includeMetadata: r.boolean(entry(audit, "include_metadata"), "audit.include_metadata", false),
      bufferBytes: r.integer(entry(audit, "buffer_bytes"), "audit.buffer_bytes", 8 * 1024 * 1024),
    },
    approvals: {
      pendingTtl: r.integer(entry(approvals, "pending_ttl"), "approvals.pending_ttl", 3600),
      grantTtl: r.integer(entry(approvals, "grant_ttl"), "approvals.grant_ttl", 900),
      maxUses: r.integer(entry(approvals, "max_uses"), "approvals.max_uses", 1),
      historyTtl: r.integer(entry(approvals, "history_ttl"), "approvals.history_ttl", 7 * 86400),
      maxPending: r.integer(entry(approvals, "max_pending"), "approvals.max_pending", 100),
      approvers: { soft: approverList("soft"), strong: approverList("strong") },
    },
  };
}

function variables(m: YamlMap | undefined, r: ConfigReader): Map<string, VariableValue> {
  const out = new Map<string, VariableValue>();
  if (m === undefined) return out;
  for (const [name, { value }] of m.entries) out.set(name, r.data(value, join("variables", name)) as VariableValue);
  return out;
}

/** A mapping of named entries (roles, profiles); a null entry is an empty one. */
function named<T>(
  m: YamlMap | undefined,
  section: string,
  r: ConfigReader,
  build: (node: YamlNode | undefined, name: string, path: string) => T,
): Map<string, T> {
  const out = new Map<string, T>();
  if (m === undefined) return out;
  for (const [name, { value }] of m.entries) out.set(name, build(value, name, join(section, name)));
  return out;
}

/** A list of mappings (policies, rules); a non-mapping item is reported and skipped. */
function listed<T>(node: YamlNode | undefined, path: string, r: ConfigReader, build: (m: YamlMap, path: string) => T): T[] {
  const items = r.list(node, path);
  if (items === undefined) return [];
  const out: T[] = [];
  items.forEach((item, i) => {
    const p = `${path}[${i}]`;
    if (item.kind !== "map") {
      r.problem(p, `${p}: expected a mapping, got ${item.kind === "seq" ? "a list" : item.type === "null" ? "null" : `'${item.text}'`}`, item);
      return;
    }
    out.push(build(item, p));
  });
  return out;
}
