import type { ApprovalPolicyConfig, VariableValue } from "../config/types.ts";
import { compileExpression, type CompiledExpression, type ExpressionLimits } from "../expr/index.ts";
import type { NormalizedRequest } from "../model/request.ts";
import { TIER_ORDER, type ApprovalTier } from "../model/types.ts";
import { approvalFields } from "./condition-fields.ts";
import { PrefixIndex } from "./prefix-index.ts";

/** The tier a request needs and the policy that set it ("" if none did). */
export interface ApprovalResult {
  readonly tier: ApprovalTier;
  readonly policy: string;
}

/** An approval policy as compiled, in file order (for explanations). */
export interface CompiledApprovalPolicy {
  /** Position in the file: the lowest matching index names the tier's policy. */
  readonly index: number;
  readonly name: string;
  readonly rank: number;
  readonly condition: CompiledExpression<NormalizedRequest>;
}

const TIER_BY_RANK: readonly ApprovalTier[] = ["autonomous", "soft", "strong"];
const AUTONOMOUS: ApprovalResult = Object.freeze({ tier: "autonomous", policy: "" });
const NONE: readonly CompiledApprovalPolicy[] = Object.freeze([]);

/** Running state of one evaluation (reused: evaluation is synchronous). */
class Tally {
  rank = 0;
  softIndex = Number.POSITIVE_INFINITY;
  soft = "";
  strongIndex = Number.POSITIVE_INFINITY;
  strong = "";

  reset(rank: number): void {
    this.rank = rank;
    this.softIndex = Number.POSITIVE_INFINITY;
    this.soft = "";
    this.strongIndex = Number.POSITIVE_INFINITY;
    this.strong = "";
  }
}

/**
 * Decides approval tiers from the approval policies.
 *
 * Tiers only escalate from the profile's default; the most restrictive
 * matching policy wins, and the earliest matching policy (in file order) with
 * that tier is reported. A condition that fails to evaluate counts as matched
 * (fail closed).
 *
 * Policies are indexed so a request evaluates only those that could match it:
 * by the `action` values their conditions require, else by the `resource`
 * prefixes they require, else they are evaluated for every request. The
 * indexes are derived conservatively from each condition (a condition that
 * would throw counts as matching), so skipping a policy never changes a
 * decision.
 */
export class ApprovalEvaluator {
  readonly #byAction: ReadonlyMap<string, readonly CompiledApprovalPolicy[]>;
  readonly #byResource: PrefixIndex<CompiledApprovalPolicy>;
  readonly #always: readonly CompiledApprovalPolicy[];
  readonly #tally = new Tally();
  readonly size: number;
  /** Every policy in file order; decisions go through the indexes instead. */
  readonly policies: readonly CompiledApprovalPolicy[];
  /** How many policies each index holds (for `inspect` and benchmarks). */
  readonly indexed: { readonly byAction: number; readonly byResourcePrefix: number; readonly always: number };

  constructor(
    policies: readonly ApprovalPolicyConfig[],
    variables: ReadonlyMap<string, VariableValue>,
    limits?: Partial<ExpressionLimits>,
  ) {
    const byAction = new Map<string, CompiledApprovalPolicy[]>();
    const byResource = new PrefixIndex<CompiledApprovalPolicy>();
    const always: CompiledApprovalPolicy[] = [];
    const counts = { byAction: 0, byResourcePrefix: 0, always: 0 };
    const ordered: CompiledApprovalPolicy[] = [];
    policies.forEach((p, index) => {
      const policy: CompiledApprovalPolicy = {
        index,
        name: p.name,
        rank: TIER_ORDER[p.tier as ApprovalTier] ?? 0,
        condition: compileExpression<NormalizedRequest>(p.condition, {
          variables,
          fields: approvalFields,
          ...(limits === undefined ? {} : { limits }),
        }),
      };
      ordered.push(policy);
      const actions = policy.condition.requiredValues("action");
      if (actions !== undefined) {
        counts.byAction++;
        for (const action of actions) {
          const list = byAction.get(action);
          if (list === undefined) byAction.set(action, [policy]);
          else list.push(policy);
        }
        return;
      }
      const prefixes = policy.condition.requiredPrefixes("resource");
      if (prefixes !== undefined) {
        counts.byResourcePrefix++;
        for (const prefix of prefixes) byResource.add(prefix, policy);
        return;
      }
      counts.always++;
      always.push(policy);
    });
    this.#byAction = byAction;
    this.#byResource = byResource;
    this.#always = Object.freeze(always);
    this.size = policies.length;
    this.policies = Object.freeze(ordered);
    this.indexed = Object.freeze(counts);
  }

  /** The tier for an allowed request, starting from the profile's default rank. */
  evaluate(request: NormalizedRequest, defaultRank: number): ApprovalResult {
    const t = this.#tally;
    t.reset(defaultRank);
    this.#visit(this.#byAction.get(request.action) ?? NONE, request);
    this.#visit(this.#always, request);
    if (this.#byResource.size > 0) this.#byResource.forEachPrefixOf(request.resource, (list) => this.#visit(list, request));
    if (t.rank === 0) return AUTONOMOUS;
    return { tier: TIER_BY_RANK[t.rank]!, policy: t.rank === 2 ? t.strong : t.soft };
  }

  #visit(candidates: readonly CompiledApprovalPolicy[], request: NormalizedRequest): void {
    const t = this.#tally;
    for (let i = 0; i < candidates.length; i++) {
      const p = candidates[i]!;
      // Nothing this policy could change: its tier's name is already settled earlier in the file.
      if (p.rank === 2 ? p.index > t.strongIndex : p.rank === 1 ? p.index > t.softIndex : true) continue;
      let matched: boolean;
      try {
        matched = p.condition.test(request);
      } catch {
        // Fail closed: a condition that cannot be evaluated demands its approval.
        matched = true;
      }
      if (!matched) continue;
      if (p.rank > t.rank) t.rank = p.rank;
      if (p.rank === 2) {
        t.strongIndex = p.index;
        t.strong = p.name;
      } else {
        t.softIndex = p.index;
        t.soft = p.name;
      }
    }
  }
}
