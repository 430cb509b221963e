import type { RoleConfig } from "../config/types.ts";

/** A role with its inherited actions folded in. */
export interface ResolvedRole {
  readonly name: string;
  /** Own and inherited action patterns. */
  readonly actions: ReadonlySet<string>;
  /** Root ancestor first, this role last. */
  readonly chain: readonly string[];
}

/**
 * Resolves every role's inheritance. Expects a validated config (no missing
 * parents, no cycles); a cycle or a missing parent still terminates, it just
 * stops following the chain.
 */
export function resolveRoles(roles: ReadonlyMap<string, RoleConfig>): ReadonlyMap<string, ResolvedRole> {
  const resolved = new Map<string, ResolvedRole>();
  const resolve = (name: string, seen: Set<string>): ResolvedRole | undefined => {
    const done = resolved.get(name);
    if (done !== undefined) return done;
    const role = roles.get(name);
    if (role === undefined || seen.has(name)) return undefined;
    seen.add(name);
    const parent = role.extends === "" ? undefined : resolve(role.extends, seen);
    const actions = new Set(parent?.actions);
    for (const a of role.actions) actions.add(a);
    const result: ResolvedRole = Object.freeze({
      name,
      actions,
      chain: Object.freeze([...(parent?.chain ?? []), name]),
    });
    resolved.set(name, result);
    return result;
  };
  for (const name of roles.keys()) resolve(name, new Set());
  return resolved;
}
