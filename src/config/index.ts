export * from "./types.ts";
export { ConfigError, isConfigError, type ConfigIssue } from "./config-error.ts";
export {
  DEFAULT_CONFIG_LIMITS,
  loadConfig,
  loadConfigWithWarnings,
  parseConfig,
  parseConfigWithWarnings,
  type ConfigLimits,
  type ParseConfigOptions,
  type ParsedConfig,
} from "./parse-config.ts";
export { configToJson } from "./to-json.ts";
export { parseEnvPrefixes } from "./interpolate.ts";
