/**
 * Live policy reload: the policy file is read again when it changes on disk
 * (watched), on SIGHUP and on PolicyService.ReloadPolicy. A new policy is
 * validated and compiled before it replaces the old one in a single
 * assignment, so a decision uses one revision from start to end. An invalid
 * file keeps the running policy; its problems are logged, kept for
 * DescribePolicy and shown in health and metrics until a valid file is read.
 *
 * A change seen by the watch is read only once the file is stable — the same
 * size, modification time, inode and content across the settle interval — so
 * a file still being written (whose first part may be a valid policy of its
 * own) is never installed. SIGHUP and ReloadPolicy are explicit requests:
 * they read at once (an invalid file is still refused).
 */
import { watch, type FSWatcher } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { isConfigError, loadConfigWithWarnings, parseConfigWithWarnings, type AuthConfig, type ConfigIssue, type ConfigLimits, type ParsedConfig } from "../config/index.ts";
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
  /** How long a burst of file events is gathered before the file is looked at. Default 100 ms. */
  readonly debounceMs?: number;
  /**
   * After a file event, how long the file must stay unchanged (size,
   * modification time, inode and content) before it is read as the new
   * policy (`reload.settle_ms`). Default 1000 ms.
   */
  readonly settleMs?: number;
}

/** Default of {@link PolicyReloaderOptions.settleMs} and of `reload.settle_ms`. */
export const DEFAULT_SETTLE_MS = 1000;

/** Reads the policy file again (watched, on SIGHUP, on ReloadPolicy) and installs it only when it is valid. */
export class PolicyReloader {
  readonly path: string;
  readonly #options: PolicyReloaderOptions;
  #errors: readonly string[] = [];
  #lastAttempt: { readonly at: number; readonly trigger: ReloadTrigger } | undefined;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Bumped by every file event: a settle check started before the latest event gives way to a newer one. */
  #generation = 0;

  constructor(options: PolicyReloaderOptions) {
    this.#options = options;
    this.path = resolve(options.path);
  }

  /** The problems of the file as last read; empty while it is the policy being served. */
  get errors(): readonly string[] {
    return this.#errors;
  }

  /** When the file was last read (ms since the epoch) and why; undefined before the first reload. */
  get lastAttempt(): { readonly at: number; readonly trigger: ReloadTrigger } | undefined {
    return this.#lastAttempt;
  }

  /** Reads the file at once and installs it when valid (SIGHUP, ReloadPolicy). Never throws for a bad file. */
  reload(trigger: ReloadTrigger): ReloadResult {
    return this.#install(trigger, () => loadConfigWithWarnings(this.path, this.#parseOptions()));
  }

  #parseOptions(): { env?: Readonly<Record<string, string | undefined>>; envPrefixes?: readonly string[]; limits?: Partial<ConfigLimits> } {
    return {
      ...(this.#options.env === undefined ? {} : { env: this.#options.env }),
      ...(this.#options.envPrefixes === undefined ? {} : { envPrefixes: this.#options.envPrefixes }),
      ...(this.#options.limits === undefined ? {} : { limits: this.#options.limits }),
    };
  }

  /** Validates and installs what `load` returns, reporting the result. */
  #install(trigger: ReloadTrigger, load: () => ParsedConfig): ReloadResult {
    const { engine, logger } = this.#options;
    const previous = engine.policy;
    this.#lastAttempt = { at: Date.now(), trigger };
    let result: ReloadResult;
    try {
      const { config, warnings } = load();
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
   * once a burst of changes is over and the file has stayed the same for the
   * settle interval.
   */
  watch(): void {
    if (this.#watcher !== undefined) return;
    const name = basename(this.path);
    this.#watcher = watch(dirname(this.path), { persistent: false }, (_event, file) => {
      if (file !== null && file !== name) return;
      const generation = ++this.#generation;
      this.#wait(this.#options.debounceMs ?? 100, () => void this.#reloadWhenStable(generation));
    });
    this.#watcher.on("error", (error) => this.#options.logger.warn("cannot watch the policy file; reload with SIGHUP or ReloadPolicy", { path: this.path, error: String(error) }));
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#generation++;
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #wait(ms: number, then: () => void): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(then, ms);
    this.#timer.unref();
  }

  /**
   * Looks at the file twice, the settle interval apart, and installs the
   * second reading when both agree; otherwise looks again. A newer file
   * event (or close) ends this check: the newer one takes over.
   */
  async #reloadWhenStable(generation: number): Promise<void> {
    const first = await snapshot(this.path);
    if (generation !== this.#generation) return;
    this.#wait(this.#options.settleMs ?? DEFAULT_SETTLE_MS, () => {
      void snapshot(this.path).then((second) => {
        if (generation !== this.#generation) return;
        if (!sameSnapshot(first, second)) {
          void this.#reloadWhenStable(generation);
          return;
        }
        // The bytes checked are the bytes installed: the file is not read a third time.
        this.#install("file change", () =>
          second.text === undefined ? loadConfigWithWarnings(this.path, this.#parseOptions()) : parseConfigWithWarnings(second.text, { sourceName: this.path, ...this.#parseOptions() }),
        );
      });
    });
  }
}

/** What the file looked like at one moment; `text` undefined when it could not be read (the error is then reported by a normal load). */
interface Snapshot {
  readonly size: number;
  readonly mtimeNs: bigint;
  readonly ino: bigint;
  readonly text: string | undefined;
  readonly error: string | undefined;
}

async function snapshot(path: string): Promise<Snapshot> {
  try {
    const s = await stat(path, { bigint: true });
    const text = await readFile(path, "utf8");
    return { size: Number(s.size), mtimeNs: s.mtimeNs, ino: s.ino, text, error: undefined };
  } catch (error) {
    return { size: -1, mtimeNs: -1n, ino: -1n, text: undefined, error: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
}

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ino === b.ino && a.text === b.text && a.error === b.error;
}

function auditDiffers(a: AuthConfig, b: AuthConfig): boolean {
  const x = a.audit;
  const y = b.audit;
  return x.enabled !== y.enabled || x.path !== y.path || x.durability !== y.durability || x.streamMaxLength !== y.streamMaxLength || x.bufferBytes !== y.bufferBytes;
}
