/**
 * HTML templating for the console: a tagged template literal that escapes
 * every interpolated value unless it is already {@link SafeHtml} (made by
 * this tag). Agent, user, action, resource, reason and metadata text reaches
 * pages only through it, so it is shown as text and never parsed as markup.
 * Templates quote every attribute value, which this escaping makes safe too.
 */

/** Held only by this module: nothing else can make SafeHtml out of text. */
const MADE_HERE: unique symbol = Symbol("SafeHtml");

/** Markup that may be inserted as is: produced by {@link html} (and only by this module). */
export class SafeHtml {
  readonly #text: string;

  /** Refuses to be called outside this module; use {@link html}. */
  constructor(made: typeof MADE_HERE, text: string) {
    if (made !== MADE_HERE) throw new TypeError("SafeHtml is made by the html`…` template tag");
    this.#text = text;
  }

  /** The markup. */
  toString(): string {
    return this.#text;
  }
}

const ENTITIES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

/** Text as HTML text or a quoted attribute value: `& < > " ' \`` become character references. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ENTITIES[c]!);
}

/**
 * Renders a value into a template: SafeHtml as is; arrays item by item;
 * undefined, null and false as nothing; anything else as escaped text.
 */
function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.toString();
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === undefined || value === null || value === false) return "";
  return escapeHtml(String(value));
}

/** The tag: `html\`<td>${agent}</td>\`` escapes `agent`; nested `html` results are kept as markup. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(MADE_HERE, out);
}

/** Joins fragments with a separator (itself text, escaped). */
export function joinHtml(parts: readonly unknown[], separator: string): SafeHtml {
  return new SafeHtml(MADE_HERE, parts.map(render).join(escapeHtml(separator)));
}
