import { intOption, requireOption } from "../args.ts";
import { outputMode, parseCommandArgs } from "../command-spec.ts";
import { sessionsSpec } from "../specs/sessions.ts";
import { openBackend } from "../backend.ts";
import type { GlobalOptions } from "../global-options.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIo } from "../io.ts";
import { bold, dim, paint, renderTable, yellow } from "../table.ts";
import type { SessionView } from "../views.ts";

/** `agent-auth sessions --create … | --list … | --revoke ID` (with --server or --redis). */
export async function sessionsCommand(io: CliIo, g: GlobalOptions, args: readonly string[]): Promise<number> {
  const v = parseCommandArgs(sessionsSpec, args).values;
  const output = outputMode("sessions", v.output);
  const modes = [v.create, v.list, v.revoke !== undefined].filter(Boolean).length;
  if (modes !== 1) throw new UsageError("sessions: use exactly one of --create, --list or --revoke ID", "sessions");
  const create = v.create ? { agent: requireOption("sessions --create", "agent", v.agent), user: requireOption("sessions --create", "user", v.user) } : undefined;
  const duration = intOption("sessions", "duration", v.duration);
  const backend = await openBackend(io, g, "sessions");
  if (backend === undefined) return EXIT_FAILURE;
  try {
    if (create !== undefined) {
      const s = await backend.createSession({ ...create, scope: v.scope ?? "", duration });
      // Allowed, as in the original; but a session for an agent without a profile is usually a typo.
      const profiles = await backend.profileNames();
      if (profiles !== undefined && !profiles.has(create.agent)) {
        io.stderr(`${paint(io.color, yellow, "Warning:")} no profile named '${create.agent}': the session was created, but only delegations or user permissions can allow this agent anything\n`);
      }
      if (output === "json") io.stdout(JSON.stringify(s, null, 2) + "\n");
      else io.stdout(`Session created: ${s.session_id}\n  Agent: ${s.agent}\n  User: ${s.user}\n  Scope: ${s.scope || "(all)"}\n  Expires: ${s.expires_at}\n`);
      return EXIT_OK;
    }
    if (v.revoke !== undefined) {
      const r = await backend.revokeSession(v.revoke);
      if (output === "json") io.stdout(JSON.stringify({ status: r.status, session: r.record ?? null }, null, 2) + "\n");
      else if (r.status === "revoked") io.stdout(`Session ${v.revoke} revoked\n`);
      else io.stderr(`Session ${v.revoke} not found or already inactive\n`);
      return r.status === "revoked" ? EXIT_OK : EXIT_FAILURE;
    }
    const sessions = await backend.listSessions({ agent: v.agent ?? "", user: v.user ?? "", includeRevoked: v.all ?? false });
    if (output === "json") io.stdout(JSON.stringify(sessions, null, 2) + "\n");
    else io.stdout(sessionTable(io, sessions));
    return EXIT_OK;
  } finally {
    await backend.close();
  }
}

function sessionTable(io: CliIo, sessions: readonly SessionView[]): string {
  if (sessions.length === 0) return paint(io.color, dim, "No active sessions found.") + "\n";
  const rows = sessions.map((s) => [s.session_id, s.agent, s.user, s.scope || "*", s.created_at.slice(0, 19), s.expires_at.slice(0, 19), s.status]);
  return `${paint(io.color, bold, `Sessions (${sessions.length})`)}\n${renderTable(["Session ID", "Agent", "User", "Scope", "Created", "Expires", "Status"], rows, io.color)}`;
}
