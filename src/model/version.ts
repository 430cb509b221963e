/** The package version, written at build time by scripts/sync-version.mjs from package.json. */
export const VERSION = "0.1.0";
