import { createHash } from "node:crypto";
import { badRequest } from "../errors.ts";

/** Results per page when the request gives no `page.limit` (or 0). */
export const DEFAULT_PAGE_SIZE = 100;
/** The most results one page holds; a larger `page.limit` is served this many at a time. */
export const MAX_PAGE_SIZE = 1000;

/** Where a search request starts and how many results it takes. */
export interface PagePosition {
  readonly offset: number;
  readonly size: number;
  /** Digest of everything in the request but `page.token`: a token only continues the request it came from. */
  readonly fingerprint: string;
}

/**
 * Reads a search request's `page`. A token is the offset of the next page
 * and the fingerprint of the request that produced it; a token given with a
 * request that differs in any member but `page.token` is refused (400), as
 * AuthZEN 1.0 §8.2 recommends.
 */
export function readPage(body: { readonly page?: { readonly token?: string; readonly limit?: number } } & Readonly<Record<string, unknown>>): PagePosition {
  const { token, ...page } = body.page ?? {};
  const fingerprint = createHash("sha256").update(canonicalJson({ ...body, page })).digest("base64url").slice(0, 16);
  const limit = page.limit ?? 0;
  const size = limit === 0 ? DEFAULT_PAGE_SIZE : Math.min(limit, MAX_PAGE_SIZE);
  if (token === undefined || token === "") return { offset: 0, size, fingerprint };
  const m = /^(\d{1,9})\.([A-Za-z0-9_-]{16})$/.exec(Buffer.from(token, "base64url").toString("latin1"));
  if (m === null) throw badRequest("page.token", "is not a token this server returned");
  if (m[2] !== fingerprint) throw badRequest("page.token", "was returned for a different request: repeat every member of the first request (limit included), changing only page.token");
  return { offset: Number(m[1]), size, fingerprint };
}

/** One page of `all` (already in a stable order) with its `page` object: `next_token` is "" on the last page. */
export function pageOf<T>(all: readonly T[], at: PagePosition): { page: { next_token: string; count: number; total: number }; results: T[] } {
  const results = all.slice(at.offset, at.offset + at.size);
  const next = at.offset + at.size;
  const nextToken = next < all.length ? Buffer.from(`${next}.${at.fingerprint}`, "latin1").toString("base64url") : "";
  return { page: { next_token: nextToken, count: results.length, total: all.length }, results };
}

/** Deeper requests are refused rather than followed down (a request is hashed before the engine checks its limits). */
const MAX_DEPTH = 100;

/** JSON with object keys sorted at every level: equal requests, equal text. */
function canonicalJson(value: unknown, depth = 0): string {
  if (depth > MAX_DEPTH) throw badRequest("request body", `is nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k], depth + 1)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
