/**
 * Live policy reload: the policy file is read again when it changes on disk
 * (watched), on SIGHUP and on PolicyService.ReloadPolicy. A new policy is
 * validated and compiled before it replaces the old one in a single
 * assignment, so a decision uses one revision from start to end. An invalid
 * file keeps the running policy; its problems are logged, kept for
 * DescribePolicy and shown in health and metrics until a valid file is read.
 */
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { isConfigError, loadConfigWithWarnings, type AuthConfig, type ConfigIssue, type ConfigLimits } from "../config/index.ts";
import type { AuthEngine } from "../engine/auth-engine.ts";
import type { Logger } from "./logger.ts";

/** What asked for a reload. */
export type ReloadTrigger = "file change" | "SIGHUP" | "rpc";

/** The outcome of one reload attempt: installed (or unchanged), or refused with every problem of the file. */
export type ReloadResult =
  | { readonly ok: true; readonly changed: boolean; readonly revision: string; readonly previousRevision: string; readonly warnings: readonly ConfigIssue[] }
  | { readonly ok: false; readonly revision: string; readonly errors: readonly string[]; readonly issues: readonly ConfigIssue[] };

export interface PolicyReloaderOptions {
  readonly path: string;
  readonly engine: AuthEngine;
  readonly logger: Logger;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Variables that may be interpolated, by name prefix; undefined: all. */
  readonly envPrefixes?: readonly string[] | undefined;
  readonly limits?: Partial<ConfigLimits>;
  /** After every attempt (metrics, health). */
  readonly onResult?: (result: ReloadResult, trigger: ReloadTrigger) => void;
  /** How long a burst of file events is gathered before reading. Default 100 ms. */
  readonly debounceMs?: number;
}

/** Reads the policy file again (watched, on SIGHUP, on ReloadPolicy) and installs it only when it is valid. */
export class PolicyReloader {
  readonly path: string;
  readonly #options: PolicyReloaderOptions;
  #errors: readonly string[] = [];
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: PolicyReloaderOptions) {
    this.#options = options;
    this.path = resolve(options.path);
  }

  /** The problems of the file as last read; empty while it is the policy being served. */
  get errors(): readonly string[] {
    return this.#errors;
  }

  /** Reads the file again and installs it when valid. Never throws for a bad file. */
  reload(trigger: ReloadTrigger): ReloadResult {
    const { engine, logger } = this.#options;
    const previous = engine.policy;
    let result: ReloadResult;
    try {
      const { config, warnings } = loadConfigWithWarnings(this.path, {
        ...(this.#options.env === undefined ? {} : { env: this.#options.env }),
        ...(this.#options.envPrefixes === undefined ? {} : { envPrefixes: this.#options.envPrefixes }),
        ...(this.#options.limits === undefined ? {} : { limits: this.#options.limits }),
      });
      const compiled = engine.setConfig(config);
      this.#errors = [];
      result = { ok: true, changed: compiled.revision !== previous.revision, revision: compiled.revision, previousRevision: previous.revision, warnings };
      const restartNeeded = auditDiffers(previous.config, config);
      logger.info(result.changed ? "policy reloaded" : "policy reloaded, unchanged", {
        trigger,
        path: this.path,
        revision: compiled.revision,
        previous_revision: previous.revision,
        ...(warnings.length > 0 ? { warnings: warnings.map((w) => w.message) } : {}),
      });
      if (restartNeeded) logger.warn("the audit section changed: it takes effect at the next restart", { path: this.path });
    } catch (error) {
      const issues: readonly ConfigIssue[] = isConfigError(error) ? error.issues : [];
      const errors = isConfigError(error) ? error.errors : [error instanceof Error ? error.message : String(error)];
      this.#errors = errors;
      result = { ok: false, revision: previous.revision, errors, issues };
      logger.error("policy reload failed; still serving the previous revision", { trigger, path: this.path, revision: previous.revision, errors });
    }
    this.#options.onResult?.(result, trigger);
    return result;
  }

  /**
   * Watches the file's directory (editors and config managers replace files
   * by renaming, which a watch on the file itself would lose) and reloads
   * after a burst of changes to the file settles.
   */
  watch(): void {
    if (this.#watcher !== undefined) return;
    const name = basename(this.path);
    this.#watcher = watch(dirname(this.path), { persistent: false }, (_event, file) => {
      if (file !== null && file !== name) return;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.reload("file change"), this.#options.debounceMs ?? 100);
      this.#timer.unref();
    });
    this.#watcher.on("error", (error) => this.#options.logger.warn("cannot watch the policy file; reload with SIGHUP or ReloadPolicy", { path: this.path, error: String(error) }));
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}

function auditDiffers(a: AuthConfig, b: AuthConfig): boolean {
  const x = a.audit;
  const y = b.audit;
  return x.enabled !== y.enabled || x.path !== y.path || x.durability !== y.durability || x.streamMaxLength !== y.streamMaxLength;
}
