import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";

/** Reads a PEM file, naming it when it cannot be read. */
export function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read the TLS ${what} file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/**
 * Reads a PEM certificate file and checks that it holds a certificate, so a
 * wrong file is reported by its name instead of as OpenSSL's error text.
 */
export function readCertificatePem(path: string, what: string): Buffer {
  const pem = readPem(path, what);
  try {
    new X509Certificate(pem);
  } catch {
    throw new Error(`the TLS ${what} file ${path} holds no PEM certificate (it should start with -----BEGIN CERTIFICATE-----)`);
  }
  return pem;
}

/** Reads a PEM private key file and checks that it holds a private key. */
export function readPrivateKeyPem(path: string, what: string): Buffer {
  const pem = readPem(path, what);
  try {
    createPrivateKey(pem);
  } catch {
    throw new Error(`the TLS ${what} file ${path} holds no unencrypted PEM private key (it should start with -----BEGIN PRIVATE KEY-----)`);
  }
  return pem;
}
