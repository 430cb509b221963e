import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { DEFAULT_EXPRESSION_LIMITS, type ExpressionLimits } from "../expr/index.ts";
import { buildConfig } from "./build.ts";
import { ConfigError, type ConfigIssue } from "./config-error.ts";
import { deepFreeze } from "./freeze.ts";
import { ConfigReader, NodeBudgetExceeded } from "./reader.ts";
import type { AuthConfig } from "./types.ts";
import { lintConfig } from "./lint.ts";
import { validateConfig, type ConfigSource } from "./validate.ts";
import { parseYaml, YamlProblem } from "./yaml.ts";

/** Bounds on what a policy file may demand of the loader. */
export interface ConfigLimits {
  /** Size of the file. Default 4 MiB. */
  readonly maxBytes: number;
  /** Nodes visited while reading, aliases counted each time; also entries copied by merge keys. Default 1,000,000. */
  readonly maxNodes: number;
  /** YAML nesting, aliases followed. Default 100. */
  readonly maxDepth: number;
  readonly expression: ExpressionLimits;
}

/** The limits a policy file is read under unless others are given: 4 MiB of text, and the expression defaults. */
export const DEFAULT_CONFIG_LIMITS: ConfigLimits = Object.freeze({
  maxBytes: 4 * 1024 * 1024,
  maxNodes: 1_000_000,
  maxDepth: 100,
  expression: DEFAULT_EXPRESSION_LIMITS,
});

/** Options for reading a policy: where `${NAME}` values come from, and the limits. */
export interface ParseConfigOptions {
  /** Environment for `${NAME}` interpolation; default process.env. Treated as the whole environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Only variables whose names start with one of these may be interpolated;
   * other references stay as written, with a warning. Undefined (the
   * default): every variable.
   */
  readonly envPrefixes?: readonly string[] | undefined;
  readonly limits?: Partial<ConfigLimits>;
  /** Name of the source (a file path), for messages. */
  readonly sourceName?: string;
  /**
   * Directory a relative `audit.path` is resolved against. {@link loadConfig}
   * sets it to the policy file's directory, so the audit log does not depend
   * on where a command was started; without it the path stays as written.
   */
  readonly baseDir?: string;
}

/** A valid config and the warnings found on the way (unknown keys). */
export interface ParsedConfig {
  readonly config: AuthConfig;
  readonly warnings: readonly ConfigIssue[];
}

/** Parses and validates policy YAML; throws ConfigError listing every problem. */
export function parseConfig(text: string, options: ParseConfigOptions = {}): AuthConfig {
  return parseConfigWithWarnings(text, options).config;
}

/** Reads and parses a policy file; a missing or unreadable file is a ConfigError naming the path. */
export function loadConfig(path: string, options: ParseConfigOptions = {}): AuthConfig {
  return loadConfigWithWarnings(path, options).config;
}

/** {@link loadConfig}, also returning warnings. */
export function loadConfigWithWarnings(path: string, options: ParseConfigOptions = {}): ParsedConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === "ENOENT" ? `Auth config file not found: ${path}` : `Cannot read auth config file ${path}: ${(error as Error).message}`;
    throw new ConfigError([{ path: "", message }]);
  }
  return parseConfigWithWarnings(text, { sourceName: path, baseDir: dirname(resolve(path)), ...options });
}

/** {@link parseConfig}, also returning warnings. */
export function parseConfigWithWarnings(text: string, options: ParseConfigOptions = {}): ParsedConfig {
  const limits = { ...DEFAULT_CONFIG_LIMITS, ...options.limits };
  const fail = (message: string, line?: number, column?: number): never => {
    throw new ConfigError([{ path: "", message, ...(line === undefined ? {} : { line }), ...(column === undefined ? {} : { column }) }]);
  };
  if (typeof text !== "string") fail("Auth config must be YAML text");
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > limits.maxBytes) fail(`Auth config is ${bytes} bytes; the limit is ${limits.maxBytes}`);
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;

  let root;
  try {
    root = parseYaml(source, limits.maxDepth, limits.maxNodes);
  } catch (error) {
    if (error instanceof YamlProblem) fail(error.message, error.line, error.column);
    throw error;
  }
  if (root === null || root.kind !== "map") return fail("Auth config file must be a YAML mapping");

  const reader = new ConfigReader(options.env ?? process.env, limits.maxNodes, options.envPrefixes);
  let config: AuthConfig;
  try {
    config = buildConfig(root, reader);
    const auditPath = config.audit.path;
    if (options.baseDir !== undefined && auditPath !== "" && !isAbsolute(auditPath)) config = { ...config, audit: { ...config.audit, path: resolve(options.baseDir, auditPath) } };
  } catch (error) {
    if (error instanceof NodeBudgetExceeded) return fail(`Auth config ${error.message}`);
    throw error;
  }
  const fields: ConfigSource = { at: (p) => reader.positions.get(p), shown: (p, v) => reader.shown(p, v), interpolated: (p) => reader.interpolated(p) };
  const issues = [...reader.issues, ...validateConfig(config, fields, limits.expression)];
  const warnings = Object.freeze([...reader.warnings, ...lintConfig(config, fields)]);
  if (issues.length > 0) throw new ConfigError(issues, warnings);
  return { config: deepFreeze(config), warnings };
}
