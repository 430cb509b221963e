import { createJsonlFileSink } from "../audit/jsonl-file-sink.ts";
import type { AuditSink } from "../audit/sink.ts";
import type { AuditConfig } from "../config/types.ts";
import type { CliIo } from "./io.ts";

/**
 * The policy's JSONL audit file for a command that decides in its own
 * process (`check --audit`, `mcp-proxy` without `--server`): the file is the
 * record, so records it cannot take are said on stderr, with their count.
 */
export function auditFileSink(io: CliIo, audit: AuditConfig): AuditSink {
  return createJsonlFileSink(audit.path, {
    durability: audit.durability,
    bufferBytes: audit.bufferBytes,
    onDropped: (count, reason, error) =>
      io.stderr(`audit: ${count} record(s) not written to ${audit.path} (${reason === "shutdown" ? "at exit" : "buffer full"}): ${error instanceof Error ? error.message : String(error)}\n`),
  });
}
