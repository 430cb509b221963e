import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { load } from "js-yaml";
import { POLICY_KEYS } from "../../src/config/build.ts";
import { configToJson, parseConfig } from "../../src/config/index.ts";
import type { AuthzCase } from "../../src/conformance/cases.ts";

/** The JSON Schema for policy files, shipped in the package (schema/policy.schema.json). */
const schema = JSON.parse(readFileSync("schema/policy.schema.json", "utf8")) as Record<string, unknown>;
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
const json = (yaml: string): unknown => load(yaml);

type Node = { properties?: Record<string, Node>; additionalProperties?: Node | boolean; items?: Node; type?: string | string[]; anyOf?: Node[]; const?: unknown; enum?: unknown[] };
const props = (n: Node | undefined): string[] => Object.keys(n?.properties ?? {});
const root = schema as Node;
const at = (name: string): Node => root.properties![name]!;

const cases = readFileSync("test/fixtures/conformance/authz.jsonl", "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l) as AuthzCase);

/**
 * Config errors the schema cannot see: they are about references, cycles,
 * condition text or YAML syntax, not the document's structure.
 */
const NOT_STRUCTURAL: Readonly<Record<string, string>> = {
  "config-circular": "an inheritance cycle",
  "config-invalid-yaml": "not YAML at all (the loader's YAML error)",
  "probe-a2a-undefined-var-skipped": "an undefined $variable in a condition",
  "probe-approval-undefined-var-fail-open": "an undefined $variable in a condition",
  "probe-approval-matches-never": "a condition syntax error",
  "probe-config-bad-condition": "a condition syntax error",
  "probe-config-self-extends": "an inheritance cycle",
};

describe("policy JSON Schema (schema/policy.schema.json)", () => {
  it("is JSON Schema 2020-12 and names exactly the keys the loader reads, section by section", () => {
    expect(schema["$schema"]).to.equal("https://json-schema.org/draft/2020-12/schema");
    const item = (n: Node): Node => n.items!;
    const entry = (n: Node): Node => n.additionalProperties as Node;
    const sections: [string, readonly string[], Node][] = [
      ["root", POLICY_KEYS.root, root],
      ["metadata", POLICY_KEYS.metadata, at("metadata")],
      ["roles.*", POLICY_KEYS.role, entry(at("roles"))],
      ["profiles.*", POLICY_KEYS.profile, entry(at("profiles"))],
      ["approval_policies[]", POLICY_KEYS.approvalPolicy, item(at("approval_policies"))],
      ["delegation", POLICY_KEYS.delegation, at("delegation")],
      ["delegation.rules[]", POLICY_KEYS.delegationRule, item(at("delegation").properties!["rules"]!)],
      ["a2a", POLICY_KEYS.a2a, at("a2a")],
      ["a2a.policies[]", POLICY_KEYS.a2aPolicy, item(at("a2a").properties!["policies"]!)],
      ["sessions", POLICY_KEYS.sessions, at("sessions")],
      ["audit", POLICY_KEYS.audit, at("audit")],
      ["approvals", POLICY_KEYS.approvals, at("approvals")],
      ["approvals.approvers", POLICY_KEYS.approvers, at("approvals").properties!["approvers"]!],
    ];
    for (const [name, keys, node] of sections) expect(props(node).sort(), name).to.deep.equal([...keys].sort());
  });

  it("gives every field the kind the typed config holds (checked on the config as JSON)", () => {
    // A policy that sets every section, read back through the typed config (configToJson is typed against AuthConfig).
    const c = configToJson(
      parseConfig(readFileSync("examples/agent_auth.yaml", "utf8"), { env: { ACME_REVIEW_THRESHOLD: "500" } }),
    ) as Record<string, unknown>;
    const kinds = (n: Node): string[] => [...(Array.isArray(n.type) ? n.type : n.type === undefined ? [] : [n.type]), ...(n.anyOf ?? []).flatMap(kinds), ...(n.const === undefined ? [] : [typeof n.const]), ...(n.enum ?? []).map((v) => typeof v)];
    const kindOf = (v: unknown): string => (Array.isArray(v) ? "array" : v === null ? "null" : Number.isInteger(v) ? "integer" : typeof v);
    const check = (value: unknown, node: Node, path: string): void => {
      const k = kindOf(value);
      const allowed = kinds(node);
      if (allowed.length > 0) expect(allowed.includes(k) || (k === "integer" && allowed.includes("number")) || (k === "object" && allowed.includes("object")), `${path}: a ${k} (schema: ${allowed.join(", ")})`).to.equal(true);
      if (k === "object" && node.properties !== undefined) for (const [key, v] of Object.entries(value as Record<string, unknown>)) check(v, node.properties[key] ?? (expect.fail(`${path}.${key}: not in the schema`) as never), `${path}.${key}`);
      else if (k === "object" && typeof node.additionalProperties === "object") for (const [key, v] of Object.entries(value as Record<string, unknown>)) check(v, node.additionalProperties, `${path}.${key}`);
      else if (k === "array" && node.items !== undefined) (value as unknown[]).forEach((v, i) => check(v, node.items!, `${path}[${i}]`));
    };
    check(c, root, "");
  });

  it("accepts the example policy and every conformance policy that loads", () => {
    const failures: string[] = [];
    const accept = (name: string, text: string): void => {
      if (!validate(json(text))) failures.push(`${name}: ${JSON.stringify(validate.errors)}`);
    };
    accept("examples/agent_auth.yaml", readFileSync("examples/agent_auth.yaml", "utf8"));
    for (const c of cases) if (!Object.hasOwn(c.expect, "config_error")) accept(c.id, c.config);
    const dir = "test/fixtures/policy-tests/conformance";
    for (const name of readdirSync(dir)) accept(join(dir, name, "policy.yaml"), readFileSync(join(dir, name, "policy.yaml"), "utf8"));
    expect(failures).to.deep.equal([]);
  });

  it("rejects every structural config error of the conformance data", () => {
    const errors = cases.filter((c) => Object.hasOwn(c.expect, "config_error"));
    expect(errors.length).to.be.greaterThan(5);
    for (const c of errors) {
      if (Object.hasOwn(NOT_STRUCTURAL, c.id)) continue;
      expect(validate(json(c.config)), `${c.id} should be rejected by the schema`).to.equal(false);
    }
    // The exceptions are real cases, each one the schema cannot see.
    for (const id of Object.keys(NOT_STRUCTURAL)) expect(errors.map((c) => c.id)).to.include(id);
  });

  it("ships in the package: listed in files and exported", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { files: string[]; exports: Record<string, unknown> };
    expect(pkg.files).to.include("schema/");
    expect(pkg.exports["./schema/policy.schema.json"]).to.equal("./schema/policy.schema.json");
  });
});
