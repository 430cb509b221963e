import type { Readable, Writable } from "node:stream";
import { JSONRPCMessageSchema, type JSONRPCMessage, type RequestId } from "@modelcontextprotocol/sdk/types.js";

/** A line that is not a JSON-RPC message: why, and the request id when one could be read from it. */
export interface InvalidLine {
  readonly kind: "parse" | "invalid" | "too_long";
  readonly problem: string;
  readonly id: RequestId | undefined;
}

/** Handlers of a line channel. */
export interface LineChannelHandlers {
  onMessage(message: JSONRPCMessage): void;
  onInvalid(line: InvalidLine): void;
  /** The input ended (the peer closed its side or exited). */
  onEnd?(): void;
}

/** Newline-delimited JSON-RPC over a pair of streams: the MCP stdio transport. */
export interface LineChannel {
  send(message: JSONRPCMessage): void;
  /** Stops reading. */
  close(): void;
}

/**
 * MCP's stdio framing (one JSON-RPC message per line) over any two streams,
 * each message checked with the SDK's JSON-RPC schema. Unlike the SDK's
 * stdio transports it hands back what was wrong with a bad line and the
 * request id in it, when there is one, so that the gateway can answer that
 * request instead of leaving its sender waiting. A line over `maxLineBytes`
 * is skipped whole.
 */
export function createLineChannel(input: Readable, output: Writable, handlers: LineChannelHandlers, maxLineBytes = 16 * 1024 * 1024): LineChannel {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skipping = false;

  const onLine = (bytes: Buffer): void => {
    const text = bytes.toString("utf8").replace(/\r$/, "");
    if (text.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      handlers.onInvalid({ kind: "parse", problem: `not JSON (${error instanceof Error ? error.message : String(error)})`, id: undefined });
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(value);
    if (parsed.success) handlers.onMessage(parsed.data);
    else handlers.onInvalid({ kind: "invalid", problem: `not a JSON-RPC 2.0 message (${parsed.error.issues[0]?.message ?? "invalid"})`, id: idIn(value) });
  };

  const onData = (chunk: Buffer): void => {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (skipping) {
        skipping = false;
        continue;
      }
      const line = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      pending = [];
      pendingBytes = 0;
      onLine(line);
    }
    if (start < chunk.length && !skipping) {
      const rest = chunk.subarray(start);
      pending.push(rest);
      pendingBytes += rest.length;
      if (pendingBytes > maxLineBytes) {
        pending = [];
        pendingBytes = 0;
        skipping = true;
        handlers.onInvalid({ kind: "too_long", problem: `a message longer than ${maxLineBytes} bytes`, id: undefined });
      }
    }
  };
  let ended = false;
  const onEnd = (): void => {
    if (ended) return;
    ended = true;
    handlers.onEnd?.();
  };
  input.on("data", onData);
  input.once("end", onEnd);
  input.once("close", onEnd);

  return {
    send(message) {
      if (!output.writableEnded && !output.destroyed) output.write(JSON.stringify(message) + "\n");
    },
    close() {
      input.off("data", onData);
      input.off("end", onEnd);
      input.off("close", onEnd);
    },
  };
}

function idIn(value: unknown): RequestId | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const id = (value as { id?: unknown }).id;
  return typeof id === "string" || (typeof id === "number" && Number.isInteger(id)) ? id : undefined;
}
