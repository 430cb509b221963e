import { spawn, type ChildProcess } from "node:child_process";

/** The `agent-auth` program as built (`npm test` builds before it runs the tests). */
export const CLI = "dist/src/cli/bin.js";

/** Starts `agent-auth serve` and resolves with its address once it logs "serving". */
export function startServe(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ child: ChildProcess; address: string; logs: string[] }> {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  const logs: string[] = [];
  return new Promise((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${logs.join("")}`)), 20_000);
    child.stderr!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        logs.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; address?: string };
          if (entry.msg === "serving") {
            clearTimeout(timer);
            resolve({ child, address: entry.address!, logs });
          }
        } catch {
          // not a log line
        }
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${logs.join("\n")}`));
    });
  });
}

export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", (code) => resolve(code))));
}

