import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { parseServerConfig } from "../../../src/server/server-config.ts";
import { CLI } from "../../support/processes.ts";

const errorsOf = (text: string): readonly string[] => {
  try {
    parseServerConfig(text);
  } catch (error) {
    return (error as { errors: readonly string[] }).errors;
  }
  return [];
};

describe("server config: the http section", () => {
  it("reads host, port and the published base URL (normalized)", () => {
    const consoleDefaults = { enabled: true, sessionMinutes: 480, secureCookies: false };
    expect(parseServerConfig("http: {port: 8080}").http).to.deep.equal({ host: undefined, port: 8080, policyDecisionPoint: undefined, signingKey: undefined, console: consoleDefaults });
    expect(parseServerConfig("http: {host: 0.0.0.0, port: 0, policy_decision_point: 'https://Gw.Example:8443/authz/'}").http).to.deep.equal({
      host: "0.0.0.0",
      port: 0,
      policyDecisionPoint: "https://gw.example:8443/authz",
      signingKey: undefined,
      console: consoleDefaults,
    });
    expect(parseServerConfig("http: {port: 1, signing_key: /etc/pdp.pem, signing_key_id: k1}").http?.signingKey).to.deep.equal({ path: "/etc/pdp.pem", kid: "k1" });
    expect(parseServerConfig("http: {port: 1, signing_key: /etc/pdp.pem}").http?.signingKey).to.deep.equal({ path: "/etc/pdp.pem", kid: undefined });
    expect(parseServerConfig("metrics: {port: 1}").http).to.equal(undefined);
    expect(parseServerConfig("http: {port: 1, console: {enabled: false, session_minutes: 30, secure_cookies: true}}").http?.console).to.deep.equal({
      enabled: false,
      sessionMinutes: 30,
      secureCookies: true,
    });
  });

  it("names every problem", () => {
    expect(errorsOf("http: {host: ''}")).to.include.members(["http.host: must be a host name or address", "http.port: is required"]);
    expect(errorsOf("http: {port: 70000}")).to.deep.equal(["http.port: must be at most 65535, got 70000"]);
    expect(errorsOf("http: {port: 1, policy_decision_point: 'pdp.example.com'}")).to.deep.equal(["http.policy_decision_point: 'pdp.example.com' is not an absolute URL"]);
    expect(errorsOf("http: {port: 1, policy_decision_point: 'https://pdp.example.com/?x=1'}")).to.deep.equal(["http.policy_decision_point: 'https://pdp.example.com/?x=1' must have no query or fragment"]);
    expect(errorsOf("http: {port: 1, policy_decision_point: 'ftp://pdp.example.com'}")).to.deep.equal(["http.policy_decision_point: 'ftp://pdp.example.com' must be an https:// (or http://) URL"]);
    expect(errorsOf("http: {port: 1, tls: true}")[0]).to.match(/^http\.tls: unknown key/);
    expect(errorsOf("http: 8080")).to.deep.equal(["http: must be a mapping with port (and host, policy_decision_point, signing_key, signing_key_id, console)"]);
    expect(errorsOf("http: {port: 1, signing_key: ''}")).to.deep.equal(["http.signing_key: must be the path of a PEM file holding an Ed25519 private key"]);
    expect(errorsOf("http: {port: 1, signing_key_id: k1}")).to.deep.equal(["http.signing_key_id: needs http.signing_key (the key it names)"]);
    expect(errorsOf("http: {port: 1, console: {session_minutes: 0, enabled: 'yes', theme: dark}}")).to.have.members([
      "http.console.theme: unknown key (known: enabled, session_minutes, secure_cookies)",
      "http.console.enabled: must be true or false",
      "http.console.session_minutes: must be at least 1, got 0",
    ]);
  });

  it("serve refuses a bad --http-port as a usage error", () => {
    const r = spawnSync(process.execPath, [CLI, "-c", "examples/agent_auth.yaml", "serve", "--http-port", "70000"], { encoding: "utf8" });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.include("serve: --http-port must be between 0 and 65535, got 70000");
  });
});
