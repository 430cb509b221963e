import { readFileSync } from "node:fs";
import { ServerCredentials } from "@grpc/grpc-js";

/** Certificate files for serving over TLS. With `clientCa`, clients must present a certificate it signed (mutual TLS). */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly clientCa?: string | undefined;
}

/** Reads a PEM file, naming it when it cannot be read. */
export function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read the TLS ${what} file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** Server credentials: plaintext without files, TLS with cert and key, mutual TLS with a client CA too. */
export function serverCredentials(tls: TlsFiles | undefined): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  const cert = readPem(tls.cert, "certificate");
  const key = readPem(tls.key, "private key");
  const ca = tls.clientCa === undefined ? null : readPem(tls.clientCa, "client CA");
  return ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null);
}
