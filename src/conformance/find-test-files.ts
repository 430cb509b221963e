import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** A test file's name: `*_test.yaml`, `*.test.yaml` (or `.yml`). */
export const TEST_FILE = /(?:_test|\.test)\.ya?ml$/;

/**
 * The test files under the given paths, in a stable order: a file is taken
 * as it is; a directory is searched (without node_modules and hidden
 * folders). Throws naming a path that does not exist.
 */
export function findTestFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const path of paths) {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      throw new Error(`no such file or directory: ${path}`);
    }
    if (!stat.isDirectory()) out.push(path);
    else walk(path, out);
  }
  return [...new Set(out)];
}

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const p = join(dir, name);
    const stat = statSync(p);
    if (stat.isDirectory()) walk(p, out);
    else if (TEST_FILE.test(name)) out.push(p);
  }
}
