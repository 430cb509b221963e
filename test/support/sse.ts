import { request } from "node:http";

/** One Server-Sent Event as a test reads it. */
export interface SseEvent {
  readonly event: string;
  readonly id: string;
  readonly data: string;
}

/** An open event stream: its status, headers and events as they come. */
export interface SseStream {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The next event (a `message` unless named), waiting up to `timeoutMs`. */
  next(timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

/** Opens `path` as an event stream over a real socket; resolves once the answer's head arrives. */
export function openEvents(base: string, path: string, headers: Readonly<Record<string, string>> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { headers: { accept: "text/event-stream", ...headers }, agent: false }, (res) => {
      const queue: SseEvent[] = [];
      const waiters: ((e: SseEvent | Error) => void)[] = [];
      let buffer = "";
      let ended = false;
      const deliver = (e: SseEvent): void => {
        const w = waiters.shift();
        if (w !== undefined) w(e);
        else queue.push(e);
      };
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = "message";
          let id = "";
          const data: string[] = [];
          let any = false;
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue;
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "event") event = value;
            else if (field === "id") id = value;
            else if (field === "data") data.push(value);
            else continue;
            any = true;
          }
          if (any && data.length > 0) deliver({ event, id, data: data.join("\n") });
        }
      });
      res.on("end", () => {
        ended = true;
        for (const w of waiters.splice(0)) w(new Error("the stream ended"));
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        next: (timeoutMs = 10_000) =>
          new Promise<SseEvent>((ok, fail) => {
            const queued = queue.shift();
            if (queued !== undefined) return ok(queued);
            if (ended) return fail(new Error("the stream ended"));
            const timer = setTimeout(() => fail(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
            waiters.push((e) => {
              clearTimeout(timer);
              if (e instanceof Error) fail(e);
              else ok(e);
            });
          }),
        close: () => req.destroy(),
      });
    });
    req.on("error", reject);
    req.end();
  });
}
