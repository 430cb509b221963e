/** The sign-in form: a caller token, sent once by POST and never kept by the page. */
import { html, type SafeHtml } from "./html.ts";
import { CONSOLE_BASE } from "./pages.ts";

/** The form; `error` explains a refused attempt. */
export function signInBody(csrf: string, error?: string): SafeHtml {
  return html`<section class="card sign-in">
<h1>Sign in</h1>
<p>Sign in with a caller token from the server config. The console keeps it only for this check; your browser gets a session cookie.</p>
${error === undefined ? "" : html`<p class="bad" role="alert" id="sign-in-error">${error}</p>`}
<form method="post" action="${CONSOLE_BASE}/sign-in">
<input type="hidden" name="csrf" value="${csrf}">
<label>Caller token <input type="password" name="token" id="token" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
</section>`;
}
