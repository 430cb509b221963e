/** The frame every console page shares: head, tabs, who is signed in, the authentication-off banner. */
import { html, type SafeHtml } from "./html.ts";
import { CONSOLE_BASE, pagesFor, type Viewer } from "./pages.ts";

/** What {@link layout} renders around a page's body. */
export interface LayoutInput {
  readonly title: string;
  /** The tab to mark current; undefined on pages without one (sign-in, errors). */
  readonly pageId?: string | undefined;
  /** Undefined before sign-in. */
  readonly viewer: Viewer | undefined;
  readonly body: SafeHtml;
}

/** A whole HTML document: no inline script or style; assets from {@link CONSOLE_BASE}/static. */
export function layout(input: LayoutInput): string {
  const viewer = input.viewer;
  const tabs = viewer === undefined ? [] : pagesFor(viewer);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${input.title} · agent-auth console</title>
<link rel="stylesheet" href="${CONSOLE_BASE}/static/console.css">
<link rel="icon" href="${CONSOLE_BASE}/static/icon.svg" type="image/svg+xml">
<script src="${CONSOLE_BASE}/static/console.js" defer></script>
</head>
<body>
<header class="top">
<a class="brand" href="${CONSOLE_BASE}/">agent-auth</a>
${
  tabs.length === 0
    ? ""
    : html`<nav class="tabs" aria-label="Console pages">${tabs.map(
        (p) => html`<a href="${p.path}"${p.id === input.pageId ? html` aria-current="page"` : ""}>${p.title}</a>`,
      )}</nav>`
}
${
  viewer?.kind === "caller"
    ? html`<form class="who" method="post" action="${CONSOLE_BASE}/sign-out"><span>Signed in as <strong>${viewer.name}</strong></span><input type="hidden" name="csrf" value="${viewer.csrf}"><button type="submit">Sign out</button></form>`
    : ""
}
</header>
${
  viewer?.kind === "open"
    ? html`<p class="banner" role="alert">Authentication is off: no callers are configured, so anyone who can reach this port sees the console. Configure callers in the server config to require sign-in.</p>`
    : ""
}
<main>
${input.body}
</main>
</body>
</html>
`.toString();
}

/** A short page with a heading and a message (refusals, not found). */
export function messagePage(viewer: Viewer | undefined, title: string, message: string, link?: { href: string; text: string }): string {
  return layout({
    title,
    viewer,
    body: html`<section class="card"><h1>${title}</h1><p>${message}</p>${link === undefined ? "" : html`<p><a href="${link.href}">${link.text}</a></p>`}</section>`,
  });
}
