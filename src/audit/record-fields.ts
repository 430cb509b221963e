/** The fields of a decision record that replay reads, as text. */
export interface RecordFields {
  agent: string;
  user: string;
  action: string;
  resource: string;
  scope: string;
  /** "" for null. */
  sessionId: string;
  /** "" for null. */
  targetAgent: string;
  allowed: boolean;
  tier: string;
  reason: string;
  approvalPolicy: string;
  /** The `metadata` object's JSON text; undefined when the record has none. */
  metadataJson: string | undefined;
}

const KEYS = ["agent", "user", "action", "resource", "allowed", "tier", "reason", "approval_policy", "session_id", "scope", "target_agent"] as const;
const NEEDLES = KEYS.map((k) => `"${k}":`);
const METADATA = ',"metadata":';

/**
 * Reads the fields replay needs straight out of a record line of
 * `text[start, end)` as the encoder writes it (fields in its order), without
 * parsing the whole line. Undefined when the line needs a real JSON parser:
 * an escape in a string, a field out of place, another shape — the caller
 * then uses JSON.parse. A key cannot be mistaken inside a string value: a
 * quote there is always escaped, and escapes fall back.
 */
export function readRecordFields(text: string, start: number, end: number, out: RecordFields): RecordFields | undefined {
  let p = start;
  for (let i = 0; i < NEEDLES.length; i++) {
    const needle = NEEDLES[i]!;
    const at = text.indexOf(needle, p);
    if (at < 0 || at >= end) return undefined;
    p = at + needle.length;
    const c = text.charCodeAt(p);
    let value: string | boolean;
    let kind: "string" | "null" | "boolean";
    if (c === 0x22) {
      kind = "string";
      const close = text.indexOf('"', p + 1);
      if (close < 0 || close >= end) return undefined;
      value = text.slice(p + 1, close);
      if (value.includes("\\")) return undefined;
      p = close + 1;
    } else if (text.startsWith("null", p)) {
      kind = "null";
      value = "";
      p += 4;
    } else if (text.startsWith("true", p)) {
      kind = "boolean";
      value = true;
      p += 4;
    } else if (text.startsWith("false", p)) {
      kind = "boolean";
      value = false;
      p += 5;
    } else return undefined;
    // allowed is a boolean; session_id and target_agent are text or null; the rest is text.
    if (i === 4 ? kind !== "boolean" : i === 8 || i === 10 ? kind === "boolean" : kind !== "string") return undefined;
    switch (i) {
      case 0:
        out.agent = value as string;
        break;
      case 1:
        out.user = value as string;
        break;
      case 2:
        out.action = value as string;
        break;
      case 3:
        out.resource = value as string;
        break;
      case 4:
        out.allowed = value as boolean;
        break;
      case 5:
        out.tier = value as string;
        break;
      case 6:
        out.reason = value as string;
        break;
      case 7:
        out.approvalPolicy = value as string;
        break;
      case 8:
        out.sessionId = value as string;
        break;
      case 9:
        out.scope = value as string;
        break;
      case 10:
        out.targetAgent = value as string;
        break;
    }
  }
  // The optional metadata comes last: `,"metadata":{…}}`.
  // Fields between target_agent and it hold no raw quote in a value, so the first match is the key.
  const m = text.indexOf(METADATA, p);
  out.metadataJson = m >= 0 && m < end ? text.slice(m + METADATA.length, end - 1) : undefined;
  return out;
}

/** A fresh holder for {@link readRecordFields} (reuse one per reader). */
export function emptyRecordFields(): RecordFields {
  return { agent: "", user: "", action: "", resource: "", scope: "", sessionId: "", targetAgent: "", allowed: false, tier: "", reason: "", approvalPolicy: "", metadataJson: undefined };
}
