import type { DelegationConfig } from "../config/types.ts";
import { compilePatternSet, parseGlob, type PatternSet } from "./fnmatch.ts";
import { globContained } from "./glob-containment.ts";

interface CompiledRule {
  readonly name: string;
  /** Undefined when the rule allows any action. */
  readonly allowed: PatternSet | undefined;
  readonly patterns: readonly string[];
  readonly maxDuration: number;
  readonly requireReason: boolean;
}

/**
 * Checks a proposed delegation against `delegation:` settings and every rule
 * (rules are AND-ed). A delegated action is allowed by a rule when every action
 * it can match is matched by one of the rule's patterns: a plain name must
 * match one, and a pattern must be contained in them (`pr:12*` and `pr:?` are
 * inside `pr:*`; `report*` is not inside `report?`, nor `invoice:*` inside
 * `invoice:[!0-9]`).
 */
export class DelegationRules {
  readonly #config: DelegationConfig;
  readonly #rules: readonly CompiledRule[];

  constructor(config: DelegationConfig) {
    this.#config = config;
    this.#rules = config.rules.map((r) => ({
      name: r.name,
      allowed: r.allowedActions.length === 0 ? undefined : compilePatternSet(r.allowedActions),
      patterns: r.allowedActions,
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
          if (!covers(rule.allowed, rule.patterns, action)) {
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

/** Whether every action `delegated` can match is matched by `allowed` (compiled from `patterns`). */
function covers(allowed: PatternSet, patterns: readonly string[], delegated: string): boolean {
  // A pattern of literals only (an unclosed `[` is literal) is the one name it matches.
  if (parseGlob(delegated).every((t) => t.kind === "literal")) return allowed.matches(delegated);
  return globContained(delegated, patterns);
}
