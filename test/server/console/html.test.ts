import { expect } from "chai";
import { escapeHtml, html, joinHtml, SafeHtml } from "../../../src/server/http/console/html.ts";

const HOSTILE = `<img src=x onerror="alert(1)">'&\``;

describe("console: html templates", () => {
  it("escapes every character that could open markup or leave a quoted attribute", () => {
    expect(escapeHtml(HOSTILE)).to.equal("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;&#96;");
    expect(escapeHtml("plain text")).to.equal("plain text");
  });

  it("escapes interpolated text, in content and in attributes, and keeps nested templates as markup", () => {
    const inner = html`<b>${HOSTILE}</b>`;
    const out = html`<p title="${HOSTILE}">${HOSTILE}${inner}</p>`.toString();
    expect(out).to.equal(
      '<p title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;&#96;">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;&#96;<b>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;&#96;</b></p>',
    );
    expect(out).not.to.include("<img");
  });

  it("renders arrays item by item, leaves out undefined, null and false, and prints numbers", () => {
    expect(html`${["<a>", html`<br>`, 3]}|${undefined}${null}${false}|${0}`.toString()).to.equal("&lt;a&gt;<br>3||0");
  });

  it("does not take an object that merely looks like markup as markup", () => {
    const fake = { toString: () => "<script>x</script>" };
    expect(html`${fake}`.toString()).to.equal("&lt;script&gt;x&lt;/script&gt;");
    expect(html`${"<i>"}`).to.be.instanceOf(SafeHtml);
    expect(() => new SafeHtml(Symbol("SafeHtml") as never, "<script>x</script>")).to.throw(TypeError, "SafeHtml is made by the html");
  });

  it("joins fragments with an escaped separator", () => {
    expect(joinHtml([html`<i>a</i>`, "<b>"], " & ").toString()).to.equal("<i>a</i> &amp; &lt;b&gt;");
  });
});
