/**
 * Console sessions, kept on the server: a random id (the cookie's value) →
 * the caller who signed in, their CSRF token and when the session ends.
 * Lifetimes are bounded; the map holds at most `max` sessions (the oldest
 * ends first). Ids are stored only as SHA-256 digests, so the map holds
 * nothing a cookie could be rebuilt from.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { CallerConfig } from "../../server-config.ts";

/** One signed-in browser. */
export interface ConsoleSession {
  readonly caller: CallerConfig;
  /** Sent back with every state-changing form of this session. */
  readonly csrf: string;
  /** When it ends (ms since the epoch). */
  readonly expires: number;
}

/** Options for {@link ConsoleSessions}. */
export interface ConsoleSessionsOptions {
  /** How long a session lasts from sign-in. */
  readonly lifetimeMs: number;
  /** Sessions kept at most; signing in beyond it ends the oldest. Default 10,000. */
  readonly max?: number;
  /** Default Date.now. */
  readonly now?: () => number;
}

/** A fresh unguessable token: 32 random bytes, base64url. */
export function randomToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Whether two tokens are equal, in time independent of where they differ. */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** The server-side session map. */
export class ConsoleSessions {
  readonly #byDigest = new Map<string, ConsoleSession>();
  readonly #lifetimeMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: ConsoleSessionsOptions) {
    this.#lifetimeMs = options.lifetimeMs;
    this.#max = Math.max(1, options.max ?? 10_000);
    this.#now = options.now ?? Date.now;
  }

  /** Sessions held (expired ones are removed as they are met). */
  get size(): number {
    return this.#byDigest.size;
  }

  /** How long a session lasts, in ms. */
  get lifetimeMs(): number {
    return this.#lifetimeMs;
  }

  /** Starts a session for a caller; returns its id (for the cookie) and the session. */
  create(caller: CallerConfig): { id: string; session: ConsoleSession } {
    this.#sweep();
    while (this.#byDigest.size >= this.#max) this.#byDigest.delete(this.#byDigest.keys().next().value!);
    const id = randomToken();
    const session: ConsoleSession = { caller, csrf: randomToken(), expires: this.#now() + this.#lifetimeMs };
    this.#byDigest.set(digest(id), session);
    return { id, session };
  }

  /** The live session of an id; undefined when unknown, ended or expired. */
  get(id: string | undefined): ConsoleSession | undefined {
    if (id === undefined || id === "") return undefined;
    const key = digest(id);
    const session = this.#byDigest.get(key);
    if (session === undefined) return undefined;
    if (session.expires <= this.#now()) {
      this.#byDigest.delete(key);
      return undefined;
    }
    return session;
  }

  /** Ends a session (sign-out). */
  end(id: string | undefined): void {
    if (id !== undefined && id !== "") this.#byDigest.delete(digest(id));
  }

  /** Drops expired sessions (sessions are kept in creation order, so the oldest come first). */
  #sweep(): void {
    const now = this.#now();
    for (const [key, s] of this.#byDigest) {
      if (s.expires > now) break;
      this.#byDigest.delete(key);
    }
  }
}

function digest(id: string): string {
  return createHash("sha256").update(id).digest("hex");
}
