/**
 * Driving a server with h2load (Debian package nghttp2-client): one request
 * body replayed — a framed gRPC message over HTTP/2 streams, or a JSON body
 * over HTTP/1.1 keep-alive connections (`h1`) — with per-request latencies
 * from h2load's log file.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A gRPC message frame: compression flag 0, 4-byte big-endian length, message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  Buffer.from(message).copy(frame, 5);
  return frame;
}

export interface LoadResult {
  readonly requests: number;
  readonly perSecond: number;
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly failed: number;
}

/** Runs h2load once and reads its summary and per-request log. */
export async function h2load(options: {
  url: string;
  body: Buffer;
  requests: number;
  /** Concurrent streams on one HTTP/2 connection (ignored with `h1`). */
  streams: number;
  dir: string;
  cpu?: string;
  /** HTTP/1.1 over this many keep-alive connections, one request at a time each, JSON bodies. */
  h1?: { connections: number };
}): Promise<LoadResult> {
  const bodyFile = join(options.dir, "body.bin");
  const logFile = join(options.dir, "h2load.log");
  writeFileSync(bodyFile, options.body);
  rmSync(logFile, { force: true });
  const transport =
    options.h1 === undefined
      ? ["-c", "1", "-m", String(options.streams), "-H", "content-type: application/grpc", "-H", "te: trailers"]
      : ["--h1", "-c", String(options.h1.connections), "-m", "1", "-H", "content-type: application/json"];
  const args = ["-n", String(options.requests), ...transport, "-d", bodyFile, "--log-file", logFile, options.url];
  const cmd = options.cpu === undefined ? ["h2load", args] as const : ["taskset", ["-c", options.cpu, "h2load", ...args]] as const;
  const out = await new Promise<string>((resolve, reject) =>
    execFile(cmd[0], [...cmd[1]], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => (error ? reject(new Error(`h2load failed: ${stderr || error.message}`)) : resolve(stdout))),
  );
  const perSecond = Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out)?.[1] ?? "NaN");
  const failed = Number(/requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed/.exec(out)?.[1] ?? "NaN");
  const latencies = readFileSync(logFile, "utf8")
    .trim()
    .split("\n")
    .map((line) => Number(line.split("\t")[2]))
    .filter((n) => Number.isFinite(n))
    .sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? NaN;
  const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
  return { requests: latencies.length, perSecond, meanUs: mean, p50Us: at(0.5), p90Us: at(0.9), p99Us: at(0.99), failed };
}

/**
 * Starts a Node process (pinned to a CPU when taskset exists) and waits for
 * it to print `READY <port>`. `script` names a bench program by its source
 * path (`bench/servers.ts`); it runs compiled, as `npm run bench:build`
 * leaves it in .bench/, so servers run the same JavaScript users run.
 */
export function startProcess(script: string, args: string[], cpu: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<{ child: ChildProcess; port: number; httpPort: number | undefined }> {
  const node = [process.execPath, join(".bench", script.replace(/\.ts$/, ".js")), ...args];
  const child = cpu === undefined ? spawn(node[0]!, node.slice(1), { env, stdio: ["ignore", "pipe", "inherit"] }) : spawn("taskset", ["-c", cpu, ...node], { env, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let buffer = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const m = /READY (\d+)(?: HTTP (\d+))?\n/.exec(buffer);
      if (m !== null) resolve({ child, port: Number(m[1]), httpPort: m[2] === undefined ? undefined : Number(m[2]) });
    });
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
}

/** Stops a process started here and waits for it to exit. */
export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
