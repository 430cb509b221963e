import { ServerCredentials } from "@grpc/grpc-js";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readCertificatePem, readPrivateKeyPem } from "../../client/tls.ts";

/** Certificate files for serving over TLS. With `clientCa`, clients must present a certificate it signed (mutual TLS). */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly clientCa?: string | undefined;
}

/** Server credentials: plaintext without files, TLS with cert and key, mutual TLS with a client CA too. */
export function serverCredentials(tls: TlsFiles | undefined): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  // Checked here so a wrong file is named, instead of surfacing as OpenSSL's text.
  const cert = readCertificatePem(tls.cert, "certificate");
  const key = readPrivateKeyPem(tls.key, "private key");
  if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) {
    throw new Error(`the TLS private key ${tls.key} does not belong to the certificate ${tls.cert}`);
  }
  const ca = tls.clientCa === undefined ? null : readCertificatePem(tls.clientCa, "client CA");
  return ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null);
}
