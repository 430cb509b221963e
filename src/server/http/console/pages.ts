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
  /** The caller group a signed-in viewer needs; undefined: any signed-in caller. */
  readonly group: RpcGroup | undefined;
}

/** The pages, in tab order. */
export const CONSOLE_PAGES: readonly ConsolePage[] = [
  { id: "decisions", path: `${CONSOLE_BASE}/decisions`, title: "Live decisions", group: "audit" },
  { id: "policy", path: `${CONSOLE_BASE}/policy`, title: "Policy", group: "policy" },
  { id: "health", path: `${CONSOLE_BASE}/health`, title: "Health", group: undefined },
];

/** Who is looking: anyone (no callers configured) or a signed-in caller. */
export type Viewer = { readonly kind: "open" } | { readonly kind: "caller"; readonly name: string; readonly groups: ReadonlySet<RpcGroup>; readonly csrf: string };

/** Whether a viewer may use what `group` guards (undefined: any viewer). */
export function viewerMay(viewer: Viewer, group: RpcGroup | undefined): boolean {
  return viewer.kind === "open" || group === undefined || viewer.groups.has(group);
}

/** The pages a viewer may open, in tab order. */
export function pagesFor(viewer: Viewer): ConsolePage[] {
  return CONSOLE_PAGES.filter((p) => viewerMay(viewer, p.group));
}

/** The page with this id (a programming error when there is none). */
export function pageById(id: string): ConsolePage {
  const page = CONSOLE_PAGES.find((p) => p.id === id);
  if (page === undefined) throw new Error(`no console page '${id}'`);
  return page;
}
