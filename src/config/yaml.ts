import { getScalarValue, parseEvents, type Event, type ScalarEvent } from "js-yaml";
import { compactString } from "../bytes/utf8.ts";

/**
 * A YAML document as the config loader sees it: every node knows its line and
 * column, and scalars keep their text beside the value they resolve to under
 * YAML 1.1 (the dialect of the Python library's parser): `yes`/`no`/`on`/`off`
 * are booleans, `017` is octal, `1_000` is 1000, `1.0` keeps its text "1.0".
 */
export type YamlNode = YamlScalar | YamlSeq | YamlMap;

interface Position {
  readonly line: number;
  readonly column: number;
}

export interface YamlScalar extends Position {
  readonly kind: "scalar";
  /** Resolved type; timestamps stay strings. */
  readonly type: "null" | "bool" | "int" | "float" | "str";
  readonly value: null | boolean | number | string;
  /** The decoded scalar text. */
  readonly text: string;
}

export interface YamlSeq extends Position {
  readonly kind: "seq";
  readonly items: YamlNode[];
}

export interface YamlMap extends Position {
  readonly kind: "map";
  /** Keys by their text; the last duplicate wins (in the first one's place). */
  readonly entries: Map<string, { readonly key: YamlScalar; value: YamlNode }>;
}

/** A problem found while reading YAML (syntax, tags, keys). */
export class YamlProblem extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
  }
}

// PyYAML's implicit resolvers (YAML 1.1).
const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT = /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const NULL = /^(?:~|null|Null|NULL|)$/;

const EVENT = { DOCUMENT: 1, SEQUENCE: 2, MAPPING: 3, SCALAR: 4, ALIAS: 5, POP: 6 } as const;
const STYLE_PLAIN = 1;

/**
 * Parses one YAML document into a node tree (null for an empty document).
 * Throws YamlProblem for syntax errors, several documents, unsupported tags,
 * unknown or recursive aliases, non-scalar keys, nesting deeper than
 * `maxDepth` (aliases included) and merge keys copying more than `maxNodes`
 * entries in all.
 */
export function parseYaml(text: string, maxDepth: number, maxNodes = 1_000_000): YamlNode | null {
  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth });
  } catch (error) {
    const e = error as { reason?: string; message?: string; mark?: { line: number; column: number } };
    const reason = e.reason ?? e.message ?? String(error);
    if (e.mark !== undefined) {
      throw new YamlProblem(`YAML syntax error at line ${e.mark.line + 1}, column ${e.mark.column + 1}: ${reason}`, e.mark.line + 1, e.mark.column + 1);
    }
    throw new YamlProblem(`YAML syntax error: ${reason}`);
  }
  return new Composer(text, events, maxDepth, maxNodes).document();
}

class Composer {
  #i = 0;
  readonly #anchors = new Map<string, YamlNode>();
  readonly #lineStarts: number[] = [0];
  /** Collections still being composed: an alias to one of them would make the tree contain itself. */
  readonly #open = new Set<YamlNode>();
  /** Levels below each finished collection, aliases followed (the parser alone does not see them). */
  readonly #height = new WeakMap<YamlNode, number>();
  /** Entries copied by merge keys so far: chained merges copy quadratically many. */
  #copied = 0;

  constructor(
    readonly text: string,
    readonly events: readonly Event[],
    readonly maxDepth: number,
    readonly maxNodes: number,
  ) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.#lineStarts.push(i + 1);
  }

  document(): YamlNode | null {
    const documents = this.events.filter((e) => e.type === EVENT.DOCUMENT).length;
    if (documents > 1) throw new YamlProblem("the config file must hold one YAML document, not several");
    if (documents === 0) return null;
    this.#i = 1;
    if (this.events[this.#i]?.type === EVENT.POP) return null;
    return this.#node();
  }

  #position(offset: number): Position {
    const starts = this.#lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  }

  #node(): YamlNode {
    const e = this.events[this.#i++]!;
    switch (e.type) {
      case EVENT.SCALAR:
        return this.#anchor(e, this.#scalar(e));
      case EVENT.SEQUENCE: {
        const tag = this.#tag(e);
        if (tag !== undefined && tag !== "seq") throw this.#problem(`YAML tag '${this.#tagText(e)}' cannot be applied to a sequence`, e.start);
        const node: YamlSeq = { kind: "seq", items: [], ...this.#position(e.start) };
        this.#anchor(e, node);
        this.#open.add(node);
        while (this.events[this.#i]!.type !== EVENT.POP) node.items.push(this.#node());
        this.#i++;
        this.#open.delete(node);
        this.#measure(node, node.items, e.start);
        return node;
      }
      case EVENT.MAPPING: {
        const tag = this.#tag(e);
        if (tag !== undefined && tag !== "map") throw this.#problem(`YAML tag '${this.#tagText(e)}' cannot be applied to a mapping`, e.start);
        const node: YamlMap = { kind: "map", entries: new Map(), ...this.#position(e.start) };
        this.#anchor(e, node);
        this.#open.add(node);
        const merges: YamlNode[] = [];
        while (this.events[this.#i]!.type !== EVENT.POP) {
          const keyEvent = this.events[this.#i]!;
          const key = this.#node();
          const value = this.#node();
          if (key.kind !== "scalar") {
            const at = keyEvent.type === EVENT.SCALAR ? keyEvent.valueStart : "start" in keyEvent ? keyEvent.start : 0;
            throw this.#problem("mapping keys must be scalars (text, numbers, booleans)", at);
          }
          if (key.text === "<<" && key.type === "str" && (keyEvent as ScalarEvent).style === STYLE_PLAIN && (keyEvent as ScalarEvent).tagStart < 0) {
            merges.push(value);
            continue;
          }
          const existing = node.entries.get(key.text);
          if (existing !== undefined) existing.value = value;
          else node.entries.set(key.text, { key, value });
        }
        this.#i++;
        this.#open.delete(node);
        if (merges.length > 0) this.#merge(node, merges);
        this.#measure(node, Array.from(node.entries.values(), (v) => v.value), e.start);
        return node;
      }
      case EVENT.ALIAS: {
        const name = this.text.slice(e.anchorStart, e.anchorEnd);
        const target = this.#anchors.get(name);
        if (target === undefined) throw this.#problem(`unknown alias '*${name}'`, e.anchorStart);
        if (this.#open.has(target)) throw this.#problem(`recursive alias '*${name}': a value cannot contain itself`, e.anchorStart);
        return target;
      }
      default:
        throw new YamlProblem(`unexpected YAML event ${e.type}`);
    }
  }

  /** YAML merge keys: explicit keys win; among merged mappings the first listed wins. */
  #merge(node: YamlMap, merges: readonly YamlNode[]): void {
    const merged = new Map<string, { key: YamlScalar; value: YamlNode }>();
    for (const source of merges) {
      const maps = source.kind === "seq" ? source.items : [source];
      for (const m of maps) {
        if (m.kind !== "map") throw new YamlProblem(`a merge key '<<' needs a mapping or a list of mappings (line ${m.line})`, m.line, m.column);
        this.#copied += m.entries.size;
        if (this.#copied > this.maxNodes) {
          throw new YamlProblem(`merge keys ('<<') copy more than ${this.maxNodes} entries in all (line ${m.line})`, m.line, m.column);
        }
        for (const [k, v] of m.entries) if (!merged.has(k)) merged.set(k, { key: v.key, value: v.value });
      }
    }
    for (const [k, v] of node.entries) merged.set(k, v);
    node.entries.clear();
    for (const [k, v] of merged) node.entries.set(k, v);
  }

  /** Records a collection's height; aliases can nest values deeper than the parser's own depth limit. */
  #measure(node: YamlNode, children: readonly YamlNode[], offset: number): void {
    let height = 1;
    for (const child of children) {
      const h = this.#height.get(child);
      if (h !== undefined && h >= height) height = h + 1;
    }
    if (height > this.maxDepth) throw this.#problem(`values nest more than ${this.maxDepth} levels deep (through aliases)`, offset);
    this.#height.set(node, height);
  }

  #anchor<T extends YamlNode>(e: { anchorStart: number; anchorEnd: number }, node: T): T {
    if (e.anchorStart >= 0) this.#anchors.set(this.text.slice(e.anchorStart, e.anchorEnd), node);
    return node;
  }

  #scalar(e: ScalarEvent): YamlScalar {
    // A scalar's text is a view of the whole file until copied (see compactString).
    const text = compactString(getScalarValue(this.text, e));
    const pos = this.#position(e.valueStart);
    const tag = this.#tag(e);
    if (tag === "seq" || tag === "map") throw this.#problem(`YAML tag '${this.#tagText(e)}' cannot be applied to a scalar`, e.valueStart);
    if (tag === undefined && e.style !== STYLE_PLAIN) return { kind: "scalar", type: "str", value: text, text, ...pos };
    const implicit = tag === undefined;
    const as = (type: YamlScalar["type"]): boolean => implicit || tag === type;
    if (as("null") && (implicit ? NULL.test(text) : true)) return { kind: "scalar", type: "null", value: null, text, ...pos };
    if (as("bool") && BOOL.test(text)) return { kind: "scalar", type: "bool", value: TRUE.test(text), text, ...pos };
    if (as("int") && INT.test(text)) return { kind: "scalar", type: "int", value: intValue(text), text, ...pos };
    if (as("float") && (FLOAT.test(text) || (!implicit && INT.test(text)))) return { kind: "scalar", type: "float", value: floatValue(text), text, ...pos };
    if (!implicit && tag !== "str") throw this.#problem(`'${text}' is not a valid ${this.#tagText(e)}`, e.valueStart);
    return { kind: "scalar", type: "str", value: text, text, ...pos };
  }

  /** The explicit tag as one of ours, undefined when untagged; throws for tags we do not support. */
  #tag(e: { tagStart: number; tagEnd: number; anchorStart: number }): YamlScalar["type"] | "seq" | "map" | undefined {
    if (e.tagStart < 0) return undefined;
    const raw = this.text.slice(e.tagStart, e.tagEnd);
    if (raw === "!") return "str";
    const name = raw.startsWith("!!") ? raw.slice(2) : raw.startsWith("!<tag:yaml.org,2002:") && raw.endsWith(">") ? raw.slice(20, -1) : undefined;
    if (name === "str" || name === "int" || name === "float" || name === "bool" || name === "null" || name === "seq" || name === "map") return name;
    throw this.#problem(`unsupported YAML tag '${raw}'`, e.tagStart);
  }

  #tagText(e: { tagStart: number; tagEnd: number }): string {
    return this.text.slice(e.tagStart, e.tagEnd);
  }

  #problem(message: string, offset: number): YamlProblem {
    const p = this.#position(offset);
    return new YamlProblem(`${message} (line ${p.line}, column ${p.column})`, p.line, p.column);
  }
}

/** A YAML 1.1 integer's value: signs, underscores, 0b / 0x / leading-0 octal, base 60. */
function intValue(text: string): number {
  let t = text.replace(/_/g, "");
  let sign = 1;
  if (t.startsWith("-") || t.startsWith("+")) {
    if (t[0] === "-") sign = -1;
    t = t.slice(1);
  }
  if (t === "0") return 0;
  if (t.startsWith("0b")) return sign * parseInt(t.slice(2), 2);
  if (t.startsWith("0x")) return sign * parseInt(t.slice(2), 16);
  if (t.startsWith("0")) return sign * parseInt(t, 8);
  if (t.includes(":")) return sign * t.split(":").reduce((acc, part) => acc * 60 + Number(part), 0);
  return sign * Number(t);
}

function floatValue(text: string): number {
  let t = text.replace(/_/g, "").toLowerCase();
  let sign = 1;
  if (t.startsWith("-") || t.startsWith("+")) {
    if (t[0] === "-") sign = -1;
    t = t.slice(1);
  }
  if (t === ".inf") return sign * Infinity;
  if (t === ".nan") return Number.NaN;
  if (t.includes(":")) return sign * t.split(":").reduce((acc, part) => acc * 60 + Number(part), 0);
  return sign * Number(t);
}
