import { InvalidRequestError } from "./errors.ts";
import type { AuthRequest, RequestMetadata } from "./types.ts";

/** Bounds on what one request may carry. Exceeding one is an InvalidRequestError naming it. */
export interface RequestLimits {
  /** Characters in each string field and in each metadata string. */
  readonly maxStringLength: number;
  /** Keys and list items in the whole metadata tree. */
  readonly maxMetadataEntries: number;
  /** Nesting of objects and lists inside metadata (a flat object is depth 1); at most {@link MAX_METADATA_DEPTH}. */
  readonly maxMetadataDepth: number;
  /** Characters in a caller-supplied pattern: a session's scope, each delegated action. */
  readonly maxPatternLength: number;
  /** Wildcards (`*` runs, `?`, `[...]` classes) in a caller-supplied pattern. */
  readonly maxPatternWildcards: number;
}

/** Metadata is checked one level per call: a larger `maxMetadataDepth` is treated as this one. */
export const MAX_METADATA_DEPTH = 64;

/** The limits a request gets unless the server config sets others (`limits.*`). */
export const DEFAULT_REQUEST_LIMITS: RequestLimits = Object.freeze({
  maxStringLength: 4096,
  maxMetadataEntries: 256,
  maxMetadataDepth: 8,
  maxPatternLength: 256,
  maxPatternWildcards: 16,
});

/** A validated request with every optional field filled in ("" means absent). */
export interface NormalizedRequest {
  readonly agent: string;
  readonly user: string;
  readonly action: string;
  readonly resource: string;
  readonly scope: string;
  readonly sessionId: string;
  readonly targetAgent: string;
  readonly metadata: RequestMetadata;
}

const EMPTY_METADATA: RequestMetadata = Object.freeze(Object.create(null) as RequestMetadata);

/**
 * Checks a request's shape and limits and fills in defaults.
 *
 * Throws InvalidRequestError naming the first offending field: `agent`, `user`
 * and `action` must be non-empty strings; the optional strings must be strings
 * (or null where the type allows); `metadata` must be JSON-like data.
 */
export function normalizeRequest(input: AuthRequest, limits: RequestLimits): NormalizedRequest {
  if (typeof input !== "object" || input === null) {
    throw new InvalidRequestError("request", "expected an object");
  }
  const max = limits.maxStringLength;
  const metadata = input.metadata;
  return {
    agent: required(input.agent, "agent", max),
    user: required(input.user, "user", max),
    action: required(input.action, "action", max),
    resource: optional(input.resource, "resource", max, false),
    scope: optional(input.scope, "scope", max, false),
    sessionId: optional(input.sessionId, "session_id", max, true),
    targetAgent: optional(input.targetAgent, "target_agent", max, true),
    metadata: metadata === undefined || metadata === null ? EMPTY_METADATA : checkMetadata(metadata, limits),
  };
}

function required(value: unknown, field: string, max: number): string {
  if (typeof value !== "string") {
    throw new InvalidRequestError(field, value === undefined || value === null ? "is required" : `expected a string, got ${typeName(value)}`);
  }
  if (value.length === 0) throw new InvalidRequestError(field, "must not be empty");
  return checkText(value, field, max);
}

function optional(value: unknown, field: string, max: number, nullable: boolean): string {
  if (value === undefined || (nullable && value === null)) return "";
  if (typeof value !== "string") throw new InvalidRequestError(field, `expected a string, got ${typeName(value)}`);
  return checkText(value, field, max);
}

/** Length limit and well-formed Unicode (a lone surrogate cannot be stored or matched faithfully). */
function checkText(value: string, field: string, max: number): string {
  if (value.length > max) throw new InvalidRequestError(field, `is ${value.length} characters long; the limit is ${max} (limits.max_string_length)`);
  if (!value.isWellFormed()) throw new InvalidRequestError(field, "is not well-formed Unicode (lone surrogate)");
  return value;
}

function checkMetadata(metadata: unknown, limits: RequestLimits): RequestMetadata {
  if (!isPlainObject(metadata)) {
    throw new InvalidRequestError("metadata", `expected an object, got ${typeName(metadata)}`);
  }
  const budget = { entries: 0 };
  checkValue(metadata, "metadata", 0, limits, budget);
  return metadata as RequestMetadata;
}

function checkValue(value: unknown, path: string, depth: number, limits: RequestLimits, budget: { entries: number }): void {
  switch (typeof value) {
    case "string":
      checkText(value, path, limits.maxStringLength);
      return;
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) throw new InvalidRequestError(path, `expected a finite number, got ${value}`);
      return;
    case "object": {
      if (value === null) return;
      const maxDepth = Math.min(limits.maxMetadataDepth, MAX_METADATA_DEPTH);
      if (depth + 1 > maxDepth) {
        throw new InvalidRequestError(path, `nesting exceeds the limit of ${maxDepth} levels (limits.max_metadata_depth)`);
      }
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          countEntry(path, limits, budget);
          checkValue(value[i], `${path}[${i}]`, depth + 1, limits, budget);
        }
        return;
      }
      if (!isPlainObject(value)) throw new InvalidRequestError(path, `expected JSON data, got ${typeName(value)}`);
      for (const key of Object.keys(value)) {
        countEntry(path, limits, budget);
        if (key.length > limits.maxStringLength) {
          throw new InvalidRequestError(path, `has a key ${key.length} characters long; the limit is ${limits.maxStringLength} (limits.max_string_length)`);
        }
        checkValue((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1, limits, budget);
      }
      return;
    }
    default:
      throw new InvalidRequestError(path, `expected JSON data, got ${typeName(value)}`);
  }
}

function countEntry(path: string, limits: RequestLimits, budget: { entries: number }): void {
  if (++budget.entries > limits.maxMetadataEntries) {
    throw new InvalidRequestError(path, `metadata has more than ${limits.maxMetadataEntries} entries (limits.max_metadata_entries)`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return typeof value === "string" ? "a string" : `${typeof value} ${String(value)}`.trim();
}
