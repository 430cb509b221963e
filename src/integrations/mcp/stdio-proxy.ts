import { spawn, type ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import type { JSONRPCMessage, JSONRPCRequest } from "@modelcontextprotocol/sdk/types.js";
import type { Decider } from "../../client/decider.ts";
import type { McpIdentity } from "./decision-request.ts";
import { createMcpGateway, type McpApprovalOptions } from "./gateway.ts";
import { ErrorCodes, errorResponse, isNotification, isRequest, isResponse } from "./json-rpc.ts";
import { createLineChannel, type LineChannel } from "./line-channel.ts";

/** When and how often a crashed server is started again. */
export interface RestartOptions {
  /** Restarts in a row (each within 10 s of the previous start) before the proxy gives up and exits 1. Default 5. */
  readonly maxRestarts?: number;
  /** Wait before the first restart (ms), doubling for each further one in a row. Default 100. */
  readonly initialDelayMs?: number;
  /** Longest wait before a restart (ms). Default 5000. */
  readonly maxDelayMs?: number;
}

/** A stdio gateway: the MCP server a client starts, in front of the real one it starts as a child. */
export interface StdioProxyOptions {
  readonly decider: Decider;
  /** The server's name in policy actions (`NAME:TOOL`). */
  readonly server: string;
  readonly identity: McpIdentity;
  /** The real MCP server's command and arguments. */
  readonly command: string;
  readonly args?: readonly string[];
  /** The child's environment. Default: the proxy's own (clients pass a server's settings to the proxy). */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** The client's side. Default: the process's stdin and stdout. */
  readonly input?: Readable;
  readonly output?: Writable;
  /** Diagnostics (never on stdout, which belongs to the protocol). Default: stderr. */
  readonly log?: (line: string) => void;
  readonly restart?: RestartOptions;
  /** Calls needing approval: the console link and note in the answers (see McpApprovalOptions). */
  readonly approvals?: McpApprovalOptions;
}

/** A running stdio gateway. */
export interface StdioProxy {
  /** Resolves with the exit code once the proxy has stopped: 0 after the client left, 1 after giving up on the server. */
  readonly done: Promise<number>;
  /** Stops the server (stdin closed, then SIGTERM, then SIGKILL) and the proxy. */
  close(): Promise<number>;
}

const STABLE_MS = 10_000;
const MAX_WAITING = 1000;
const REINIT_PREFIX = "agent-auth-mcp-proxy/reinitialize/";
/** A restarted server that does not answer its initialize within this time is killed and counts as a crash. */
const REINIT_TIMEOUT_MS = 30_000;

/**
 * Starts a stdio MCP gateway: it reads the client's JSON-RPC from `input`,
 * decides each guarded request with agent-auth (see createMcpGateway), and
 * relays the rest between the client and the real server, a child process.
 *
 * When the child exits, the requests it had not answered get an error, the
 * child is started again with backoff and, once the client has initialized,
 * initialized again with the client's own `initialize` request (its answer
 * kept from the client), so the client's session goes on. Messages that
 * arrive meanwhile wait for it. After too many restarts in a row the proxy
 * gives up and exits 1. A malformed message from the client is answered
 * with the JSON-RPC error for it (with its id when it has one); a malformed
 * message from the server is dropped, and a request it was meant to answer
 * gets an error instead.
 */
export function startStdioProxy(options: StdioProxyOptions): StdioProxy {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const log = options.log ?? ((line: string) => void process.stderr.write(`agent-auth mcp-proxy: ${line}\n`));
  const maxRestarts = options.restart?.maxRestarts ?? 5;
  const initialDelayMs = options.restart?.initialDelayMs ?? 100;
  const maxDelayMs = options.restart?.maxDelayMs ?? 5000;
  const server = options.server;

  type State = "starting" | "ready" | "restarting" | "closing" | "stopped";
  let state: State = "starting";
  let child: ChildProcess | undefined;
  let childChannel: LineChannel | undefined;
  let waiting: JSONRPCMessage[] = [];
  let clientInitialize: JSONRPCRequest | undefined;
  let clientInitialized: JSONRPCMessage | undefined;
  let starts = 0;
  let inARow = 0;
  let startedAt = 0;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));

  const gateway = createMcpGateway({
    decider: options.decider,
    server,
    identity: options.identity,
    approvals: options.approvals,
    toClient: (m) => clientChannel.send(m),
    toServer: (m) => toServer(m),
    onError: (e, context) => log(`${context}: ${e instanceof Error ? e.message : String(e)}`),
  });

  const clientChannel = createLineChannel(input, output, {
    onMessage: (m) => gateway.fromClient(m),
    onInvalid: ({ kind, problem, id }) => {
      log(`the client sent ${problem}; answered with an error`);
      const code = kind === "invalid" ? ErrorCodes.INVALID_REQUEST : ErrorCodes.PARSE_ERROR;
      clientChannel.send(errorResponse(id ?? null, code, `${kind === "invalid" ? "Invalid Request" : "Parse error"}: ${problem}`));
    },
    onEnd: () => void close(),
  });

  function toServer(m: JSONRPCMessage): void {
    if (isRequest(m) && m.method === "initialize") clientInitialize = m;
    if (isNotification(m) && m.method === "notifications/initialized") clientInitialized = m;
    if (state === "ready") return childChannel!.send(m);
    if (state === "starting" || state === "restarting") {
      if (waiting.length >= MAX_WAITING) throw new Error(`it is being restarted and ${MAX_WAITING} messages already wait for it`);
      waiting.push(m);
      return;
    }
    throw new Error("it is not running");
  }

  function becomeReady(): void {
    state = "ready";
    const queued = waiting;
    waiting = [];
    for (const m of queued) childChannel!.send(m);
  }

  function startChild(): void {
    starts++;
    startedAt = Date.now();
    state = "starting";
    let gone = false;
    const proc = spawn(options.command, [...(options.args ?? [])], { stdio: ["pipe", "pipe", "inherit"], env: options.env ?? process.env, ...(options.cwd === undefined ? {} : { cwd: options.cwd }) });
    child = proc;
    const reinitId = `${REINIT_PREFIX}${starts}`;
    const channel = createLineChannel(proc.stdout!, proc.stdin!, {
      onMessage(m) {
        if (isResponse(m) && m.id === reinitId) {
          if ("error" in m) log(`MCP server '${server}' refused to be initialized again: ${m.error.message}`);
          if (clientInitialized !== undefined) channel.send(clientInitialized);
          return becomeReady();
        }
        gateway.fromServer(m);
      },
      onInvalid({ problem, id }) {
        log(`MCP server '${server}' sent ${problem}; dropped`);
        if (id !== undefined && gateway.awaitsAnswer(id)) gateway.fromServer(errorResponse(id, ErrorCodes.INTERNAL_ERROR, `the MCP server '${server}' sent an invalid answer: ${problem}`));
      },
    });
    childChannel = channel;
    // Writing to a child that has just exited fails with EPIPE; the exit is handled below.
    proc.stdin!.on("error", () => {});
    const onGone = (detail: string): void => {
      if (gone) return;
      gone = true;
      channel.close();
      if (state === "closing" || state === "stopped") return;
      gateway.serverGone(detail);
      inARow = Date.now() - startedAt >= STABLE_MS ? 1 : inARow + 1;
      if (inARow > maxRestarts) {
        log(`MCP server '${server}' ${detail}; giving up after ${maxRestarts} restarts in a row`);
        return stop(1, `the MCP server '${server}' could not be kept running (${detail})`);
      }
      const delay = Math.min(maxDelayMs, initialDelayMs * 2 ** (inARow - 1));
      log(`MCP server '${server}' ${detail}; restarting it in ${delay} ms`);
      state = "restarting";
      setTimeout(() => {
        if (state === "restarting") startChild();
      }, delay);
    };
    proc.once("error", (e) => onGone(`could not be started (${e.message})`));
    proc.once("exit", (code, signal) => onGone(signal !== null ? `was killed by ${signal}` : `exited with code ${code}`));
    proc.once("spawn", () => {
      if (state !== "starting") return;
      // A restarted server is initialized as the client initialized the first one.
      if (starts > 1 && clientInitialize !== undefined) {
        channel.send({ ...clientInitialize, id: reinitId });
        setTimeout(() => {
          if (child === proc && state === "starting") {
            log(`MCP server '${server}' did not answer its initialize within ${REINIT_TIMEOUT_MS} ms`);
            proc.kill("SIGKILL");
          }
        }, REINIT_TIMEOUT_MS).unref();
      } else becomeReady();
    });
  }

  function stop(code: number, why: string): void {
    state = "stopped";
    for (const m of waiting) if (isRequest(m)) clientChannel.send(errorResponse(m.id, ErrorCodes.INTERNAL_ERROR, why));
    waiting = [];
    clientChannel.close();
    input.pause();
    finish(code);
  }

  async function close(): Promise<number> {
    if (state === "closing" || state === "stopped") return done;
    state = "closing";
    clientChannel.close();
    input.pause();
    const proc = child;
    if (proc !== undefined && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
      const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
      proc.stdin?.end();
      if (!(await within(2000))) {
        proc.kill("SIGTERM");
        if (!(await within(2000))) proc.kill("SIGKILL");
      }
    }
    state = "stopped";
    finish(0);
    return done;
  }

  startChild();
  return { done, close };
}
