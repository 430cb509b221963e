import { Code, isClientError } from "../client/index.ts";

/** A failure said in words a user can act on, with the next thing to try. */
export interface FriendlyError {
  readonly message: string;
  readonly hint: string;
}

/** How the CLI dialled the server, for the explanation. */
export interface DialInfo {
  readonly target: string;
  readonly tls: boolean;
  readonly clientCertificate: boolean;
}

/**
 * Explains a call that failed before reaching the server (nothing listening,
 * TLS on one side only, an untrusted certificate, a missing client
 * certificate); undefined for anything else, which is printed as it is.
 */
export function explainConnectionError(error: unknown, dial: DialInfo): FriendlyError | undefined {
  if (!isClientError(error)) return undefined;
  const text = error.details;
  const at = dial.target;
  if (error.code === Code.DEADLINE_EXCEEDED && /waiting for|Waiting for LB pick/i.test(text)) {
    return { message: `no agent-auth server answered at ${at} in time`, hint: "check --server (host and port) and that the server is running and reachable" };
  }
  if (error.code !== Code.UNAVAILABLE) return undefined;
  if (/ECONNREFUSED/.test(text)) {
    return { message: `no agent-auth server is running at ${at} (connection refused)`, hint: "start one with 'agent-auth -c POLICY serve', or point --server at a running one" };
  }
  if (/ENOTFOUND|EAI_AGAIN|Name resolution failed|getaddrinfo/i.test(text)) {
    return { message: `cannot resolve the host of ${at}`, hint: "check the host name given to --server" };
  }
  if (/wrong version number|packet length too long|http request|unknown protocol/i.test(text)) {
    return { message: `the server at ${at} speaks plaintext, but the CLI asked for TLS`, hint: "use --server http://HOST:PORT (or HOST:PORT without --tls-ca/--tls-cert)" };
  }
  if (/certificate required|alert number 116|peer did not return a certificate/i.test(text)) {
    return { message: `the server at ${at} requires a client certificate (mutual TLS)`, hint: "pass --tls-cert FILE --tls-key FILE signed by the server's client CA" };
  }
  if (/alert (unknown ca|bad certificate)|alert number (48|42)|certificate unknown|alert number 46/i.test(text)) {
    return { message: `the server at ${at} did not accept the client certificate`, hint: "use a --tls-cert signed by the CA the server trusts (its --tls-client-ca)" };
  }
  const untrusted = /unable to verify the first certificate|self[- ]signed certificate|unable to get local issuer certificate|certificate has expired|Hostname\/IP does not match|certificate is not yet valid/i.exec(text);
  if (untrusted !== null) {
    return { message: `the certificate of the server at ${at} is not trusted (${untrusted[0]})`, hint: "pass --tls-ca FILE with the CA that signed it, and dial the name the certificate is for" };
  }
  if (!dial.tls && /Failed to connect|Connection dropped|Protocol error|socket hang up|ECONNRESET/i.test(text)) {
    return { message: `the server at ${at} closed the connection during set-up; it probably requires TLS`, hint: "use --server https://HOST:PORT (and --tls-ca FILE for a private CA)" };
  }
  if (/No connection established|Failed to connect|ECONNRESET/i.test(text)) {
    return { message: `cannot connect to the server at ${at}`, hint: "check --server, the server's log, and whether it expects TLS" };
  }
  return undefined;
}
