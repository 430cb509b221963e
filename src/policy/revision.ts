import { createHash } from "node:crypto";
import { DEFAULT_APPROVERS } from "../config/build.ts";
import type { AuthConfig } from "../config/types.ts";

/**
 * The policy revision: a short content hash of the parsed config (after
 * `${ENV}` interpolation). Formatting and comments do not change it; any change
 * that can change a decision does. The `audit` section is left out: where a
 * replica writes its log does not change what it decides, so replicas with
 * different log paths still report one revision. The `approvals` section
 * counts only when it differs from the defaults, so a policy that leaves it
 * out keeps the revision it had before approvals existed.
 */
export function policyRevision(config: AuthConfig): string {
  const { audit: _audit, approvals, ...rest } = config;
  const decisive = isDefault(approvals) ? rest : { ...rest, approvals };
  const canonical = JSON.stringify(decisive, (_key, value: unknown) =>
    value instanceof Map ? [...(value as Map<unknown, unknown>).entries()] : value,
  );
  // The first 8 bytes' hex as a string of its own (every decision and record carries it), not a view of the whole digest's.
  return createHash("sha256").update(canonical).digest().toString("hex", 0, 8);
}

const DEFAULT_APPROVALS = JSON.stringify(defaultApprovals());

function defaultApprovals(): AuthConfig["approvals"] {
  return { pendingTtl: 3600, grantTtl: 900, maxUses: 1, historyTtl: 7 * 86400, maxPending: 100, approvers: { soft: DEFAULT_APPROVERS.soft, strong: DEFAULT_APPROVERS.strong } };
}

function isDefault(a: AuthConfig["approvals"]): boolean {
  return JSON.stringify(a) === DEFAULT_APPROVALS;
}
