import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { loadPackageDefinition } from "@grpc/grpc-js";
import { PolicyService } from "../../../gen/agentauth/v1/policy_pb.ts";
import { AuditService } from "../../../gen/agentauth/v1/audit_pb.ts";
import { createServiceDefinition, type CallContext } from "../../../src/server/grpc/adapter.ts";
import { RpcError, invalidArgument } from "../../../src/server/grpc/errors.ts";
import { startGrpcServer, type RunningGrpcServer } from "../../../src/server/grpc/server.ts";
import { createTypedClient } from "../../../src/client/typed-client.ts";
import { isClientError, type ClientError } from "../../../src/client/client-error.ts";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

async function failure(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p;
  } catch (e) {
    if (isClientError(e)) return e;
    throw e;
  }
  throw new Error("expected the call to fail");
}

/** A fake PolicyService whose behaviour is steered by the request text. */
function fakePolicy(log: { internal: unknown[]; aborted: string[] }) {
  return createServiceDefinition(
    PolicyService,
    {
      async validatePolicy(request, ctx: CallContext) {
        const [verb, arg] = request.yaml.split(":");
        if (verb === "sleep") {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, Number(arg));
            ctx.signal.addEventListener("abort", () => {
              clearTimeout(t);
              log.aborted.push(request.yaml);
              resolve();
            });
          });
          return { revision: `slept ${arg}` };
        }
        if (verb === "field") throw invalidArgument("yaml", "is bad");
        if (verb === "crash") throw new Error("secret internals");
        if (verb === "deny") throw new RpcError(status.PERMISSION_DENIED, "not you", [], { reason: "NOPE", metadata: { who: "x" } });
        if (verb === "big") return { revision: "x".repeat(Number(arg)) };
        return { revision: `ok ${request.yaml}`, warnings: [{ path: "p", message: ctx.metadata.get("x-test")[0]?.toString() ?? "" }] };
      },
      async describePolicy() {
        return { name: "fake" };
      },
      async reloadPolicy() {
        return { revision: "fake" };
      },
      async explain() {
        return {};
      },
    },
    { onInternalError: (e) => log.internal.push(e) },
  );
}

describe("grpc adapter, server and client (real sockets)", () => {
  let server: RunningGrpcServer;
  let channel: Client;
  const log = { internal: [] as unknown[], aborted: [] as string[] };
  const client = () => createTypedClient(PolicyService, channel);

  before(async () => {
    server = await startGrpcServer({ port: 0, maxReceiveMessageBytes: 64 * 1024, services: [{ service: PolicyService, ...fakePolicy(log) }] });
    channel = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
  });
  after(async () => {
    channel.close();
    await server.shutdown(500);
  });

  it("round-trips a unary call with request metadata", async () => {
    const r = await client().validatePolicy({ yaml: "hello" }, { metadata: { "x-test": "hdr" } });
    expect([r.revision, r.warnings[0]?.message]).to.deep.equal(["ok hello", "hdr"]);
  });

  it("maps an RpcError to its code with field violations and error info", async () => {
    const e = await failure(client().validatePolicy({ yaml: "field" }));
    expect([e.code, e.details, e.fieldViolations]).to.deep.equal([status.INVALID_ARGUMENT, "yaml: is bad", [{ field: "yaml", description: "is bad" }]]);
    const d = await failure(client().validatePolicy({ yaml: "deny" }));
    expect([d.code, d.errorInfo]).to.deep.equal([status.PERMISSION_DENIED, { reason: "NOPE", metadata: { who: "x" } }]);
  });

  it("turns an unexpected error into INTERNAL without leaking it", async () => {
    const e = await failure(client().validatePolicy({ yaml: "crash" }));
    expect(e.code).to.equal(status.INTERNAL);
    expect(e.details).to.not.contain("secret");
    expect(String(log.internal.at(-1))).to.contain("secret internals");
  });

  it("answers malformed request bytes with INVALID_ARGUMENT", async () => {
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    const e = await new Promise<ServiceError>((resolve) =>
      channel.makeUnaryRequest("/agentauth.v1.PolicyService/ValidatePolicy", (b: Buffer) => b, (b: Buffer) => b, garbage, new Metadata(), {}, (err) => resolve(err!)),
    );
    expect(e.code).to.equal(status.INVALID_ARGUMENT);
    expect(e.details).to.contain("agentauth.v1.ValidatePolicyRequest");
  });

  it("refuses a message over the size limit with RESOURCE_EXHAUSTED", async () => {
    const e = await failure(client().validatePolicy({ yaml: "x".repeat(100 * 1024) }));
    expect(e.code).to.equal(status.RESOURCE_EXHAUSTED);
    expect((await client().validatePolicy({ yaml: "still serving" })).revision).to.equal("ok still serving");
  });

  it("answers every one of many calls arriving together, each with its own outcome", async () => {
    // Calls that arrive in one turn are started together at its end: none may be lost or mixed up.
    const yamls = Array.from({ length: 300 }, (_, i) => (i % 7 === 3 ? "field" : i % 11 === 5 ? "crash" : `n${i}`));
    const answers = await Promise.all(yamls.map((yaml) => client().validatePolicy({ yaml }).then((r) => r.revision, (e: ClientError) => `code ${e.code}`)));
    expect(answers).to.deep.equal(yamls.map((y) => (y === "field" ? `code ${status.INVALID_ARGUMENT}` : y === "crash" ? `code ${status.INTERNAL}` : `ok ${y}`)));
  });

  it("honours deadlines: the client gets DEADLINE_EXCEEDED and the handler's signal aborts", async () => {
    const e = await failure(client().validatePolicy({ yaml: "sleep:2000" }, { deadlineMs: 100 }));
    expect(e.code).to.equal(status.DEADLINE_EXCEEDED);
    const end = Date.now() + 2000;
    while (!log.aborted.includes("sleep:2000") && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(log.aborted).to.include("sleep:2000");
  });

  it("reports health (grpc.health.v1) and changes it", async () => {
    const pkg = loadPackageDefinition(loadSync(require.resolve("grpc-health-check/proto/health/v1/health.proto"), { keepCase: true, enums: String })) as any;
    const health = new pkg.grpc.health.v1.Health(`127.0.0.1:${server.port}`, credentials.createInsecure());
    const check = (service: string) => new Promise<string>((resolve, reject) => health.Check({ service }, (e: Error | null, r: { status: string }) => (e ? reject(e) : resolve(r.status))));
    expect(await check("")).to.equal("SERVING");
    expect(await check("agentauth.v1.PolicyService")).to.equal("SERVING");
    server.health.set("NOT_SERVING");
    expect(await check("")).to.equal("NOT_SERVING");
    server.health.set("SERVING");
    health.close();
  });

  it("lists services and describes symbols through server reflection", async () => {
    const reflectionProto = require.resolve("@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto");
    const pkg = loadPackageDefinition(loadSync(reflectionProto, { keepCase: true })) as any;
    const reflection = new pkg.grpc.reflection.v1.ServerReflection(`127.0.0.1:${server.port}`, credentials.createInsecure());
    const ask = (req: object) =>
      new Promise<any>((resolve, reject) => {
        const call = reflection.ServerReflectionInfo();
        call.on("data", (r: unknown) => {
          resolve(r);
          call.end();
        });
        call.on("error", reject);
        call.write(req);
      });
    const listed = await ask({ list_services: "" });
    expect(listed.list_services_response.service.map((s: { name: string }) => s.name)).to.include("agentauth.v1.PolicyService");
    const file = await ask({ file_containing_symbol: "agentauth.v1.PolicyService" });
    expect(file.file_descriptor_response.file_descriptor_proto.length).to.be.greaterThan(0);
    reflection.close();
  });
});

describe("graceful shutdown and TLS", () => {
  it("lets a call in flight finish while refusing new ones", async () => {
    const log = { internal: [] as unknown[], aborted: [] as string[] };
    const server = await startGrpcServer({ port: 0, services: [{ service: PolicyService, ...fakePolicy(log) }] });
    const channel = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
    const c = createTypedClient(PolicyService, channel);
    const inFlight = c.validatePolicy({ yaml: "sleep:300" });
    await new Promise((r) => setTimeout(r, 50));
    const stopped = server.shutdown(5000);
    expect((await inFlight).revision).to.equal("slept 300");
    await stopped;
    const fresh = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
    const e = await failure(createTypedClient(PolicyService, fresh).validatePolicy({ yaml: "x" }, { deadlineMs: 1000 }));
    expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).to.include(e.code);
    channel.close();
    fresh.close();
  });

  describe("TLS", () => {
    let dir: string;
    const file = (n: string) => join(dir, n);
    before(function () {
      this.timeout(120_000);
      dir = mkdtempSync(join(tmpdir(), "agent-auth-tls-"));
      const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
      ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test-ca");
      for (const [name, cn, ext] of [
        ["server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        ["client", "orchestrator", "subjectAltName=DNS:orchestrator.example"],
      ] as const) {
        ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`);
        execFileSync("bash", ["-c", `printf '%s\\n' '${ext}' > ${name}.ext`], { cwd: dir });
        ssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
      }
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    async function serve(clientCa: boolean): Promise<{ server: RunningGrpcServer; peers: (string | undefined)[] }> {
      const peers: (string | undefined)[] = [];
      const { definition, handlers } = createServiceDefinition(PolicyService, {
        async validatePolicy(_r, ctx) {
          peers.push(ctx.peerCertificate?.subject["CN"]);
          return { revision: "tls" };
        },
        async describePolicy() {
          return {};
        },
        async reloadPolicy() {
          return {};
        },
        async explain() {
          return {};
        },
      });
      const server = await startGrpcServer({
        port: 0,
        tls: { cert: file("server.pem"), key: file("server.key"), ...(clientCa ? { clientCa: file("ca.pem") } : {}) },
        services: [{ service: PolicyService, definition, handlers }],
      });
      return { server, peers };
    }

    it("serves over TLS to a client that trusts the CA, and not to a plaintext client", async () => {
      const { server } = await serve(false);
      const tls = new Client(`localhost:${server.port}`, credentials.createSsl(execFileSync("cat", [file("ca.pem")])));
      expect((await createTypedClient(PolicyService, tls).validatePolicy({ yaml: "" })).revision).to.equal("tls");
      const plain = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
      const e = await failure(createTypedClient(PolicyService, plain).validatePolicy({ yaml: "" }, { deadlineMs: 2000 }));
      expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).to.include(e.code);
      tls.close();
      plain.close();
      await server.shutdown(500);
    });

    it("requires and verifies client certificates under mutual TLS, exposing the peer's identity", async () => {
      const { server, peers } = await serve(true);
      const ca = execFileSync("cat", [file("ca.pem")]);
      const withCert = new Client(`localhost:${server.port}`, credentials.createSsl(ca, execFileSync("cat", [file("client.key")]), execFileSync("cat", [file("client.pem")])));
      expect((await createTypedClient(PolicyService, withCert).validatePolicy({ yaml: "" })).revision).to.equal("tls");
      expect(peers).to.deep.equal(["orchestrator"]);
      const noCert = new Client(`localhost:${server.port}`, credentials.createSsl(ca));
      const e = await failure(createTypedClient(PolicyService, noCert).validatePolicy({ yaml: "" }, { deadlineMs: 2000 }));
      expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).to.include(e.code);
      withCert.close();
      noCert.close();
      await server.shutdown(500);
    });

    it("names an unreadable certificate file", async () => {
      let error: unknown;
      try {
        await startGrpcServer({ port: 0, tls: { cert: file("missing.pem"), key: file("server.key") }, services: [] });
      } catch (e) {
        error = e;
      }
      expect(String(error)).to.contain(`cannot read the TLS certificate file ${file("missing.pem")}`);
    });
  });
});

// Keep the audit descriptor referenced so streaming types stay checked here too.
void AuditService;
