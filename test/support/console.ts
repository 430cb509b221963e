/** Helpers for the console's HTTP tests: cookies, forms and signing in through the form. */
import { expect } from "chai";
import { call, type HttpAnswer } from "./http.ts";

/** Set-Cookie headers by cookie name: value and attributes. */
export function setCookies(answer: HttpAnswer): Map<string, { value: string; attributes: string }> {
  const raw = answer.headers["set-cookie"];
  const out = new Map<string, { value: string; attributes: string }>();
  for (const line of Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]) {
    const [pair, ...rest] = line.split(";");
    const eq = pair!.indexOf("=");
    out.set(pair!.slice(0, eq), { value: pair!.slice(eq + 1), attributes: rest.map((s) => s.trim()).join("; ") });
  }
  return out;
}

/** A form body. */
export const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();

/** Signs in through the form; returns the session cookie (`name=value`) and the session's CSRF token. */
export async function signIn(base: string, token: string): Promise<{ cookie: string; csrf: string }> {
  const page = await call(base, "/console/sign-in");
  const csrfCookie = setCookies(page).get("agent_auth_console_csrf")!;
  const answer = await call(base, "/console/sign-in", {
    method: "POST",
    raw: form({ csrf: csrfCookie.value, token }),
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: `agent_auth_console_csrf=${csrfCookie.value}` },
  });
  expect(answer.status, answer.text).to.equal(303);
  const session = setCookies(answer).get("agent_auth_console")!;
  const cookie = `agent_auth_console=${session.value}`;
  const home = await call(base, "/console/health", { headers: { cookie } });
  const csrf = /name="csrf" value="([^"]+)"/.exec(home.text)![1]!;
  return { cookie, csrf };
}
