import type { AuthConfig } from "./types.ts";

/** A plain JSON view of a config with the YAML's snake_case keys (for `inspect -o json`). */
export function configToJson(c: AuthConfig): Record<string, unknown> {
  return {
    version: c.version,
    metadata: { ...c.metadata },
    variables: Object.fromEntries(c.variables),
    roles: Object.fromEntries([...c.roles].map(([name, r]) => [name, { actions: r.actions, extends: r.extends, description: r.description }])),
    profiles: Object.fromEntries(
      [...c.profiles].map(([name, p]) => [
        name,
        {
          role: p.role,
          allow: p.allow,
          deny: p.deny,
          scopes: p.scopes,
          max_session_duration: p.maxSessionDuration,
          default_tier: p.defaultTier,
          description: p.description,
        },
      ]),
    ),
    approval_policies: c.approvalPolicies.map((p) => ({ name: p.name, condition: p.condition, tier: p.tier, description: p.description })),
    delegation: {
      enabled: c.delegation.enabled,
      default_duration: c.delegation.defaultDuration,
      max_duration: c.delegation.maxDuration,
      rules: c.delegation.rules.map((r) => ({
        name: r.name,
        allowed_actions: r.allowedActions,
        max_duration: r.maxDuration,
        require_reason: r.requireReason,
        description: r.description,
      })),
    },
    a2a: {
      default: c.a2a.default,
      policies: c.a2a.policies.map((p) => ({
        name: p.name,
        from_agent: p.fromAgent,
        to_agent: p.toAgent,
        action: p.action,
        effect: p.effect,
        condition: p.condition,
        description: p.description,
      })),
    },
    sessions: { default_duration: c.sessions.defaultDuration, max_duration: c.sessions.maxDuration, cleanup_interval: c.sessions.cleanupInterval, require_scope: c.sessions.requireScope },
    audit: {
      enabled: c.audit.enabled,
      path: c.audit.path,
      retention_days: c.audit.retentionDays,
      durability: c.audit.durability,
      stream_max_length: c.audit.streamMaxLength,
      include_metadata: c.audit.includeMetadata,
      buffer_bytes: c.audit.bufferBytes,
    },
    approvals: {
      pending_ttl: c.approvals.pendingTtl,
      grant_ttl: c.approvals.grantTtl,
      max_uses: c.approvals.maxUses,
      history_ttl: c.approvals.historyTtl,
      max_pending: c.approvals.maxPending,
      approvers: { soft: [...c.approvals.approvers.soft], strong: [...c.approvals.approvers.strong] },
    },
  };
}
