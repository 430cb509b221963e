import type { DelegationConfig } from "../config/types.ts";
import { compilePatternSet, type PatternSet } from "./fnmatch.ts";

interface CompiledRule {
  readonly name: string;
  /** Undefined when the rule allows any action. */
  readonly allowed: PatternSet | undefined;
  readonly maxDuration: number;
  readonly requireReason: boolean;
}

/**
 * Checks a proposed delegation against `delegation:` settings and every rule
 * (rules are AND-ed). Delegated actions are tested as literal names against the
 * rules' patterns, so delegating `*` needs a rule pattern that matches the
 * text `*`.
 */
export class DelegationRules {
  readonly #config: DelegationConfig;
  readonly #rules: readonly CompiledRule[];

  constructor(config: DelegationConfig) {
    this.#config = config;
    this.#rules = config.rules.map((r) => ({
      name: r.name,
      allowed: r.allowedActions.length === 0 ? undefined : compilePatternSet(r.allowedActions),
      maxDuration: r.maxDuration,
      requireReason: r.requireReason,
    }));
  }

  /** Every problem with the delegation, in the original's order; empty when valid. */
  validate(actions: readonly string[], durationSeconds: number, reason: string): string[] {
    if (!this.#config.enabled) return ["Delegation is disabled"];
    const errors: string[] = [];
    if (durationSeconds > this.#config.maxDuration) {
      errors.push(`Duration (${durationSeconds}s) exceeds max_duration (${this.#config.maxDuration}s)`);
    }
    for (const rule of this.#rules) {
      if (rule.allowed !== undefined) {
        for (const action of actions) {
          if (!rule.allowed.matches(action)) {
            errors.push(`Action '${action}' not allowed by delegation rule '${rule.name}'`);
          }
        }
      }
      if (durationSeconds > rule.maxDuration) {
        errors.push(`Duration (${durationSeconds}s) exceeds rule '${rule.name}' max_duration (${rule.maxDuration}s)`);
      }
      if (rule.requireReason && reason === "") {
        errors.push(`Delegation rule '${rule.name}' requires a reason`);
      }
    }
    return errors;
  }
}
