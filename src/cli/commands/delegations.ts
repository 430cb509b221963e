import { intOption, requireOption } from "../args.ts";
import { outputMode, parseCommandArgs } from "../command-spec.ts";
import { delegateSpec, delegationsSpec } from "../specs/delegations.ts";
import { DelegationRefusedError, openBackend } from "../backend.ts";
import type { GlobalOptions } from "../global-options.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIo } from "../io.ts";
import { bold, dim, paint, renderTable } from "../table.ts";
import type { DelegationView } from "../views.ts";

/** `agent-auth delegate --from-user U --to-agent A --actions a,b [--duration S] [--reason R]`. */
export async function delegateCommand(io: CliIo, g: GlobalOptions, args: readonly string[]): Promise<number> {
  const v = parseCommandArgs(delegateSpec, args).values;
  const output = outputMode("delegate", v.output);
  const input = {
    fromUser: requireOption("delegate", "from-user", v["from-user"]),
    toAgent: requireOption("delegate", "to-agent", v["to-agent"]),
    actions: requireOption("delegate", "actions", v.actions).split(",").map((a) => a.trim()),
    duration: intOption("delegate", "duration", v.duration),
    reason: v.reason ?? "",
  };
  const backend = await openBackend(io, g, "delegate");
  if (backend === undefined) return EXIT_FAILURE;
  try {
    const d = await backend.createDelegation(input);
    if (output === "json") io.stdout(JSON.stringify(d, null, 2) + "\n");
    else {
      io.stdout(`Delegation created: ${d.delegation_id}\n  From: ${d.from_user}\n  To: ${d.to_agent}\n  Actions: ${d.actions.join(", ")}\n  Expires: ${d.expires_at}\n`);
      if (d.reason !== "") io.stdout(`  Reason: ${d.reason}\n`);
    }
    return EXIT_OK;
  } catch (error) {
    if (!(error instanceof DelegationRefusedError)) throw error;
    io.stderr(`Error: ${error.message}\n`);
    return EXIT_FAILURE;
  } finally {
    await backend.close();
  }
}

/** `agent-auth delegations --list [--agent A] [--user U] [--all] | --revoke ID`. */
export async function delegationsCommand(io: CliIo, g: GlobalOptions, args: readonly string[]): Promise<number> {
  const v = parseCommandArgs(delegationsSpec, args).values;
  const output = outputMode("delegations", v.output);
  if (v.list === (v.revoke !== undefined)) throw new UsageError("delegations: use exactly one of --list or --revoke ID", "delegations");
  const backend = await openBackend(io, g, "delegations");
  if (backend === undefined) return EXIT_FAILURE;
  try {
    if (v.revoke !== undefined) {
      const r = await backend.revokeDelegation(v.revoke);
      if (output === "json") io.stdout(JSON.stringify({ status: r.status, delegation: r.record ?? null }, null, 2) + "\n");
      else if (r.status === "revoked") io.stdout(`Delegation ${v.revoke} revoked\n`);
      else io.stderr(`Delegation ${v.revoke} not found or already inactive\n`);
      return r.status === "revoked" ? EXIT_OK : EXIT_FAILURE;
    }
    const list = await backend.listDelegations({ agent: v.agent ?? "", user: v.user ?? "", includeRevoked: v.all ?? false });
    if (output === "json") io.stdout(JSON.stringify(list, null, 2) + "\n");
    else io.stdout(delegationTable(io, list));
    return EXIT_OK;
  } finally {
    await backend.close();
  }
}

function delegationTable(io: CliIo, list: readonly DelegationView[]): string {
  if (list.length === 0) return paint(io.color, dim, "No active delegations found.") + "\n";
  const rows = list.map((d) => [d.delegation_id, d.from_user, d.to_agent, d.actions.join(", "), d.granted_at.slice(0, 19), d.expires_at.slice(0, 19), d.reason || "-", d.status]);
  return `${paint(io.color, bold, `Delegations (${list.length})`)}\n${renderTable(["Delegation ID", "From user", "To agent", "Actions", "Granted", "Expires", "Reason", "Status"], rows, io.color)}`;
}
