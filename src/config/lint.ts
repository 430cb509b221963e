import { isExpressionSyntaxError, parseExpression, type ExpressionNode } from "../expr/index.ts";
import type { ConfigIssue } from "./config-error.ts";
import type { AuthConfig } from "./types.ts";
import type { ConfigSource } from "./validate.ts";

/** Request fields approval conditions read by name (metadata cannot override them). */
const APPROVAL_FIELDS: ReadonlySet<string> = new Set(["agent", "user", "action", "resource", "scope"]);
/** Request fields A2A conditions read by name. */
const A2A_FIELDS: ReadonlySet<string> = new Set(["from_agent", "to_agent", "action"]);
/** Operators users type from other languages, by the field name they turn into. */
const OPERATOR_TYPOS: ReadonlyMap<string, string> = new Map([
  ["startswith", "starts_with"],
  ["startwith", "starts_with"],
  ["endswith", "ends_with"],
  ["endwith", "ends_with"],
  ["contain", "contains"],
  ["match", "matches"],
  ["notin", "not in"],
  ["nil", "null"],
]);
const TIER_RANK: Readonly<Record<string, number>> = { autonomous: 0, soft: 1, strong: 2 };

interface Condition {
  readonly path: string;
  readonly ast: ExpressionNode;
  readonly known: ReadonlySet<string>;
}

/**
 * Things in a policy that load but probably do not mean what was written:
 * a bare word compared as if it were text (`action == deploy` reads a field
 * named `deploy`, null, so the condition never holds), a field named like a
 * misspelt operator, a profile no agent can reach or that can never allow
 * anything, and an approval policy an earlier one shadows. Warnings only:
 * `validate --strict` makes them errors. Each check tolerates an otherwise
 * invalid config, so warnings can be shown beside errors.
 */
export function lintConfig(c: AuthConfig, source: ConfigSource): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const warn = (path: string, message: string): void => {
    const p = source.at(path);
    issues.push(p === undefined ? { path, message } : { path, message, line: p.line, column: p.column });
  };
  const conditions: Condition[] = [];
  const parsed = (path: string, text: string, known: ReadonlySet<string>): ExpressionNode | undefined => {
    if (text.trim() === "") return undefined;
    // Its field names would come from a variable's value, which a warning must not show.
    if (source.interpolated(path)) return undefined;
    try {
      const ast = parseExpression(text, 256);
      conditions.push({ path, ast, known });
      return ast;
    } catch (error) {
      if (isExpressionSyntaxError(error)) return undefined; // an error, reported by validation
      throw error;
    }
  };
  const approvals = c.approvalPolicies.map((p, i) => parsed(`approval_policies[${i}].condition`, p.condition, APPROVAL_FIELDS));
  c.a2a.policies.forEach((p, i) => parsed(`a2a.policies[${i}].condition`, p.condition, A2A_FIELDS));

  lintBareWords(conditions, c, warn);
  lintProfiles(c, warn);
  lintShadowing(c, approvals, warn, (i) => source.shown(`approval_policies[${i}].name`, c.approvalPolicies[i]!.name));
  return issues;
}

/** `action == deploy`: a bare word where text was meant. */
function lintBareWords(conditions: readonly Condition[], c: AuthConfig, warn: (path: string, message: string) => void): void {
  // A field read anywhere other than as the value side of an equality is a real metadata field.
  const used = new Set<string>();
  const suspects: { path: string; name: string; known: ReadonlySet<string> }[] = [];
  for (const cond of conditions) {
    walk(cond.ast, cond.known, false, (field, asValue) => {
      const name = field.parts[0]!;
      const typo = OPERATOR_TYPOS.get(name.toLowerCase());
      if (typo !== undefined && field.parts.length === 1) warn(cond.path, `${cond.path}: '${name}' is read as a request field, not an operator: did you mean ${typo}?`);
      if (asValue) suspects.push({ path: cond.path, name, known: cond.known });
      else used.add(name);
    });
  }
  for (const s of suspects) {
    if (s.known.has(s.name) || used.has(s.name)) continue;
    const hint = c.variables.has(s.name) ? `did you mean the variable $${s.name}?` : `did you mean "${s.name}"?`;
    warn(s.path, `${s.path}: '${s.name}' is read as a request field (null unless the request's metadata has it), not as text: ${hint}`);
  }
}

type Field = Extract<ExpressionNode, { kind: "field" }>;

/**
 * Visits every field with whether it stands as a value: a one-word field on
 * the right of ==/!= with a field on the left, or an item of the list in
 * `x in [...]`.
 */
function walk(node: ExpressionNode, known: ReadonlySet<string>, asValue: boolean, visit: (field: Field, asValue: boolean) => void): void {
  switch (node.kind) {
    case "field":
      visit(node, asValue && node.parts.length === 1);
      return;
    case "list":
      for (const n of node.items) walk(n, known, asValue, visit);
      return;
    case "not":
      walk(node.operand, known, false, visit);
      return;
    case "and":
    case "or":
      for (const n of node.operands) walk(n, known, false, visit);
      return;
    case "compare": {
      if (node.op === "==" || node.op === "!=") {
        // `action == deploy`: the right side is where a value is written.
        walk(node.left, known, false, visit);
        walk(node.right, known, node.left.kind === "field", visit);
        return;
      }
      const inList = (node.op === "in" || node.op === "not in") && node.right.kind === "list";
      walk(node.left, known, false, visit);
      walk(node.right, known, inList, visit);
      return;
    }
    default:
      return;
  }
}

/** Profiles no agent reaches, or that can never allow an action. */
function lintProfiles(c: AuthConfig, warn: (path: string, message: string) => void): void {
  for (const [name, p] of c.profiles) {
    const path = `profiles.${name}`;
    if (/[*?[]/.test(name)) {
      warn(path, `${path}: profile names are exact agent names, not patterns: this profile applies only to an agent literally named '${name}'`);
    }
    if (p.deny.some((d) => /^\*+$/.test(d))) {
      warn(`${path}.deny`, `${path}: deny '*' denies every action: this profile can never allow anything`);
      continue;
    }
    const allowed = new Set(p.allow);
    for (let role = p.role, seen = 0; role !== "" && seen < 1000; seen++) {
      const r = c.roles.get(role);
      if (r === undefined) break;
      for (const a of r.actions) allowed.add(a);
      role = r.extends;
    }
    if (allowed.size > 0 && [...allowed].every((a) => p.deny.includes(a))) {
      warn(`${path}.deny`, `${path}: every action its role and allow list grant is also denied: this profile can never allow anything`);
    }
  }
}

/**
 * An approval policy that can never set the tier because an earlier one
 * always wins over it: an earlier unconditional policy, or an earlier one with
 * the same condition or with one of the operands of its `and`, whose tier is
 * at least as high. Linear in the number of policies.
 */
function lintShadowing(c: AuthConfig, asts: readonly (ExpressionNode | undefined)[], warn: (path: string, message: string) => void, nameOf: (index: number) => string): void {
  const key = (n: ExpressionNode): string => JSON.stringify(n, (k, v: unknown) => (k === "pos" ? undefined : v));
  /** Earlier conditions by their structure: the highest tier seen and the first policy with it. */
  const earlier = new Map<string, { rank: number; index: number }>();
  let always: { rank: number; index: number } | undefined;
  c.approvalPolicies.forEach((b, j) => {
    const path = `approval_policies[${j}]`;
    const rb = TIER_RANK[b.tier];
    if (rb === undefined) return;
    const ast = asts[j];
    const own = ast === undefined ? undefined : key(ast);
    if (rb === 0) warn(`${path}.tier`, `${path} (${nameOf(j)}): tier autonomous never raises a tier: this policy has no effect`);
    else {
      const implied = ast === undefined ? [] : [own!, ...(ast.kind === "and" ? ast.operands.map(key) : [])];
      const shadow = [always, ...implied.map((k) => earlier.get(k))].find((e) => e !== undefined && e.rank >= rb);
      if (shadow !== undefined) {
        warn(path, `${path} (${nameOf(j)}): shadowed by approval_policies[${shadow.index}] (${nameOf(shadow.index)}), which matches whenever it does with a tier at least as high: it can never set the tier`);
      }
    }
    const entry = { rank: rb, index: j };
    if (b.condition.trim() === "") {
      if (always === undefined || rb > always.rank) always = entry;
    } else if (own !== undefined) {
      const seen = earlier.get(own);
      if (seen === undefined || rb > seen.rank) earlier.set(own, entry);
    }
  });
}
