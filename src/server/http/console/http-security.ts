/**
 * What the console sends with every answer and checks on every form:
 * security headers, cookies, and the CSRF rules.
 */
import type { FastifyRequest } from "fastify";
import { sameToken } from "./sessions.ts";

/**
 * The Content-Security-Policy of every console answer: only this origin's
 * own scripts, styles, images and connections; no inline script or style; no
 * framing; forms post only here.
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Headers on every console answer (pages, assets, the event stream). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-security-policy": CONSOLE_CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=()",
});

/** The session cookie's name (`__Host-` under TLS, which browsers bind to this host and to Secure). */
export function sessionCookieName(secure: boolean): string {
  return secure ? "__Host-agent_auth_console" : "agent_auth_console";
}

/** The sign-in form's CSRF cookie (double submit: the form carries the same value). */
export function signInCsrfCookieName(secure: boolean): string {
  return secure ? "__Host-agent_auth_console_csrf" : "agent_auth_console_csrf";
}

/**
 * A Set-Cookie value: HttpOnly, SameSite=Strict, Secure under TLS; `maxAgeS`
 * 0 deletes it. `__Host-` cookies must have Path=/, others are kept to the
 * console's path.
 */
export function setCookie(name: string, value: string, maxAgeS: number, secure: boolean): string {
  const path = name.startsWith("__Host-") ? "/" : "/console";
  return `${name}=${value}; Path=${path}; Max-Age=${maxAgeS}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

/** One cookie of a request; undefined when absent (the first one when repeated). */
export function cookieOf(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Why a form post is refused as a possible cross-site request, or undefined
 * when it passes: the browser must not call it cross-site
 * (`Sec-Fetch-Site`), and the form's `csrf` field must equal `expected`.
 */
export function csrfRefusal(request: FastifyRequest, form: Readonly<Record<string, string>>, expected: string | undefined): string | undefined {
  const site = request.headers["sec-fetch-site"];
  if (site === "cross-site" || site === "same-site") return "the form was sent from another site";
  const sent = form["csrf"];
  if (sent === undefined || sent === "") return "the form carries no CSRF token";
  if (expected === undefined || !sameToken(sent, expected)) return "the form's CSRF token does not match (reload the page and try again)";
  return undefined;
}
