import { pollApproval, type WaitForApprovalOptions } from "./approvals/wait.ts";
import type { ApprovalTask } from "./approvals/types.ts";
import { createJsonlFileSink } from "./audit/jsonl-file-sink.ts";
import type { AuditSink } from "./audit/sink.ts";
import type { AuthConfig } from "./config/types.ts";
import { AuthEngine as Engine, type AuthEngineOptions } from "./engine/auth-engine.ts";
import { createMemoryStore } from "./state/memory/memory-store.ts";
import type { StateStore } from "./state/store.ts";

/** Options for an embedded {@link AuthEngine}; every dependency has a default. */
export interface EmbeddedEngineOptions extends Omit<AuthEngineOptions, "store" | "audit" | "ownsStore"> {
  /** Sessions and delegations. Default: a new memory store on the engine's clock (closed with the engine). */
  readonly store?: StateStore | undefined;
  /**
   * Where decisions are recorded. Default: the JSONL file at `audit.path`
   * when `audit.enabled`, as the original library does. `false`: no audit.
   */
  readonly audit?: AuditSink | readonly AuditSink[] | false | undefined;
}

/**
 * The decision engine as a library, with embedded defaults: the memory
 * store, and the audit file the policy names.
 *
 *   const engine = new AuthEngine(loadConfig("agent_auth.yaml"));
 *   const decision = await engine.authorize({ agent: "copilot", user: "alice", action: "read" });
 *   await engine.close();
 */
export class AuthEngine extends Engine {
  constructor(config: AuthConfig, options: EmbeddedEngineOptions = {}) {
    const onError = options.onError;
    super(config, {
      ...options,
      store: options.store ?? createMemoryStore(options.clock === undefined ? {} : { clock: options.clock }),
      ownsStore: options.store === undefined,
      audit: defaultSinks(options.audit, config, onError),
    });
  }

  /**
   * Reads the task until it is no longer pending (an approver answered, or it
   * expired) or `timeoutMs` has passed, pausing 50 ms, then twice as long
   * each time, up to 1 s: the approver may decide through another engine on
   * the same Redis store. Resolves with the last task read (undefined when
   * unknown); rejects when `signal` aborts.
   */
  waitForApproval(approvalId: string, options: WaitForApprovalOptions): Promise<ApprovalTask | undefined> {
    return pollApproval((id) => this.getApproval(id), approvalId, options);
  }
}

function defaultSinks(option: EmbeddedEngineOptions["audit"], config: AuthConfig, onError: AuthEngineOptions["onError"]): readonly AuditSink[] {
  if (option === false) return [];
  if (option === undefined) {
    if (!config.audit.enabled) return [];
    return [
      createJsonlFileSink(config.audit.path, {
        durability: config.audit.durability,
        bufferBytes: config.audit.bufferBytes,
        onError: (e) => onError?.(e, "audit"),
        onDropped: (count, reason, e) => onError?.(new Error(`${count} audit record(s) dropped (${reason}): ${e instanceof Error ? e.message : String(e)}`), "audit"),
      }),
    ];
  }
  return Array.isArray(option) ? option : [option as AuditSink];
}
