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

const METADATA = ',"metadata":';

/**
 * Reads the fields replay needs straight out of a record line of
 * `text[start, end)` as the encoder writes it — its fields in its order, so
 * each key is checked where it must stand instead of searched for — without
 * parsing the whole line. Undefined when the line needs a real JSON parser: an
 * escape in a string, a field out of place, another shape; the caller then
 * uses JSON.parse. (A key cannot be mistaken inside a string value: a quote
 * there is always escaped, and escapes fall back.)
 */
export function readRecordFields(text: string, start: number, end: number, out: RecordFields): RecordFields | undefined {
  const r = new Cursor(text, end);
  r.p = text.indexOf('"agent":', start);
  if (r.p < 0 || r.p >= end) return undefined;
  r.p += 8;
  const agent = r.string();
  const user = r.key(',"user":') ? r.string() : undefined;
  const action = r.key(',"action":') ? r.string() : undefined;
  const resource = r.key(',"resource":') ? r.string() : undefined;
  const allowed = r.key(',"allowed":') ? r.boolean() : undefined;
  const tier = r.key(',"tier":') ? r.string() : undefined;
  const reason = r.key(',"reason":') ? r.string() : undefined;
  const approves = r.key(',"requires_approval":') ? r.boolean() : undefined;
  const approvalPolicy = r.key(',"approval_policy":') ? r.string() : undefined;
  const sessionId = r.key(',"session_id":') ? r.nullableString() : undefined;
  const scope = r.key(',"scope":') ? r.string() : undefined;
  const targetAgent = r.key(',"target_agent":') ? r.nullableString() : undefined;
  if (
    agent === undefined || user === undefined || action === undefined || resource === undefined || allowed === undefined || tier === undefined ||
    reason === undefined || approves === undefined || approvalPolicy === undefined || sessionId === undefined || scope === undefined || targetAgent === undefined
  ) {
    return undefined;
  }
  out.agent = agent;
  out.user = user;
  out.action = action;
  out.resource = resource;
  out.allowed = allowed;
  out.tier = tier;
  out.reason = reason;
  out.approvalPolicy = approvalPolicy;
  out.sessionId = sessionId;
  out.scope = scope;
  out.targetAgent = targetAgent;
  // The optional metadata comes last: only a line ending in an object value ("}}") can hold it.
  // Fields between target_agent and it (the origin's included) hold no unescaped quote in a value, so the first match is the key.
  out.metadataJson = undefined;
  if (text.charCodeAt(end - 2) === 0x7d) {
    const m = text.indexOf(METADATA, r.p);
    if (m >= 0 && m < end) out.metadataJson = text.slice(m + METADATA.length, end - 1);
  }
  return out;
}

/** Reads values at a position; each read returns undefined where the line is not as expected. */
class Cursor {
  p = 0;
  constructor(
    readonly text: string,
    readonly end: number,
  ) {}

  key(k: string): boolean {
    if (!this.text.startsWith(k, this.p)) return false;
    this.p += k.length;
    return true;
  }

  string(): string | undefined {
    const t = this.text;
    if (t.charCodeAt(this.p) !== 0x22) return undefined;
    const close = t.indexOf('"', this.p + 1);
    if (close < 0 || close >= this.end) return undefined;
    const value = t.slice(this.p + 1, close);
    // An escape (`\"`, `\n`, `\u…`) needs JSON's rules: the caller falls back.
    if (value.includes("\\")) return undefined;
    this.p = close + 1;
    return value;
  }

  nullableString(): string | undefined {
    if (this.text.startsWith("null", this.p)) {
      this.p += 4;
      return "";
    }
    return this.string();
  }

  boolean(): boolean | undefined {
    if (this.text.startsWith("true", this.p)) {
      this.p += 4;
      return true;
    }
    if (this.text.startsWith("false", this.p)) {
      this.p += 5;
      return false;
    }
    return undefined;
  }
}

/** A fresh holder for {@link readRecordFields} (reuse one per reader). */
export function emptyRecordFields(): RecordFields {
  return { agent: "", user: "", action: "", resource: "", scope: "", sessionId: "", targetAgent: "", allowed: false, tier: "", reason: "", approvalPolicy: "", metadataJson: undefined };
}
