/**
 * The web console's routes, served by the HTTP listener under /console/:
 * sign-in and sign-out, the pages of {@link CONSOLE_PAGES}, a decision's
 * record, the live event stream and the static assets. Every request is
 * checked on the server: with callers configured a page needs a session
 * (sign-in with a caller token) and the page's group; without callers the
 * console is open and says so on every page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { compareCursors, joinCursor, parseCursor, splitCursor } from "../../../audit/cursor.ts";
import { isCursorExpiredError, isCursorOutOfRangeError, isInvalidCursorError, isTooManySubscribersError } from "../../../audit/errors.ts";
import type { AuditFilter } from "../../../audit/filter.ts";
import type { AuditEntry, AuditHub } from "../../../audit/hub.ts";
import type { SinkHealth } from "../../../audit/sink.ts";
import type { AuthEngine } from "../../../engine/auth-engine.ts";
import type { ReplicaInfo } from "../../../state/redis/replicas.ts";
import type { StateStore } from "../../../state/store.ts";
import type { CallerCheck } from "../../callers.ts";
import type { Logger } from "../../logger.ts";
import type { ServerMetrics } from "../../metrics.ts";
import type { RpcGroup } from "../../server-config.ts";
import type { HttpRouteGroup } from "../route-group.ts";
import { CONSOLE_CSS, CONSOLE_ICON } from "./console-style.ts";
import { CONSOLE_JS } from "./console-script.ts";
import { DecisionRate } from "./decision-rate.ts";
import { decisionRow } from "./decision-row.ts";
import { decisionsBody, recordBody, rowMatches, type FeedFilters } from "./decisions-view.ts";
import { registerApprovalRoutes } from "./approvals-routes.ts";
import { streamDecisions, type DecisionStreamOptions } from "./event-stream.ts";
import { healthBody } from "./health-view.ts";
import type { SafeHtml } from "./html.ts";
import { cookieOf, csrfRefusal, SECURITY_HEADERS, sessionCookieName, setCookie, signInCsrfCookieName } from "./http-security.ts";
import { layout, messagePage } from "./layout.ts";
import { CONSOLE_BASE, groupsText, pageById, pagesFor, viewerMay, type Viewer } from "./pages.ts";
import { policyBody } from "./policy-view.ts";
import { ConsoleSessions, randomToken } from "./sessions.ts";
import { signInBody } from "./sign-in-view.ts";

/** Default session lifetime: 8 hours. */
export const DEFAULT_CONSOLE_SESSION_MINUTES = 480;

/** What the console reads and who may read it. */
export interface ConsoleServices {
  readonly engine: AuthEngine;
  readonly hub: AuditHub;
  readonly store: StateStore;
  readonly metrics: ServerMetrics;
  /** Undefined without callers configured: the console is open (with a banner). */
  readonly callerCheck: CallerCheck | undefined;
  /** The policy file and the problems of its last read; undefined when the server has no file. */
  readonly reloader?: { readonly path: string; readonly errors: readonly string[]; readonly lastAttempt: { readonly at: number; readonly trigger: string } | undefined } | undefined;
  readonly replicas: () => Promise<ReplicaInfo[]>;
  /** The JSONL audit file, when one is written; `isRecord` when it is the record (memory store). */
  readonly auditFile?: { readonly health: () => SinkHealth; readonly isRecord: boolean } | undefined;
  /** Served over TLS (or behind a proxy that terminates it): cookies are Secure and `__Host-` named. */
  readonly secure: boolean;
  /** Session lifetime; default {@link DEFAULT_CONSOLE_SESSION_MINUTES}. */
  readonly sessionMinutes?: number | undefined;
  readonly logger: Logger;
}

const HTML = "text/html; charset=utf-8";
const SIGN_IN_CSRF_SECONDS = 3600;
/** Longest filter value accepted in a page's query. */
const MAX_FILTER_LENGTH = 1024;
const FEED_ROWS = 50;

/** The console as a route group of the HTTP listener. */
export function consoleRoutes(s: ConsoleServices): HttpRouteGroup {
  return {
    name: "console",
    register: async (scope) => {
      await scope.register(async (app) => registerConsole(app, s), { prefix: CONSOLE_BASE });
    },
  };
}

function registerConsole(app: FastifyInstance, s: ConsoleServices): void {
  const started = Date.now();
  const open = s.callerCheck === undefined;
  const sessions = new ConsoleSessions({ lifetimeMs: (s.sessionMinutes ?? DEFAULT_CONSOLE_SESSION_MINUTES) * 60_000 });
  const sessionCookie = sessionCookieName(s.secure);
  const csrfCookie = signInCsrfCookieName(s.secure);
  const rate = new DecisionRate({ total: () => s.metrics.decisions.sum() });
  rate.start();
  const streams = { open: 0 };
  /** The live streams of each session (by cookie value), ended at sign-out. */
  const sessionStreams = new Map<string, Set<() => void>>();
  app.addHook("onClose", async () => rate.stop());

  // Forms are the only bodies the console takes.
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: 16 * 1024 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.addHook("onSend", async (_request, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    if (!reply.hasHeader("cache-control")) reply.header("cache-control", "no-store");
    return payload;
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).type(HTML).send(messagePage(viewerOf(request), "Not found", `Nothing is served at ${request.url.split("?")[0]}.`, { href: `${CONSOLE_BASE}/`, text: "Console home" }));
  });
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) s.logger.error("console request failed", { url: request.url.split("?")[0], error });
    const message = status === 500 ? "The server could not answer this page; see its log." : error.message;
    void reply.code(status).type(HTML).send(messagePage(viewerOf(request), status === 500 ? "Something went wrong" : "Request refused", message));
  });

  /**
   * The viewer of a request: anyone without callers; else the caller of a
   * live session cookie, with the groups the caller has now (callers reload
   * on SIGHUP): a caller removed since sign-in has no session any more.
   */
  function viewerOf(request: FastifyRequest): Viewer | undefined {
    if (open) return OPEN;
    const id = cookieOf(request, sessionCookie);
    const session = sessions.get(id);
    if (session === undefined) return undefined;
    const caller = s.callerCheck!.named(session.caller.name);
    if (caller === undefined) {
      sessions.end(id);
      return undefined;
    }
    return { kind: "caller", name: caller.name, groups: caller.groups, csrf: session.csrf };
  }

  /** The viewer when they may see what `group` guards; otherwise answers (sign-in redirect or 403) and returns undefined. */
  function gate(request: FastifyRequest, reply: FastifyReply, groups: readonly RpcGroup[]): Viewer | undefined {
    const viewer = viewerOf(request);
    if (viewer === undefined) {
      void reply.redirect(`${CONSOLE_BASE}/sign-in`, 303);
      return undefined;
    }
    if (!viewerMay(viewer, groups)) {
      const name = viewer.kind === "caller" ? viewer.name : "";
      void reply.code(403).type(HTML).send(messagePage(viewer, "Not allowed", `Caller '${name}' is not granted ${groupsText(groups)} this page needs.`));
      return undefined;
    }
    return viewer;
  }

  function page(reply: FastifyReply, viewer: Viewer, id: string, body: SafeHtml): void {
    void reply.type(HTML).send(layout({ title: pageById(id).title, pageId: id, viewer, body }));
  }

  // Assets: the same for everyone, no data in them.
  const asset = (path: string, type: string, text: string): void => {
    app.get(path, async (_request, reply) => reply.type(type).header("cache-control", "no-cache").send(text));
  };
  asset("/static/console.css", "text/css; charset=utf-8", CONSOLE_CSS);
  asset("/static/console.js", "text/javascript; charset=utf-8", CONSOLE_JS);
  asset("/static/icon.svg", "image/svg+xml", CONSOLE_ICON);

  app.get("/", async (request, reply) => {
    const viewer = viewerOf(request);
    if (viewer === undefined) return reply.redirect(`${CONSOLE_BASE}/sign-in`, 303);
    const first = pagesFor(viewer)[0];
    if (first === undefined) return reply.code(403).type(HTML).send(messagePage(viewer, "Nothing to show", "This caller is granted none of the groups the console's pages need."));
    return reply.redirect(first.path, 303);
  });

  app.get("/sign-in", async (request, reply) => {
    if (viewerOf(request) !== undefined) return reply.redirect(`${CONSOLE_BASE}/`, 303);
    const csrf = randomToken();
    return reply
      .header("set-cookie", setCookie(csrfCookie, csrf, SIGN_IN_CSRF_SECONDS, s.secure))
      .type(HTML)
      .send(layout({ title: "Sign in", viewer: undefined, body: signInBody(csrf) }));
  });

  app.post("/sign-in", async (request, reply) => {
    if (open) return reply.redirect(`${CONSOLE_BASE}/`, 303);
    const form = formOf(request);
    const expected = cookieOf(request, csrfCookie);
    const refusal = csrfRefusal(request, form, expected);
    if (refusal !== undefined) {
      s.logger.warn("console sign-in refused", { reason: refusal, peer: peerOf(request) });
      return reply.code(403).type(HTML).send(messagePage(undefined, "Request refused", refusal, { href: `${CONSOLE_BASE}/sign-in`, text: "Sign in" }));
    }
    const token = (form["token"] ?? "").trim();
    const who = token === "" || /\s/.test(token) ? { reason: "no token given" } : s.callerCheck!.identify({ authorization: [`Bearer ${token}`], peerCertificate: undefined });
    if (!("caller" in who)) {
      s.logger.warn("console sign-in refused", { reason: who.reason, peer: peerOf(request) });
      return reply.code(401).type(HTML).send(layout({ title: "Sign in", viewer: undefined, body: signInBody(expected!, "That token is not accepted.") }));
    }
    const { id } = sessions.create(who.caller);
    s.logger.info("console sign-in", { caller: who.caller.name, peer: peerOf(request) });
    return reply
      .header("set-cookie", [setCookie(sessionCookie, id, Math.floor(sessions.lifetimeMs / 1000), s.secure), setCookie(csrfCookie, "", 0, s.secure)])
      .redirect(`${CONSOLE_BASE}/`, 303);
  });

  app.post("/sign-out", async (request, reply) => {
    const viewer = viewerOf(request);
    if (viewer === undefined || viewer.kind !== "caller") return reply.redirect(`${CONSOLE_BASE}/sign-in`, 303);
    const refusal = csrfRefusal(request, formOf(request), viewer.csrf);
    if (refusal !== undefined) {
      s.logger.warn("console sign-out refused", { caller: viewer.name, reason: refusal, peer: peerOf(request) });
      return reply.code(403).type(HTML).send(messagePage(viewer, "Request refused", refusal));
    }
    const id = cookieOf(request, sessionCookie);
    sessions.end(id);
    for (const stop of [...(sessionStreams.get(id ?? "") ?? [])]) stop();
    s.logger.info("console sign-out", { caller: viewer.name });
    return reply.header("set-cookie", setCookie(sessionCookie, "", 0, s.secure)).redirect(`${CONSOLE_BASE}/sign-in`, 303);
  });

  registerApprovalRoutes(app, {
    engine: s.engine,
    hub: s.hub,
    logger: s.logger,
    viewerOf,
    gate,
    formOf,
    // Without callers there is no session: forms carry a double-submit cookie's value instead.
    csrfFor: (request, reply, viewer) => {
      if (viewer.kind === "caller") return viewer.csrf;
      const token = cookieOf(request, csrfCookie) ?? randomToken();
      void reply.header("set-cookie", setCookie(csrfCookie, token, SIGN_IN_CSRF_SECONDS, s.secure));
      return token;
    },
    expectedCsrf: (request, viewer) => (viewer.kind === "caller" ? viewer.csrf : cookieOf(request, csrfCookie)),
    streamOptions: (request) => streamOptions(cookieOf(request, sessionCookie)),
  });

  /** A live stream's session checks and bookkeeping: it ends with the session (sign-out, expiry). */
  function streamOptions(sessionId: string | undefined): Pick<DecisionStreamOptions, "stillAllowed" | "streams" | "onOpen"> {
    return {
      stillAllowed: () => open || sessions.get(sessionId) !== undefined,
      streams,
      onOpen: (stop) => {
        if (sessionId === undefined) return () => undefined;
        let set = sessionStreams.get(sessionId);
        if (set === undefined) sessionStreams.set(sessionId, (set = new Set()));
        set.add(stop);
        return () => {
          set.delete(stop);
          if (set.size === 0) sessionStreams.delete(sessionId);
        };
      },
    };
  }

  app.get("/decisions", async (request, reply) => {
    const viewer = gate(request, reply, AUDIT);
    if (viewer === undefined) return reply;
    const filters = feedFilters(request.query);
    const hub = s.hub;
    // The newest entry first, so the stream continues exactly after the page's list.
    const head = (await hub.query({ newestFirst: true, limit: 1 })).entries[0]?.cursor ?? "0-0";
    const filter: AuditFilter = {
      agents: filters.agent === "" ? undefined : [filters.agent],
      users: filters.user === "" ? undefined : [filters.user],
      effect: filters.effect === "allow" || filters.effect === "deny" ? filters.effect : undefined,
      tiers: filters.tier === "" ? undefined : [filters.tier],
    };
    const found = await hub.query({ filter, newestFirst: true, limit: filters.text === "" ? FEED_ROWS : 4 * FEED_ROWS });
    const rows = found.entries
      .filter((e) => compareCursors(e.cursor, head) <= 0)
      .map((e) => decisionRow(e, hub))
      .filter((r) => rowMatches(r, filters))
      .slice(0, FEED_ROWS);
    page(reply, viewer, "decisions", decisionsBody(rows, filters, hub.cursorText(head)));
    return reply;
  });

  app.get("/decisions/:cursor", async (request, reply) => {
    const viewer = gate(request, reply, AUDIT);
    if (viewer === undefined) return reply;
    const cursor = (request.params as { cursor: string }).cursor;
    const entry = await findEntry(s.hub, cursor);
    if (entry === undefined) {
      return reply.code(404).type(HTML).send(messagePage(viewer, "No such decision", `No decision with cursor ${cursor} is kept in the audit history.`, { href: `${CONSOLE_BASE}/decisions`, text: "Live decisions" }));
    }
    void reply.type(HTML).send(layout({ title: "Decision", pageId: "decisions", viewer, body: recordBody(s.hub.cursorText(entry.cursor), entry.event) }));
    return reply;
  });

  app.get("/events", async (request, reply) => {
    const viewer = viewerOf(request);
    if (viewer === undefined) return reply.code(401).type("text/plain; charset=utf-8").send("Sign in to follow decisions.");
    if (!viewerMay(viewer, AUDIT)) return reply.code(403).type("text/plain; charset=utf-8").send("This caller is not granted the 'audit' group.");
    const sessionId = cookieOf(request, sessionCookie);
    const lastEventId = request.headers["last-event-id"];
    const query = request.query as Record<string, unknown>;
    const after = typeof lastEventId === "string" && lastEventId !== "" ? lastEventId : typeof query["after"] === "string" ? query["after"] : "";
    const hub = s.hub;
    let notice: string | undefined;
    let sub;
    try {
      sub = await hub.subscribe({ after });
    } catch (error) {
      if (isTooManySubscribersError(error)) return reply.code(503).header("retry-after", "10").type("text/plain; charset=utf-8").send(error.message);
      if (!isCursorExpiredError(error) && !isCursorOutOfRangeError(error) && !isInvalidCursorError(error)) throw error;
      notice = `Decisions may be missing: the stream could not continue where it stopped (${error.message}). Showing new decisions.`;
      sub = await hub.subscribe({});
    }
    reply.hijack();
    await streamDecisions({
      response: reply.raw,
      subscription: sub,
      row: (entry) => decisionRow(entry, hub),
      notice,
      ...streamOptions(sessionId),
      logger: s.logger,
    });
  });

  app.get("/policy", async (request, reply) => {
    const viewer = gate(request, reply, ["policy"]);
    if (viewer === undefined) return reply;
    const engine = s.engine;
    page(
      reply,
      viewer,
      "policy",
      policyBody({
        policy: engine.policy,
        loadedAt: engine.loadedAt,
        source: s.reloader?.path ?? "",
        reloadErrors: s.reloader?.errors ?? [],
        lastReload: s.reloader?.lastAttempt,
        replicas: await s.replicas(),
        store: s.store.kind,
        now: Date.now(),
      }),
    );
    return reply;
  });

  app.get("/health", async (request, reply) => {
    const viewer = gate(request, reply, []);
    if (viewer === undefined) return reply;
    const audit = s.engine.policy.config.audit;
    const redis = s.store.kind === "redis";
    const dropped = (await s.metrics.auditDropped.get()).values.reduce((sum, v) => sum + v.value, 0);
    const fileHealth = s.auditFile?.health();
    page(
      reply,
      viewer,
      "health",
      healthBody({
        store: { kind: s.store.kind, ...s.store.health() },
        audit: {
          description: !audit.enabled
            ? redis
              ? "The Redis audit stream (no local file)."
              : "Audit is off in the policy: only live subscribers see decisions."
            : redis
              ? `The Redis audit stream is the record; ${audit.path} is a local copy (${audit.durability}).`
              : `${audit.path} is the record (${audit.durability}).`,
          file: s.auditFile === undefined || fileHealth === undefined ? undefined : { ...fileHealth, isRecord: s.auditFile.isRecord },
          dropped,
        },
        subscribers: s.hub.subscriberCount,
        consoleStreams: streams.open,
        decisionsTotal: s.metrics.decisions.sum(),
        rate: rate.series(),
        intervalMs: rate.intervalMs,
        uptimeMs: Date.now() - started,
      }),
    );
    return reply;
  });
}

const OPEN: Viewer = Object.freeze({ kind: "open" });
const AUDIT: readonly RpcGroup[] = ["audit"];

function formOf(request: FastifyRequest): Record<string, string> {
  const body = request.body;
  return typeof body === "object" && body !== null ? (body as Record<string, string>) : {};
}

function peerOf(request: FastifyRequest): string {
  const s = request.raw.socket;
  return `${s.remoteAddress ?? "?"}:${s.remotePort ?? "?"}`;
}

/** The filters of a page's query; over-long values are refused (400). */
function feedFilters(query: unknown): FeedFilters {
  const q = (typeof query === "object" && query !== null ? query : {}) as Record<string, unknown>;
  const text = (key: string): string => {
    const v = q[key];
    const s = typeof v === "string" ? v.trim() : "";
    if (s.length > MAX_FILTER_LENGTH) throw Object.assign(new Error(`filter '${key}' is longer than ${MAX_FILTER_LENGTH} characters`), { statusCode: 400 });
    return s;
  };
  const effect = text("effect");
  const tier = text("tier");
  return {
    agent: text("agent"),
    user: text("user"),
    effect: effect === "allow" || effect === "deny" ? effect : "",
    tier: ["autonomous", "soft", "strong"].includes(tier) ? tier : "",
    text: text("q"),
  };
}

/** The entry at a cursor (as clients see it), when the history still holds it. */
async function findEntry(hub: AuditHub, text: string): Promise<AuditEntry | undefined> {
  const parts = splitCursor(text);
  if (parts === undefined) return undefined;
  const [ms, seq] = parseCursor(parts.position)!;
  // Read one entry after the position just before it.
  const before = seq > 0 ? `${ms}-${seq - 1}` : ms > 0 ? `${ms - 1}-999999999999999` : "";
  const after = before === "" || parts.epoch === undefined ? before : joinCursor(before, parts.epoch);
  try {
    const entry = (await hub.query({ after, limit: 1 })).entries[0];
    return entry !== undefined && entry.cursor === parts.position ? entry : undefined;
  } catch (error) {
    if (isCursorOutOfRangeError(error) || isInvalidCursorError(error) || isCursorExpiredError(error)) return undefined;
    throw error;
  }
}
