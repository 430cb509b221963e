import { expect } from "chai";
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/main.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { CLI, exited, startServe } from "../support/processes.ts";

/** Deploys need soft approval (the user or a lead), production deploys strong (sec-* only). */
const POLICY = `
version: "1.0"
profiles:
  deployer: {allow: [deploy, read, delete], deny: [delete], default_tier: soft}
approval_policies:
  - {name: prod, condition: 'resource starts_with "/prod"', tier: strong}
approvals:
  pending_ttl: 600
  grant_ttl: 120
  approvers: {soft: [self, "lead-*"], strong: ["sec-*"]}
`;

/** Runs the built CLI; resolves with its exit code and output. */
function agentAuth(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...argv], { encoding: "utf8" }, (error, out, err) => resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, out, err }));
  });
}

async function inProcess(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env: {}, color: false };
  return { code: await runCli(argv, io), out, err };
}

const deploy = ["--agent", "deployer", "--user", "bob", "--action", "deploy", "-r", "/staging/api"];

describe("agent-auth approvals and check --request-approval / --approval (against agent-auth serve)", function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-approvals-"));
    writeFileSync(join(dir, "policy.yaml"), POLICY);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("requests, lists, shows, approves and redeems once; refusals exit 1 with the reason", async () => {
    const { child, address } = await startServe(["serve", "-c", join(dir, "policy.yaml"), "--port", "0"]);
    try {
      const s = ["--server", address];
      const requested = await agentAuth(...s, "check", ...deploy, "--request-approval", "--justification", "release 1.4", "-o", "json");
      expect(requested.code, requested.err).to.equal(0);
      const decision = JSON.parse(requested.out) as { allowed: boolean; requires_approval: boolean; approval: { id: string; status: string; expires_at: string } };
      expect(decision).to.deep.include({ allowed: true, requires_approval: true });
      expect(decision.approval.status).to.equal("pending");
      expect(Date.parse(decision.approval.expires_at)).to.be.greaterThan(Date.now());
      const id = decision.approval.id;

      // A request that needs no approval is not requestable: its decision is printed as by a plain check.
      const plain = await agentAuth(...s, "check", "--agent", "deployer", "--user", "bob", "--action", "delete", "--request-approval", "-o", "json");
      expect(plain.code).to.equal(1);
      expect(JSON.parse(plain.out)).to.deep.include({ allowed: false }).and.not.have.property("approval");

      const listed = await agentAuth(...s, "approvals", "list", "--status", "pending", "-o", "json");
      expect(listed.code, listed.err).to.equal(0);
      expect((JSON.parse(listed.out) as { id: string; justification: string }[]).map((t) => [t.id, t.justification])).to.deep.equal([[id, "release 1.4"]]);
      const table = await agentAuth(...s, "approvals", "list");
      expect(table.out).to.match(/^Approvals \(1\)/).and.contain(id).and.contain("pending");

      const shown = await agentAuth(...s, "approvals", "show", id);
      expect(shown.code).to.equal(0);
      expect(shown.out).to.contain(`Approval ${id}: pending`).and.contain("Justification: release 1.4");
      const missing = await agentAuth(...s, "approvals", "show", "no-such-id");
      expect([missing.code, missing.err]).to.deep.equal([1, "Error: approval 'no-such-id' not found\n"]);

      // Redeeming before the approval: exit 1, the approval is not used.
      const early = await agentAuth(...s, "check", ...deploy, "--approval", id, "-o", "json");
      expect(early.code).to.equal(1);
      expect(JSON.parse(early.out)).to.deep.include({ requires_approval: true, approval_id: id, approval_status: "pending" });

      // An approver the policy does not allow: exit 1 with the server's reason.
      const refused = await agentAuth(...s, "approvals", "approve", id, "--approver", "mallory");
      expect(refused.code).to.equal(1);
      expect(refused.err).to.match(/^Error: .*mallory/);
      const approved = await agentAuth(...s, "approvals", "approve", id, "--approver", "lead-ann", "--comment", "go", "-o", "json");
      expect(approved.code, approved.err).to.equal(0);
      expect(JSON.parse(approved.out)).to.deep.include({ id, status: "approved", decided_by: "lead-ann", comment: "go" });

      const redeemed = await agentAuth(...s, "check", ...deploy, "--approval", id);
      expect(redeemed.code, redeemed.err).to.equal(0);
      expect(redeemed.out).to.match(/^ALLOWED\n/).and.contain(`Reason: Approved by 'lead-ann' (approval ${id})`).and.contain(`Approval: ${id}, approved by lead-ann`);
      const again = await agentAuth(...s, "check", ...deploy, "--approval", id, "-o", "json");
      expect(again.code).to.equal(1);
      expect(JSON.parse(again.out)).to.deep.include({ requires_approval: true, approval_status: "used" });

      // The four-eyes rule: the request's user may not approve a strong-tier task.
      const strong = JSON.parse((await agentAuth(...s, "check", "--agent", "deployer", "--user", "bob", "--action", "deploy", "-r", "/prod/api", "--request-approval", "-o", "json")).out) as {
        approval: { id: string };
      };
      const own = await agentAuth(...s, "approvals", "approve", strong.approval.id, "--approver", "bob");
      expect(own.code).to.equal(1);
      expect(own.err).to.match(/^Error: .*bob/);
      const denied = await agentAuth(...s, "approvals", "deny", strong.approval.id, "--approver", "sec-sam", "--comment", "not today");
      expect(denied.code, denied.err).to.equal(0);
      expect(denied.out).to.contain(`Approval ${strong.approval.id}: denied`).and.contain("Decided by: sec-sam").and.contain("Comment: not today");
      // A terminal task cannot change.
      const late = await agentAuth(...s, "approvals", "cancel", strong.approval.id);
      expect(late.code).to.equal(1);

      const third = JSON.parse((await agentAuth(...s, "check", ...deploy, "-r", "/staging/db", "--request-approval", "-o", "json")).out) as { approval: { id: string } };
      const cancelled = await agentAuth(...s, "approvals", "cancel", third.approval.id, "-o", "json");
      expect(cancelled.code).to.equal(0);
      expect(JSON.parse(cancelled.out)).to.deep.include({ status: "cancelled", decided_by: "deployer" });
    } finally {
      child.kill("SIGTERM");
      await exited(child);
    }
  });

  it("approvals list --watch follows transitions until Ctrl-C; approvers decide as their caller identity", async () => {
    const sha = (t: string): string => createHash("sha256").update(t).digest("hex");
    const serverConfig = join(dir, "server.yaml");
    writeFileSync(
      serverConfig,
      `callers:
  orchestrator: {tokens_sha256: ["${sha("orch-token")}"], groups: [authorize, approvals]}
  lead-ann: {tokens_sha256: ["${sha("ann-token")}"], groups: [approve]}
`,
    );
    const { child, address } = await startServe(["serve", "-c", join(dir, "policy.yaml"), "--server-config", serverConfig, "--port", "0"]);
    const watcher = spawn(process.execPath, [CLI, "--server", address, "--token", "orch-token", "approvals", "list", "--watch", "--after", "0-0", "-o", "json"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      let out = "";
      const lines = (n: number): Promise<string[]> =>
        new Promise((resolve) => {
          const check = (): void => {
            const got = out.split("\n").filter((l) => l !== "");
            if (got.length >= n) {
              watcher.stdout!.off("data", onData);
              resolve(got);
            }
          };
          const onData = (c: Buffer): void => {
            out += c.toString();
            check();
          };
          watcher.stdout!.on("data", onData);
          check();
        });
      const orch = ["--server", address, "--token", "orch-token"];
      const requested = await agentAuth(...orch, "check", ...deploy, "--request-approval", "-o", "json");
      expect(requested.code, requested.err).to.equal(0);
      const id = (JSON.parse(requested.out) as { approval: { id: string } }).approval.id;
      // The requester may not approve; the approver approves as itself.
      const notAllowed = await agentAuth(...orch, "approvals", "approve", id);
      expect(notAllowed.code).to.equal(1);
      expect(notAllowed.err).to.contain("'approve' or 'approvals-relay' group needed");
      const naming = await agentAuth("--server", address, "--token", "ann-token", "approvals", "approve", id, "--approver", "lead-bea");
      expect(naming.code).to.equal(1);
      expect(naming.err).to.contain("needs the 'approvals-relay' group");
      const approved = await agentAuth("--server", address, "--token", "ann-token", "approvals", "approve", id, "-o", "json");
      expect(approved.code, approved.err).to.equal(0);
      expect(JSON.parse(approved.out)).to.deep.include({ status: "approved", decided_by: "lead-ann", requested_by: "orchestrator" });

      const events = (await lines(2)).map((l) => JSON.parse(l) as { event: string; cursor: string; approval: { id: string; status: string } });
      expect(events.map((e) => [e.event, e.approval.id, e.approval.status])).to.deep.equal([
        ["requested", id, "pending"],
        ["approved", id, "approved"],
      ]);
      watcher.kill("SIGINT");
      expect(await exited(watcher)).to.equal(0);
    } finally {
      if (watcher.exitCode === null) watcher.kill("SIGKILL");
      child.kill("SIGTERM");
      await exited(child);
    }
  });

  it("checks its arguments before connecting", async () => {
    const usage = async (...argv: string[]): Promise<string> => {
      const r = await inProcess(...argv);
      expect(r.code, r.err).to.equal(2);
      return r.err.split("\n")[0]!;
    };
    expect(await usage("--server", "127.0.0.1:1", "approvals")).to.equal("Error: approvals: say what to do: list, show, approve, deny, cancel");
    expect(await usage("--server", "127.0.0.1:1", "approvals", "grant", "x")).to.equal("Error: approvals: unknown action 'grant'; use one of list, show, approve, deny, cancel");
    expect(await usage("--server", "127.0.0.1:1", "approvals", "approve")).to.equal("Error: approvals approve: the task ID is required");
    expect(await usage("--server", "127.0.0.1:1", "approvals", "list", "--status", "open")).to.match(/--status must be one of pending, approved/);
    expect(await usage("--server", "127.0.0.1:1", "approvals", "show", "x", "--comment", "c")).to.equal("Error: approvals show: --comment applies to approve and deny only");
    expect(await usage("--server", "127.0.0.1:1", "approvals", "list", "--after", "1-0")).to.equal("Error: approvals: --after goes with list --watch");
    expect(await usage("approvals", "list")).to.match(/approvals: needs --server/);
    expect(await usage("-c", "examples/agent_auth.yaml", "check", ...deploy, "--approval", "x")).to.equal("Error: check: --approval needs --server: approvals live on the server");
    expect(await usage("--server", "127.0.0.1:1", "check", ...deploy, "--justification", "x")).to.equal("Error: check: --justification goes with --request-approval");
    expect(await usage("--server", "127.0.0.1:1", "check", ...deploy, "--approval", "x", "--request-approval")).to.match(/do not go together/);
  });
});
