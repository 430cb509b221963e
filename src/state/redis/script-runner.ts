import { createHash } from "node:crypto";
import { Command, type Cluster, type Redis } from "ioredis";
import { guard } from "./connection.ts";
import { evalFromEvalsha, respCommand, type RespArgs } from "./resp-builder.ts";

/** A Lua script and its SHA-1, as EVALSHA names it. */
export interface Script {
  readonly lua: string;
  readonly sha: string;
}

export function script(lua: string): Script {
  return { lua, sha: createHash("sha1").update(lua).digest("hex") };
}

/**
 * Runs the store's hot scripts from bytes it encoded itself (see
 * resp-builder.ts): EVALSHA first, then EVAL (which loads the script) when
 * Redis does not know it, as after a restart. Every key of a call shares the
 * deployment's hash tag, so `slotKey` (any of them) routes it on a Cluster.
 */
export class ScriptRunner {
  readonly #client: Redis | Cluster;
  readonly #slotKey: string;

  constructor(client: Redis | Cluster, slotKey: string) {
    this.#client = client;
    this.#slotKey = slotKey;
  }

  /** The EVALSHA of `script` on `numKeys` keys: the slot key first, then `groups` (which are emptied). */
  command(s: Script, numKeys: number, groups: readonly RespArgs[]): Buffer {
    return respCommand(["EVALSHA", s.sha, String(numKeys), this.#slotKey], groups);
  }

  /** Sends a command built by {@link command}; failures come back as StateUnavailableError. */
  send(s: Script, evalsha: Buffer): Promise<unknown> {
    return guard(
      this.#send(evalsha, "evalsha").catch((error: unknown) => {
        if (error instanceof Error && error.message.startsWith("NOSCRIPT")) return this.#send(evalFromEvalsha(evalsha, s.lua), "eval");
        throw error;
      }),
    );
  }

  #send(bytes: Buffer, name: "evalsha" | "eval"): Promise<unknown> {
    const command = new EncodedCommand(name, this.#slotKey, bytes);
    void this.#client.sendCommand(command);
    return command.promise;
  }
}

/**
 * A command whose bytes the store encoded itself; ioredis still routes it,
 * times it out and parses the reply.
 */
class EncodedCommand extends Command {
  readonly #bytes: Buffer;

  constructor(name: "evalsha" | "eval", slotKey: string, bytes: Buffer) {
    super(name, ["", "1", slotKey], { replyEncoding: "utf8" });
    this.#bytes = bytes;
  }

  override toWritable(): Buffer {
    return this.#bytes;
  }
}
