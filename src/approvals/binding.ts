import { createHash } from "node:crypto";
import type { NormalizedRequest } from "../model/request.ts";
import type { RequestMetadata } from "../model/types.ts";

/**
 * The canonical JSON of a metadata value: object keys sorted by code unit,
 * no whitespace, numbers and strings as JSON writes them. Two metadata
 * objects that hold the same values in another key order have the same text.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(",")}}`;
}

/** SHA-256 (hex) of the metadata's canonical JSON: what an approval binds of the metadata. */
export function metadataDigest(metadata: RequestMetadata): string {
  return createHash("sha256").update(canonicalJson(metadata), "utf8").digest("hex");
}

/**
 * SHA-256 (hex) of every field an approval binds — agent, user, action,
 * resource, scope, session, target agent and the metadata digest — as a JSON
 * array (so no two requests share the text). A redemption's request must
 * have the same binding as the task's.
 */
export function bindingDigest(req: NormalizedRequest, digest: string = metadataDigest(req.metadata)): string {
  const fields = [req.agent, req.user, req.action, req.resource, req.scope, req.sessionId, req.targetAgent, digest];
  return createHash("sha256").update(JSON.stringify(fields), "utf8").digest("hex");
}
