import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/** An HTTP answer as tests look at it. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly json: any;
}

/** Options of one request: raw body text (default: JSON of `body`), headers, TLS files. */
export interface HttpCall {
  readonly method?: string;
  readonly body?: unknown;
  readonly raw?: string;
  readonly headers?: Readonly<Record<string, string | string[]>>;
  readonly tls?: { readonly ca: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
}

/** Sends one request over a real socket (a fresh connection each time) and reads the whole answer. */
export function call(base: string, path: string, c: HttpCall = {}): Promise<HttpAnswer> {
  const url = new URL(path, base);
  const payload = c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body));
  const headers: Record<string, string | string[]> = { ...(payload === undefined || c.raw !== undefined ? {} : { "content-type": "application/json" }), ...c.headers };
  if (payload !== undefined) headers["content-length"] = String(Buffer.byteLength(payload));
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: c.method ?? (payload === undefined ? "GET" : "POST"), headers, agent: false, ...(c.tls ?? {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** POSTs `body` as JSON. */
export function post(base: string, path: string, body: unknown, headers: Readonly<Record<string, string>> = {}): Promise<HttpAnswer> {
  return call(base, path, { body, headers });
}
