import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseYaml, YamlProblem, type YamlMap, type YamlNode } from "../config/yaml.ts";
import { compileRegex } from "../expr/regex.ts";
import { SETUP_OPS, type FieldKind } from "./setup-ops.ts";

/** A test file that cannot be used: its message names the file and line. */
export class PolicyTestFileError extends Error {
  override readonly name = "PolicyTestFileError" as const;
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly problem: string,
  ) {
    super(`${file}${line === undefined ? "" : `:${line}`}: ${problem}`);
  }
}

/** True for a {@link PolicyTestFileError}, also one from another copy of this module. */
export function isPolicyTestFileError(e: unknown): e is PolicyTestFileError {
  return e instanceof Error && e.name === "PolicyTestFileError";
}

/** One setup operation of a test. */
export interface SetupStep {
  readonly op: string;
  readonly args: Readonly<Record<string, unknown>>;
  /** The exact error message the operation must fail with. */
  readonly expectError: string | undefined;
  readonly line: number;
}

/** The request of a test, in the engine's terms. */
export interface TestRequest {
  readonly agent: string;
  readonly user: string;
  readonly action: string;
  readonly resource?: string;
  readonly scope?: string;
  readonly targetAgent?: string;
  /** A session id from setup, or a literal id. */
  readonly session?: string;
  /** An approval id from setup (redeemed with the request), or a literal id. */
  readonly approval?: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** What the decision must be; only the fields named are checked. */
export interface TestExpectation {
  readonly allowed?: boolean;
  readonly tier?: string;
  readonly requires_approval?: boolean;
  readonly approval_policy?: string;
  readonly reason?: string;
  /** An RE2 pattern the reason must contain a match of. */
  readonly reason_matches?: string;
  /** What became of the approval the request presented ("" when it was redeemed or none was presented). */
  readonly approval_status?: string;
}

/** One test, `each` rows already expanded. */
export interface PolicyTest {
  readonly name: string;
  readonly line: number;
  readonly setup: readonly SetupStep[];
  readonly request: TestRequest;
  readonly expect: TestExpectation;
}

/** A test file: the policy it tests, the variables and environment, and the tests. */
export interface PolicyTestFile {
  readonly file: string;
  /** The policy file, resolved against the test file's directory. */
  readonly policy: string;
  readonly policyLine: number;
  readonly variables: ReadonlyMap<string, unknown>;
  readonly env: Readonly<Record<string, string>>;
  readonly tests: readonly PolicyTest[];
}

const FILE_KEYS = ["policy", "variables", "env", "tests"];
const TEST_KEYS = ["name", "setup", "request", "expect", "each"];
const REQUEST_KEYS = ["agent", "user", "action", "resource", "scope", "target_agent", "session", "approval", "metadata"];
const EXPECT_KEYS = ["allowed", "tier", "requires_approval", "approval_policy", "reason", "reason_matches", "approval_status"];
/** The values of `expect.approval_status`: the decision's `approvalStatus`. */
const APPROVAL_USE_STATUSES = ["", "unknown", "pending", "denied", "expired", "cancelled", "used", "mismatch"];
const TIERS = ["autonomous", "soft", "strong"];

/**
 * Reads a policy test file (docs/policy-tests.md) strictly: an unknown key, a
 * value of the wrong kind, an unknown setup operation or a bad pattern is an
 * error naming the file and line — a typo in a test never makes it pass.
 */
export function readPolicyTestFile(file: string): PolicyTestFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new PolicyTestFileError(file, undefined, `cannot read the test file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let root: YamlNode | null;
  try {
    root = parseYaml(text, 100);
  } catch (error) {
    if (error instanceof YamlProblem) throw new PolicyTestFileError(file, error.line, error.message);
    throw error;
  }
  const r: Reader = new Reader(file);
  if (root === null || root.kind !== "map") throw new PolicyTestFileError(file, root?.line, "a test file is a mapping with 'policy' and 'tests'");
  r.keys(root, FILE_KEYS, "the test file");
  const policyNode = r.required(root, "policy", "the test file");
  const policy = r.string(policyNode, "policy");
  const variablesNode = root.entries.get("variables")?.value;
  const variables = new Map<string, unknown>();
  if (variablesNode !== undefined && !isNull(variablesNode)) {
    for (const [name, { value }] of r.map(variablesNode, "variables").entries) variables.set(name, data(value));
  }
  const envNode = root.entries.get("env")?.value;
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  if (envNode !== undefined && !isNull(envNode)) {
    for (const [name, { value }] of r.map(envNode, "env").entries) {
      if (value.kind !== "scalar" || value.type === "null") r.fail(value, `env.${name}: expected text`);
      env[name] = value.text;
    }
  }
  const testsNode = r.required(root, "tests", "the test file");
  if (testsNode.kind !== "seq") r.fail(testsNode, "tests: expected a list of tests");
  const tests: PolicyTest[] = [];
  for (const node of testsNode.items) tests.push(...r.tests(node));
  if (tests.length === 0) r.fail(testsNode, "tests: the list is empty");
  return { file, policy: resolve(dirname(file), policy), policyLine: policyNode.line, variables, env, tests };
}

class Reader {
  constructor(readonly file: string) {}

  fail(node: { line: number } | undefined, problem: string): never {
    throw new PolicyTestFileError(this.file, node?.line, problem);
  }

  keys(m: YamlMap, known: readonly string[], where: string): void {
    for (const [key, e] of m.entries) {
      if (!known.includes(key)) this.fail(e.key, `${where}: unknown key '${key}' (expected one of ${known.join(", ")})`);
    }
  }

  required(m: YamlMap, key: string, where: string): YamlNode {
    const v = m.entries.get(key)?.value;
    if (v === undefined || isNull(v)) this.fail(m, `${where}: '${key}' is required`);
    return v;
  }

  map(node: YamlNode, where: string): YamlMap {
    if (node.kind !== "map") this.fail(node, `${where}: expected a mapping`);
    return node;
  }

  string(node: YamlNode, where: string): string {
    if (node.kind !== "scalar" || node.type === "null") this.fail(node, `${where}: expected text`);
    return node.text;
  }

  /** One test, or one per row of its `each` table. */
  tests(node: YamlNode): PolicyTest[] {
    const m = this.map(node, "tests[]");
    this.keys(m, TEST_KEYS, "a test");
    const name = this.string(this.required(m, "name", "a test"), "name");
    const where = `test '${name}'`;
    const each = m.entries.get("each")?.value;
    if (each === undefined || isNull(each)) return [this.test(m, name, m.line, undefined)];
    if (each.kind !== "seq" || each.items.length === 0) this.fail(each, `${where}: 'each' must be a non-empty list of rows`);
    return each.items.map((row) => {
      const values = this.map(row, `${where}: each row`);
      const bindings = new Map<string, unknown>();
      for (const [k, { value }] of values.entries) bindings.set(k, data(value));
      return this.test(m, `${name} [${[...bindings.values()].map(show).join(", ")}]`, row.line, bindings);
    });
  }

  test(m: YamlMap, name: string, line: number, row: ReadonlyMap<string, unknown> | undefined): PolicyTest {
    const where = `test '${name}'`;
    const fill = (node: YamlNode): unknown => (row === undefined ? data(node) : substitute(data(node), row));
    const setupNode = m.entries.get("setup")?.value;
    const setup: SetupStep[] = [];
    if (setupNode !== undefined && !isNull(setupNode)) {
      if (setupNode.kind !== "seq") this.fail(setupNode, `${where}: setup must be a list of operations`);
      for (const item of setupNode.items) setup.push(this.setupStep(item, fill, where));
    }
    const requestNode = this.required(m, "request", where);
    const request = this.request(this.map(requestNode, `${where}: request`), fill(requestNode) as Record<string, unknown>, where);
    const expectNode = this.required(m, "expect", where);
    const expect = this.expectation(this.map(expectNode, `${where}: expect`), fill(expectNode) as Record<string, unknown>, where);
    return { name, line, setup, request, expect };
  }

  setupStep(item: YamlNode, fill: (node: YamlNode) => unknown, where: string): SetupStep {
    const m = this.map(item, `${where}: a setup operation`);
    const ops = [...m.entries.keys()].filter((k) => k !== "expect_error");
    if (ops.length !== 1) this.fail(item, `${where}: a setup operation is one of ${[...SETUP_OPS.keys()].join(", ")} (with an optional expect_error), got ${ops.length === 0 ? "none" : ops.join(", ")}`);
    const op = ops[0]!;
    const handler = SETUP_OPS.get(op);
    if (handler === undefined) this.fail(m.entries.get(op)!.key, `${where}: unknown setup operation '${op}' (known: ${[...SETUP_OPS.keys()].join(", ")})`);
    const valueNode = m.entries.get(op)!.value;
    const raw = fill(valueNode);
    let args: Record<string, unknown>;
    if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) args = raw as Record<string, unknown>;
    else if (handler.shorthand !== undefined) args = { [handler.shorthand]: raw };
    else this.fail(valueNode, `${where}: ${op} takes a mapping of ${Object.keys(handler.fields).join(", ")}`);
    for (const [k, v] of Object.entries(args)) {
      const kind = handler.fields[k];
      if (kind === undefined) this.fail(valueNode, `${where}: ${op}: unknown field '${k}' (expected ${Object.keys(handler.fields).join(", ")})`);
      if (!fits(kind, v)) this.fail(valueNode, `${where}: ${op}.${k}: expected ${KIND_TEXT[kind]}`);
    }
    for (const k of handler.required) if (!Object.hasOwn(args, k)) this.fail(valueNode, `${where}: ${op}: '${k}' is required`);
    const problems = handler.check?.(args) ?? [];
    if (problems.length > 0) this.fail(valueNode, `${where}: ${op}: ${problems.join("; ")}`);
    const errorNode = m.entries.get("expect_error")?.value;
    const expectError = errorNode === undefined ? undefined : String(fill(errorNode));
    return { op, args, expectError, line: item.line };
  }

  request(m: YamlMap, v: Record<string, unknown>, where: string): TestRequest {
    this.keys(m, REQUEST_KEYS, `${where}: request`);
    const text = (k: string, required: boolean): string | undefined => {
      const x = v[k];
      if (x === undefined || x === null) {
        if (required) this.fail(m, `${where}: request.${k} is required`);
        return undefined;
      }
      if (typeof x !== "string" && typeof x !== "number" && typeof x !== "boolean") this.fail(m.entries.get(k)!.value, `${where}: request.${k}: expected text`);
      return String(x);
    };
    const metadata = v["metadata"];
    if (metadata !== undefined && metadata !== null && (typeof metadata !== "object" || Array.isArray(metadata))) this.fail(m.entries.get("metadata")!.value, `${where}: request.metadata: expected a mapping`);
    const out: Record<string, unknown> = { agent: text("agent", true), user: text("user", true), action: text("action", true) };
    for (const [k, field] of [["resource", "resource"], ["scope", "scope"], ["target_agent", "targetAgent"], ["session", "session"], ["approval", "approval"]] as const) {
      const x = text(k, false);
      if (x !== undefined) out[field] = x;
    }
    if (metadata !== undefined && metadata !== null) out["metadata"] = metadata;
    return out as unknown as TestRequest;
  }

  expectation(m: YamlMap, v: Record<string, unknown>, where: string): TestExpectation {
    this.keys(m, EXPECT_KEYS, `${where}: expect`);
    if (m.entries.size === 0) this.fail(m, `${where}: expect names nothing to check`);
    const at = (k: string): YamlNode => m.entries.get(k)!.value;
    for (const k of ["allowed", "requires_approval"]) if (Object.hasOwn(v, k) && typeof v[k] !== "boolean") this.fail(at(k), `${where}: expect.${k}: expected true or false`);
    for (const k of ["tier", "approval_policy", "reason", "reason_matches", "approval_status"]) {
      if (!Object.hasOwn(v, k)) continue;
      if (v[k] === null) v[k] = "";
      if (typeof v[k] !== "string") this.fail(at(k), `${where}: expect.${k}: expected text`);
    }
    if (typeof v["tier"] === "string" && !TIERS.includes(v["tier"])) this.fail(at("tier"), `${where}: expect.tier: '${v["tier"]}' is not one of ${TIERS.join(", ")}`);
    if (typeof v["approval_status"] === "string" && !APPROVAL_USE_STATUSES.includes(v["approval_status"])) {
      this.fail(at("approval_status"), `${where}: expect.approval_status: '${v["approval_status"]}' is not one of ${APPROVAL_USE_STATUSES.map((x) => JSON.stringify(x)).join(", ")}`);
    }
    if (typeof v["reason_matches"] === "string") {
      try {
        compileRegex(v["reason_matches"], v["reason_matches"], 0);
      } catch (error) {
        this.fail(at("reason_matches"), `${where}: expect.reason_matches: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return v as TestExpectation;
  }
}

const KIND_TEXT: Readonly<Record<FieldKind, string>> = {
  string: "text",
  strings: "a list of text",
  seconds: "a number of seconds",
  duration: "whole seconds (or null for the default)",
  mapping: "a mapping",
};

function fits(kind: FieldKind, v: unknown): boolean {
  switch (kind) {
    case "string":
      return typeof v === "string";
    case "strings":
      return Array.isArray(v) && v.every((x) => typeof x === "string");
    case "seconds":
      return typeof v === "number" && Number.isFinite(v) && v >= 0;
    case "duration":
      return v === null || (typeof v === "number" && Number.isFinite(v));
    case "mapping":
      return v !== null && typeof v === "object" && !Array.isArray(v);
  }
}

function isNull(node: YamlNode): boolean {
  return node.kind === "scalar" && node.type === "null";
}

/** YAML data as plain values (text stays text, numbers numbers). */
function data(node: YamlNode): unknown {
  switch (node.kind) {
    case "scalar":
      return node.type === "str" ? node.text : node.value;
    case "seq":
      return node.items.map(data);
    case "map": {
      const out: Record<string, unknown> = {};
      for (const [k, { value }] of node.entries) Object.defineProperty(out, k, { value: data(value), enumerable: true, writable: true, configurable: true });
      return out;
    }
  }
}

/**
 * An `each` row put into a value: a text that is exactly `{name}` becomes the
 * row's value with its type; `{name}` inside longer text is replaced as text.
 */
export function substitute(value: unknown, row: ReadonlyMap<string, unknown>): unknown {
  if (typeof value === "string") {
    const whole = /^\{([A-Za-z_][\w-]*)\}$/.exec(value);
    if (whole !== null && row.has(whole[1]!)) return row.get(whole[1]!);
    return value.replace(/\{([A-Za-z_][\w-]*)\}/g, (text, name: string) => (row.has(name) ? show(row.get(name)) : text));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, row));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: substitute(v, row), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

function show(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}
