/** The web console served by the HTTP listener (see docs/console.md). */
export { consoleRoutes, DEFAULT_CONSOLE_SESSION_MINUTES, type ConsoleServices } from "./console-routes.ts";
export { CONSOLE_CSP, SECURITY_HEADERS } from "./http-security.ts";
export { CONSOLE_PAGES, CONSOLE_BASE, type ConsolePage } from "./pages.ts";
export { html, escapeHtml, SafeHtml } from "./html.ts";
