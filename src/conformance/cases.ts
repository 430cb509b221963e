/** The conformance case formats (see test/fixtures/conformance/README.md). */

export interface SetupOp {
  readonly op: "session" | "delegation" | "revoke_session" | "revoke_delegation" | "advance_clock";
  readonly id?: string;
  readonly agent?: string;
  readonly user?: string;
  readonly scope?: string;
  readonly duration?: number | null;
  readonly from_user?: string;
  readonly to_agent?: string;
  readonly actions?: readonly string[];
  readonly reason?: string;
  readonly seconds?: number;
  readonly expect_error?: boolean;
  readonly error?: string;
}

export interface CaseRequest {
  readonly agent: string;
  readonly user: string;
  readonly action: string;
  readonly resource: string;
  readonly scope: string;
  readonly target_agent: string | null;
  readonly session_id: string | null;
  readonly metadata: Record<string, unknown>;
}

export interface ExpectedDecision {
  readonly allowed: boolean;
  readonly tier: string;
  readonly requires_approval: boolean;
  readonly approval_policy: string;
  readonly reason: string;
}

/** An authorization case: config, setup operations, one request, the expected decision. */
export interface AuthzCase {
  readonly id: string;
  readonly source?: string;
  readonly config: string;
  readonly env?: Record<string, string>;
  readonly user_permissions?: Record<string, readonly string[]>;
  readonly setup: readonly SetupOp[];
  readonly request: CaseRequest | null;
  readonly expect: ExpectedDecision | { readonly config_error: true };
  readonly deviations?: readonly number[];
}

/** An expression case: source, context, variables, expected value or error kind. */
export interface ExpressionCase {
  readonly id: string;
  readonly source?: string;
  readonly expr: string;
  readonly context: Record<string, unknown>;
  readonly variables: Record<string, unknown>;
  readonly expect: unknown;
  readonly deviations?: readonly number[];
}

export type ConformanceCase = AuthzCase | ExpressionCase;

export function isExpressionCase(c: ConformanceCase): c is ExpressionCase {
  return Object.hasOwn(c, "expr");
}

/** The result of one case: passed, or the differences found. */
export interface CaseResult {
  readonly id: string;
  readonly passed: boolean;
  /** One line per difference, e.g. `reason: expected '…', got '…'`. */
  readonly differences: readonly string[];
}
