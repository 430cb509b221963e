import type { A2AConfig, VariableValue } from "../config/types.ts";
import { compileExpression, type CompiledExpression, type ExpressionLimits } from "../expr/index.ts";
import type { NormalizedRequest } from "../model/request.ts";
import { a2aFields } from "./condition-fields.ts";
import { compileGlob } from "./fnmatch.ts";

/** Outcome of the agent-to-agent check. */
export interface A2AResult {
  readonly allowed: boolean;
  readonly reason: string;
}

/** An A2A rule as compiled, in file order (for explanations). */
export interface CompiledA2APolicy {
  readonly name: string;
  readonly fromAgent: string;
  readonly toAgent: string;
  readonly actionPattern: string;
  readonly deny: boolean;
  readonly from: (agent: string) => boolean;
  readonly to: (agent: string) => boolean;
  readonly action: (action: string) => boolean;
  readonly condition: CompiledExpression<NormalizedRequest>;
  readonly label: string;
}

const DEFAULT_ALLOW: A2AResult = Object.freeze({ allowed: true, reason: "Allowed by default A2A policy" });
const DEFAULT_DENY: A2AResult = Object.freeze({ allowed: false, reason: "Denied by default A2A policy" });

/**
 * Decides whether an agent may call another agent.
 *
 * A deny rule that matches wins over any allow rule; otherwise a matching allow
 * rule allows; otherwise the default applies. A condition that fails to
 * evaluate makes a deny rule match and an allow rule not match (fail closed).
 */
export class A2AEvaluator {
  readonly #policies: readonly CompiledA2APolicy[];
  readonly #default: A2AResult;
  /** Every rule in file order (decisions use them through {@link evaluate}). */
  readonly rules: readonly CompiledA2APolicy[];
  /** What applies when no rule matches. */
  readonly defaultResult: A2AResult;

  constructor(
    config: A2AConfig,
    variables: ReadonlyMap<string, VariableValue>,
    limits?: Partial<ExpressionLimits>,
  ) {
    this.#default = config.default === "allow" ? DEFAULT_ALLOW : DEFAULT_DENY;
    this.#policies = config.policies.map((p) => ({
      name: p.name,
      fromAgent: p.fromAgent,
      toAgent: p.toAgent,
      actionPattern: p.action,
      deny: p.effect === "deny",
      from: compileGlob(p.fromAgent),
      to: compileGlob(p.toAgent),
      action: compileGlob(p.action),
      condition: compileExpression<NormalizedRequest>(p.condition, {
        variables,
        fields: a2aFields,
        ...(limits === undefined ? {} : { limits }),
      }),
      label: p.description === "" ? p.name : p.description,
    }));
    this.rules = this.#policies;
    this.defaultResult = this.#default;
  }

  /** Evaluates the rules for `request.agent` calling `request.targetAgent`. */
  evaluate(request: NormalizedRequest): A2AResult {
    let allowLabel: string | undefined;
    for (const p of this.#policies) {
      if (!p.from(request.agent) || !p.to(request.targetAgent) || !p.action(request.action)) continue;
      let matched: boolean;
      try {
        matched = p.condition.test(request);
      } catch {
        matched = p.deny;
      }
      if (!matched) continue;
      // The first matching deny decides; nothing after it can change the outcome.
      if (p.deny) return { allowed: false, reason: `Denied by A2A policy: ${p.label}` };
      allowLabel ??= p.label;
    }
    if (allowLabel !== undefined) return { allowed: true, reason: `Allowed by A2A policy: ${allowLabel}` };
    return this.#default;
  }
}
