/**
 * The console's pages as data: each with its path, its tab title and the
 * caller group it needs. The navigation shows the pages a viewer may open,
 * and the routes check the same group, so a page is added (an approvals
 * inbox, say) by adding an entry here and registering its route.
 */
import type { RpcGroup } from "../../server-config.ts";

/** Where the console is served. */
export const CONSOLE_BASE = "/console";

/** One tab of the console. */
export interface ConsolePage {
  readonly id: string;
  readonly path: string;
  readonly title: string;
  /** The caller groups that open it (any one of them); empty: any signed-in caller. */
  readonly groups: readonly RpcGroup[];
}

/** Who may see the approvals inbox and its tasks: the approvals clients and the approvers. */
export const APPROVALS_VIEW_GROUPS: readonly RpcGroup[] = Object.freeze(["approvals", "approve"]);

/** Who may decide a task: an approver (as themselves) or a relay (naming the approver). */
export const APPROVALS_DECIDE_GROUPS: readonly RpcGroup[] = Object.freeze(["approve", "approvals-relay"]);

/** The pages, in tab order. */
export const CONSOLE_PAGES: readonly ConsolePage[] = [
  { id: "approvals", path: `${CONSOLE_BASE}/approvals`, title: "Approvals", groups: APPROVALS_VIEW_GROUPS },
  { id: "decisions", path: `${CONSOLE_BASE}/decisions`, title: "Live decisions", groups: ["audit"] },
  { id: "policy", path: `${CONSOLE_BASE}/policy`, title: "Policy", groups: ["policy"] },
  { id: "health", path: `${CONSOLE_BASE}/health`, title: "Health", groups: [] },
];

/** Who is looking: anyone (no callers configured) or a signed-in caller. */
export type Viewer = { readonly kind: "open" } | { readonly kind: "caller"; readonly name: string; readonly groups: ReadonlySet<RpcGroup>; readonly csrf: string };

/** Whether a viewer may use what `groups` guard (any one of them; empty: any viewer). */
export function viewerMay(viewer: Viewer, groups: readonly RpcGroup[]): boolean {
  return viewer.kind === "open" || groups.length === 0 || groups.some((g) => viewer.groups.has(g));
}

/** The groups as a refusal names them: `the 'audit' group`, `one of the 'approvals', 'approve' groups`. */
export function groupsText(groups: readonly RpcGroup[]): string {
  const names = groups.map((g) => `'${g}'`).join(", ");
  return groups.length === 1 ? `the ${names} group` : `one of the ${names} groups`;
}

/** The pages a viewer may open, in tab order. */
export function pagesFor(viewer: Viewer): ConsolePage[] {
  return CONSOLE_PAGES.filter((p) => viewerMay(viewer, p.groups));
}

/** The page with this id (a programming error when there is none). */
export function pageById(id: string): ConsolePage {
  const page = CONSOLE_PAGES.find((p) => p.id === id);
  if (page === undefined) throw new Error(`no console page '${id}'`);
  return page;
}
