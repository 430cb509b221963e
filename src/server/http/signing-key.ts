/**
 * The Ed25519 key the PDP signs its access-request binding tokens with, and
 * the JWK Set that publishes its public half. From a PEM file (PKCS #8) named
 * in the server config, or generated at start when none is configured (then
 * tokens do not survive a restart and other replicas cannot verify them).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";

/** The JWS algorithm of every token agent-auth signs (RFC 8037 EdDSA with Ed25519). */
export const SIGNING_ALGORITHM = "EdDSA";

/** A public JWK as published in the JWK Set. */
export interface PublicJwk {
  readonly kty: "OKP";
  readonly crv: "Ed25519";
  readonly x: string;
  readonly kid: string;
  readonly use: "sig";
  readonly alg: typeof SIGNING_ALGORITHM;
}

/** A loaded signing key. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicJwk: PublicJwk;
  /** True when it was generated at start (no `http.signing_key` configured). */
  readonly ephemeral: boolean;
}

/** Where the key comes from: the server config's `http.signing_key` (a PEM file) and `http.signing_key_id`. */
export interface SigningKeyConfig {
  readonly path: string;
  /** Default: the key's RFC 7638 JWK thumbprint. */
  readonly kid?: string | undefined;
}

/** Reads an Ed25519 private key from a PEM file; throws an Error naming the file and what is wrong with it. */
export function loadSigningKey(config: SigningKeyConfig): SigningKey {
  let text: string;
  try {
    text = readFileSync(config.path, "utf8");
  } catch (error) {
    throw new Error(`http.signing_key: cannot read ${config.path}: ${(error as Error).message}`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: text, format: "pem" });
  } catch (error) {
    throw new Error(`http.signing_key: ${config.path} is not a PEM private key: ${(error as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== "ed25519") {
    throw new Error(`http.signing_key: ${config.path} holds a ${privateKey.asymmetricKeyType ?? "unknown"} key; an Ed25519 key is required (openssl genpkey -algorithm ed25519)`);
  }
  return keyOf(privateKey, config.kid, false);
}

/** A fresh Ed25519 key for this process only. */
export function ephemeralSigningKey(): SigningKey {
  return keyOf(generateKeyPairSync("ed25519").privateKey, undefined, true);
}

function keyOf(privateKey: KeyObject, kid: string | undefined, ephemeral: boolean): SigningKey {
  const publicKey = createPublicKey(privateKey);
  const x = (publicKey.export({ format: "jwk" }) as { x: string }).x;
  // RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
  const thumbprint = createHash("sha256").update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`, "utf8").digest("base64url");
  const id = kid ?? thumbprint;
  return Object.freeze({ kid: id, privateKey, publicKey, ephemeral, publicJwk: Object.freeze({ kty: "OKP", crv: "Ed25519", x, kid: id, use: "sig", alg: SIGNING_ALGORITHM }) });
}
