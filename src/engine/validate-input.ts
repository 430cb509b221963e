import { InvalidRequestError } from "../model/errors.ts";
import type { RequestLimits } from "../model/request.ts";
import { parseGlob } from "../policy/index.ts";

/** Largest duration accepted, in seconds (about 100 years); larger values are typos. */
export const MAX_DURATION_SECONDS = 3_153_600_000;

/** A required, non-empty string within the length limit. */
export function checkName(value: unknown, field: string, limits: RequestLimits): string {
  if (typeof value !== "string") {
    throw new InvalidRequestError(field, value === undefined || value === null ? "is required" : "expected a string");
  }
  if (value === "") throw new InvalidRequestError(field, "must not be empty");
  return checkLength(value, field, limits);
}

/** An optional string ("" when absent) within the length limit. */
export function checkOptionalText(value: unknown, field: string, limits: RequestLimits): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw new InvalidRequestError(field, "expected a string");
  return checkLength(value, field, limits);
}

/** An optional whole number of seconds, at least 1; undefined when absent. */
export function checkDuration(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new InvalidRequestError(field, `expected a whole number of seconds, got ${String(value)}`);
  }
  if (value < 1) throw new InvalidRequestError(field, `must be >= 1 second, got ${value}`);
  if (value > MAX_DURATION_SECONDS) {
    throw new InvalidRequestError(field, `must be <= ${MAX_DURATION_SECONDS} seconds, got ${value}`);
  }
  return value;
}

/** A list of non-empty patterns, each within the pattern limits. */
export function checkPatterns(value: unknown, field: string, limits: RequestLimits): string[] {
  if (!Array.isArray(value)) throw new InvalidRequestError(field, "expected a list of strings");
  if (value.length > limits.maxMetadataEntries) {
    throw new InvalidRequestError(field, `has ${value.length} items; the limit is ${limits.maxMetadataEntries}`);
  }
  return value.map((item: unknown, i) => checkPattern(checkName(item, `${field}[${i}]`, limits), `${field}[${i}]`, limits));
}

/**
 * A caller-supplied pattern within `limits.max_pattern_length` and
 * `limits.max_pattern_wildcards`: every later decision matches it, and its
 * length and wildcards bound what that matching costs.
 */
export function checkPattern(pattern: string, field: string, limits: RequestLimits): string {
  if (pattern.length > limits.maxPatternLength) {
    throw new InvalidRequestError(field, `is a pattern ${pattern.length} characters long; the limit is ${limits.maxPatternLength} (limits.max_pattern_length)`);
  }
  const wildcards = parseGlob(pattern).filter((t) => t.kind !== "literal").length;
  if (wildcards > limits.maxPatternWildcards) {
    throw new InvalidRequestError(field, `is a pattern with ${wildcards} wildcards (*, ?, [...]); the limit is ${limits.maxPatternWildcards} (limits.max_pattern_wildcards)`);
  }
  return pattern;
}

function checkLength(value: string, field: string, limits: RequestLimits): string {
  if (value.length > limits.maxStringLength) {
    throw new InvalidRequestError(field, `is ${value.length} characters long; the limit is ${limits.maxStringLength}`);
  }
  if (!value.isWellFormed()) throw new InvalidRequestError(field, "is not well-formed Unicode (lone surrogate)");
  return value;
}
