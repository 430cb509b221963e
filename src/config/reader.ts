import type { ConfigIssue } from "./config-error.ts";
import { interpolate, type InterpolateOptions } from "./interpolate.ts";
import type { YamlMap, YamlNode, YamlScalar } from "./yaml.ts";

/** Thrown when a document expands to more nodes than allowed (alias bombs). */
export class NodeBudgetExceeded extends Error {}

/**
 * Reads typed values out of the YAML tree, collecting every problem instead
 * of stopping at the first: a value of the wrong type is reported with its
 * path and line and replaced by the field's default. A YAML null means "not
 * set". String values go through `${ENV}` interpolation first; messages show
 * the text as written (see {@link shown}), so variable values never leak into
 * errors, logs or anything built from them.
 */
export class ConfigReader {
  readonly issues: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  /** Line and column of each path read, for validation messages. */
  readonly positions = new Map<string, { line: number; column: number }>();
  /** The text as written of every value that interpolation changed, by path. */
  readonly #written = new Map<string, string>();
  readonly #interpolation: InterpolateOptions;
  readonly #refused = new Set<string>();
  #visits = 0;

  constructor(
    env: Readonly<Record<string, string | undefined>>,
    readonly maxNodes: number,
    /** Variables that may be interpolated, by name prefix; undefined: all. */
    envPrefixes?: readonly string[] | undefined,
  ) {
    this.#interpolation = {
      env,
      prefixes: envPrefixes,
      onRefused: (name) => {
        if (this.#refused.has(name)) return;
        this.#refused.add(name);
        const allowed = envPrefixes!.length === 0 ? "no variable may be" : `only names starting with ${envPrefixes!.map((p) => `'${p}'`).join(", ")} may be`;
        this.warnings.push({ path: "", message: `\${${name}} is left as written: ${allowed} interpolated (AGENT_AUTH_ENV_PREFIXES)` });
      },
    };
  }

  /**
   * How a message shows the value read at `path`: as written (`${NAME}`)
   * when interpolation changed it, else the value itself.
   */
  shown(path: string, value: string): string {
    return this.#written.get(path) ?? value;
  }

  /** Whether the value at `path` came out of interpolation. */
  interpolated(path: string): boolean {
    return this.#written.has(path);
  }

  /** A text value, interpolated; remembers the text as written when it changed. */
  #text(text: string, path: string): string {
    const out = interpolate(text, this.#interpolation);
    if (out !== text) this.#written.set(path, text);
    return out;
  }

  #visit(node: YamlNode, path: string): void {
    if (++this.#visits > this.maxNodes) throw new NodeBudgetExceeded(`the document expands to more than ${this.maxNodes} nodes (aliases?)`);
    if (!this.positions.has(path)) this.positions.set(path, { line: node.line, column: node.column });
  }

  problem(path: string, message: string, node?: YamlNode): void {
    this.issues.push(withPosition({ path, message }, node));
  }

  /**
   * A mapping's entries; undefined when absent or null. Reports a wrong type
   * and warns about keys outside `known` (pass undefined to accept any key).
   */
  map(node: YamlNode | undefined, path: string, known: readonly string[] | undefined): YamlMap | undefined {
    if (node === undefined || isNull(node)) return undefined;
    this.#visit(node, path);
    if (node.kind !== "map") {
      this.problem(path, `${path}: expected a mapping, got ${describe(node)}`, node);
      return undefined;
    }
    if (known !== undefined) {
      for (const [key, entry] of node.entries) {
        if (!known.includes(key)) this.warnings.push(withPosition({ path: join(path, key), message: `${join(path, key)}: unknown key '${key}' (ignored)` }, entry.key));
      }
    }
    return node;
  }

  /** A list's items; undefined when absent or null; reports a wrong type. */
  list(node: YamlNode | undefined, path: string): YamlNode[] | undefined {
    if (node === undefined || isNull(node)) return undefined;
    this.#visit(node, path);
    if (node.kind !== "seq") {
      this.problem(path, `${path}: expected a list, got ${describe(node)}`, node);
      return undefined;
    }
    return node.items;
  }

  /** A string; numbers and booleans are taken as their text. */
  string(node: YamlNode | undefined, path: string, fallback: string): string {
    if (node === undefined || isNull(node)) return fallback;
    this.#visit(node, path);
    if (node.kind !== "scalar") {
      this.problem(path, `${path}: expected a string, got ${describe(node)}`, node);
      return fallback;
    }
    return node.type === "str" ? this.#text(node.text, path) : node.text;
  }

  /** An integer: a YAML int, or text of digits (after `${ENV}` interpolation). */
  integer(node: YamlNode | undefined, path: string, fallback: number): number {
    if (node === undefined || isNull(node)) return fallback;
    this.#visit(node, path);
    if (node.kind === "scalar") {
      if (node.type === "int" && Number.isSafeInteger(node.value)) return node.value as number;
      if (node.type === "str") {
        const text = this.#text(node.text, path).trim();
        if (/^[+-]?[0-9]+$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
      }
    }
    this.problem(path, `${path}: expected an integer, got ${shown(node)}`, node);
    return fallback;
  }

  /** A boolean: YAML true/false (and YAML 1.1's yes/no/on/off) only. */
  boolean(node: YamlNode | undefined, path: string, fallback: boolean): boolean {
    if (node === undefined || isNull(node)) return fallback;
    this.#visit(node, path);
    if (node.kind === "scalar" && node.type === "bool") return node.value as boolean;
    this.problem(path, `${path}: expected a boolean (true or false), got ${shown(node)}`, node);
    return fallback;
  }

  /** A list of strings (patterns, names). Each bad item is reported. */
  strings(node: YamlNode | undefined, path: string): string[] {
    const items = this.list(node, path);
    if (items === undefined) return [];
    const out: string[] = [];
    items.forEach((item, i) => {
      const p = `${path}[${i}]`;
      this.#visit(item, p);
      if (item.kind !== "scalar" || item.type === "null") {
        this.problem(p, `${p}: expected a string, got ${describe(item)}`, item);
        return;
      }
      out.push(item.type === "str" ? this.#text(item.text, p) : item.text);
    });
    return out;
  }

  /** Any YAML data as plain values (variables); strings interpolated; objects without a prototype. */
  data(node: YamlNode, path: string): unknown {
    this.#visit(node, path);
    return this.#data(node, [path]);
  }

  /** `at` is the path as segments, joined only when a value needs it (an alias bomb visits a million nodes). */
  #data(node: YamlNode, at: (string | number)[]): unknown {
    // Counted like every other visit: aliases can make this tree exponentially large.
    if (++this.#visits > this.maxNodes) throw new NodeBudgetExceeded(`the document expands to more than ${this.maxNodes} nodes (aliases?)`);
    switch (node.kind) {
      case "scalar": {
        if (node.type !== "str") return node.value;
        const out = interpolate(node.text, this.#interpolation);
        if (out !== node.text) this.#written.set(segmentsPath(at), node.text);
        return out;
      }
      case "seq":
        return Object.freeze(
          node.items.map((item, i) => {
            at.push(i);
            const v = this.#data(item, at);
            at.pop();
            return v;
          }),
        );
      case "map": {
        const out = Object.create(null) as Record<string, unknown>;
        for (const [k, v] of node.entries) {
          at.push(k);
          out[k] = this.#data(v.value, at);
          at.pop();
        }
        return Object.freeze(out);
      }
    }
  }
}

/** `variables.v`, `[0]`, `k` → `variables.v[0].k`. */
function segmentsPath(at: readonly (string | number)[]): string {
  let path = "";
  for (const s of at) path = typeof s === "number" ? `${path}[${s}]` : join(path, s);
  return path;
}

/** The value of key `key` in a mapping, if present. */
export function entry(map: YamlMap | undefined, key: string): YamlNode | undefined {
  return map?.entries.get(key)?.value;
}

export function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function isNull(node: YamlNode): boolean {
  return node.kind === "scalar" && node.type === "null";
}

function describe(node: YamlNode): string {
  if (node.kind === "seq") return "a list";
  if (node.kind === "map") return "a mapping";
  return node.type === "null" ? "null" : shown(node);
}

function shown(node: YamlNode): string {
  if (node.kind !== "scalar") return describe(node);
  const s = node as YamlScalar;
  return s.type === "str" ? `'${s.text}'` : s.text;
}

function withPosition(issue: { path: string; message: string }, node: YamlNode | YamlScalar | undefined): { path: string; message: string; line?: number; column?: number } {
  return node === undefined ? issue : { ...issue, line: node.line, column: node.column };
}
