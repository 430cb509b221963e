import { createHash } from "node:crypto";
import type { AuthConfig } from "../config/types.ts";

/**
 * The policy revision: a short content hash of the parsed config (after
 * `${ENV}` interpolation). Formatting and comments do not change it; any change
 * that can change a decision does. The `audit` section is left out: where a
 * replica writes its log does not change what it decides, so replicas with
 * different log paths still report one revision.
 */
export function policyRevision(config: AuthConfig): string {
  const { audit: _audit, ...decisive } = config;
  const canonical = JSON.stringify(decisive, (_key, value: unknown) =>
    value instanceof Map ? [...(value as Map<unknown, unknown>).entries()] : value,
  );
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}
