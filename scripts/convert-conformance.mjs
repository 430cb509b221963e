// Converts the authorization conformance cases that fit the policy test format
// (one policy per file, no config error, no user-permissions provider) into
// test files under test/fixtures/policy-tests/conformance/, one folder per
// policy. Run once: `node scripts/convert-conformance.mjs`; the output is
// committed and `agent-auth test` runs it in CI.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const OUT = "test/fixtures/policy-tests/conformance";
const cases = readFileSync("test/fixtures/conformance/authz.jsonl", "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
const groups = new Map();
for (const c of cases) {
  if (c.expect.config_error === true || c.user_permissions !== undefined) continue;
  const key = JSON.stringify([c.config, c.env ?? {}]);
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(c);
}
const y = (v) => JSON.stringify(v);
const flow = (o) => `{${Object.entries(o).map(([k, v]) => `${k}: ${y(v)}`).join(", ")}}`;

function setupLines(op) {
  const { op: name, expect_error: expectError, error, ...rest } = op;
  const args = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== null));
  const value = name === "advance_clock" ? y(args.seconds) : name.startsWith("revoke_") ? y(args.id) : flow(args);
  const lines = [`      - ${name}: ${value}`];
  if (expectError === true) lines.push(`        expect_error: ${y(error)}`);
  return lines;
}

function requestOf(r) {
  const out = { agent: r.agent, user: r.user, action: r.action };
  if (r.resource !== "") out.resource = r.resource;
  if (r.scope !== "") out.scope = r.scope;
  if (r.target_agent !== null && r.target_agent !== "") out.target_agent = r.target_agent;
  if (r.session_id !== null && r.session_id !== "") out.session = r.session_id.startsWith("$") ? r.session_id.slice(1) : r.session_id;
  const metadata = Object.keys(r.metadata).length === 0 ? "" : `, metadata: ${y(r.metadata)}`;
  return `{${Object.entries(out).map(([k, v]) => `${k}: ${y(v)}`).join(", ")}${metadata}}`;
}

rmSync(OUT, { recursive: true, force: true });
let files = 0;
let tests = 0;
for (const group of groups.values()) {
  const first = group[0];
  const dir = join(OUT, first.id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "policy.yaml"), first.config);
  const lines = [
    `# Converted from test/fixtures/conformance/authz.jsonl (decisions of theaios-agent-auth 0.1.1,`,
    `# adjusted for docs/compatibility.md) by scripts/convert-conformance.mjs.`,
    `policy: policy.yaml`,
  ];
  if (first.env !== undefined) lines.push(`env: ${flow(first.env)}`);
  lines.push("tests:");
  for (const c of group) {
    lines.push(`  - name: ${y(c.id)}`);
    if (c.setup.length > 0) {
      lines.push("    setup:");
      for (const op of c.setup) lines.push(...setupLines(op));
    }
    lines.push(`    request: ${requestOf(c.request)}`);
    lines.push(`    expect: ${flow(c.expect)}`);
    tests++;
  }
  writeFileSync(join(dir, "policy_test.yaml"), lines.join("\n") + "\n");
  files++;
}
process.stdout.write(`${tests} cases in ${files} test files under ${OUT}\n`);
