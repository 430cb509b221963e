import { ServerCredentials } from "@grpc/grpc-js";
import { readPem } from "../../client/tls.ts";

/** Certificate files for serving over TLS. With `clientCa`, clients must present a certificate it signed (mutual TLS). */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly clientCa?: string | undefined;
}

/** Server credentials: plaintext without files, TLS with cert and key, mutual TLS with a client CA too. */
export function serverCredentials(tls: TlsFiles | undefined): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  const cert = readPem(tls.cert, "certificate");
  const key = readPem(tls.key, "private key");
  const ca = tls.clientCa === undefined ? null : readPem(tls.clientCa, "client CA");
  return ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null);
}
