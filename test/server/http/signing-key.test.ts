import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { ephemeralSigningKey, loadSigningKey } from "../../../src/server/http/signing-key.ts";
import type { Logger } from "../../../src/server/logger.ts";
import { startTestServer } from "../../support/server.ts";

describe("the binding-token signing key (http.signing_key)", function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-signing-key-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("loads an Ed25519 PKCS #8 PEM, with the configured kid or its RFC 7638 thumbprint", () => {
    const file = join(dir, "ok.pem");
    writeFileSync(file, generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }));
    const named = loadSigningKey({ path: file, kid: "k1" });
    expect(named.kid).to.equal("k1");
    expect(named.ephemeral).to.equal(false);
    expect(named.publicJwk).to.include({ kty: "OKP", crv: "Ed25519", kid: "k1", use: "sig", alg: "EdDSA" });
    const unnamed = loadSigningKey({ path: file });
    expect(unnamed.kid).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(unnamed.publicJwk.x).to.equal(named.publicJwk.x);
  });

  it("refuses a missing file, a file that is not a key and a key of another type, naming the file", () => {
    expect(() => loadSigningKey({ path: join(dir, "missing.pem") })).to.throw(/http\.signing_key: cannot read .*missing\.pem/);
    const junk = join(dir, "junk.pem");
    writeFileSync(junk, "not a key");
    expect(() => loadSigningKey({ path: junk })).to.throw(/junk\.pem is not a PEM private key/);
    const ec = join(dir, "ec.pem");
    writeFileSync(ec, generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }));
    expect(() => loadSigningKey({ path: ec })).to.throw(/holds a ec key; an Ed25519 key is required/);
  });

  it("generates a different key in each process when none is configured, and the server says so in its log", async () => {
    expect(ephemeralSigningKey().kid).to.not.equal(ephemeralSigningKey().kid);
    const warnings: string[] = [];
    const logger: Logger = { info: () => {}, warn: (m) => void warnings.push(m), error: () => {} };
    const { server, client } = await startTestServer({ http: { port: 0 }, logger });
    client.close();
    await server.close(1000);
    expect(warnings.some((w) => w.startsWith("http.signing_key is not set"))).to.equal(true);
  });

  it("a server with a bad key file does not start", async () => {
    let error: unknown;
    await startTestServer({ http: { port: 0, signingKey: { path: join(dir, "absent.pem") } } }).catch((e: unknown) => (error = e));
    expect(String(error)).to.match(/http\.signing_key: cannot read/);
  });
});
