/**
 * The console's only script (served as /console/static/console.js; no
 * inline script anywhere). On the Live decisions page it follows the audit
 * stream over Server-Sent Events — the browser resends the last event id
 * (an audit cursor) when it reconnects, so the server resumes without a gap;
 * pausing closes the stream and resuming opens it after the last cursor
 * seen — and filters the rows in place. Rows are built with DOM calls and
 * textContent only, never from markup. On the Health page it reloads the
 * page every few seconds. On the Approvals inbox it follows the approval
 * events the same way (resuming by cursor); for each changed task it fetches
 * the task's card as the server renders it (escaped there like every page)
 * and puts it in place, or takes it off the pending list; it counts the time
 * left down. It holds no token: the session cookie is HttpOnly.
 */
export const CONSOLE_JS = `"use strict";
(function () {
  var MAX_ROWS = 500;
  var feed = document.getElementById("feed");
  if (feed) follow(feed);
  var tasks = document.getElementById("tasks");
  if (tasks) inbox(tasks);
  countdown();
  var health = document.getElementById("health");
  if (health) {
    var seconds = Number(health.getAttribute("data-refresh")) || 15;
    setTimeout(function () { location.reload(); }, seconds * 1000);
  }

  function follow(feed) {
    var form = document.getElementById("filters");
    var status = document.getElementById("status");
    var pause = document.getElementById("pause");
    var empty = document.getElementById("empty");
    var base = feed.getAttribute("data-events");
    var last = feed.getAttribute("data-after") || "";
    var source = null;
    var paused = false;

    function say(text) { status.textContent = text; }
    function value(name) { var v = new FormData(form).get(name); return typeof v === "string" ? v.trim() : ""; }
    function filters() {
      return { agent: value("agent"), user: value("user"), effect: value("effect"), tier: value("tier"), text: value("q").toLowerCase() };
    }
    function part(li, cls) { var el = li.querySelector("." + cls); return el ? el.textContent : ""; }
    function matches(li, f) {
      if (f.agent !== "" && li.getAttribute("data-agent") !== f.agent) return false;
      if (f.user !== "" && li.getAttribute("data-user") !== f.user) return false;
      if (f.effect !== "" && li.getAttribute("data-effect") !== f.effect) return false;
      if (f.tier !== "" && li.getAttribute("data-tier") !== f.tier) return false;
      if (f.text === "") return true;
      var fields = [li.getAttribute("data-agent"), li.getAttribute("data-user"), part(li, "action"), part(li, "resource"), li.getAttribute("data-scope") || "", part(li, "reason")];
      for (var i = 0; i < fields.length; i++) if (fields[i].toLowerCase().indexOf(f.text) >= 0) return true;
      return false;
    }
    function apply() {
      var f = filters();
      var shown = 0;
      for (var li = feed.firstElementChild; li; li = li.nextElementSibling) {
        li.hidden = !matches(li, f);
        if (!li.hidden) shown++;
      }
      empty.hidden = shown > 0;
    }
    function el(tag, cls, text) {
      var e = document.createElement(tag);
      if (cls) e.className = cls;
      if (text !== undefined) e.textContent = text;
      return e;
    }
    function row(d) {
      var li = el("li", "decision " + d.effect);
      li.setAttribute("data-agent", d.agent);
      li.setAttribute("data-user", d.user);
      li.setAttribute("data-effect", d.effect);
      li.setAttribute("data-tier", d.tier);
      li.setAttribute("data-scope", d.scope);
      var line = el("div", "line");
      line.appendChild(el("span", "badge " + d.effect, d.effect));
      if (d.tier !== "") line.appendChild(el("span", "tier", d.tier));
      if (d.requiresApproval) line.appendChild(el("span", "approval", "needs approval" + (d.approvalPolicy ? " (" + d.approvalPolicy + ")" : "")));
      var iso = new Date(d.time).toISOString();
      var time = el("time", "", iso.slice(0, 19).replace("T", " ") + "Z");
      time.setAttribute("datetime", iso);
      line.appendChild(time);
      var link = el("a", "record", "record");
      link.href = base.replace(/events$/, "decisions/") + encodeURIComponent(d.cursor);
      line.appendChild(link);
      li.appendChild(line);
      var who = el("div", "who");
      who.appendChild(el("span", "agent", d.agent));
      who.appendChild(document.createTextNode(" for "));
      who.appendChild(el("span", "user", d.user));
      li.appendChild(who);
      var what = el("div", "what");
      what.appendChild(el("code", "action", d.action));
      if (d.resource !== "") {
        what.appendChild(document.createTextNode(" "));
        what.appendChild(el("span", "resource", d.resource));
      }
      li.appendChild(what);
      li.appendChild(el("div", "reason", d.reason));
      return li;
    }
    function connect() {
      source = new EventSource(base + (last === "" ? "" : "?after=" + encodeURIComponent(last)));
      source.onopen = function () { say("Live"); };
      source.onmessage = function (e) {
        var d = JSON.parse(e.data);
        if (e.lastEventId) last = e.lastEventId;
        var li = row(d);
        feed.insertBefore(li, feed.firstElementChild);
        li.hidden = !matches(li, filters());
        if (!li.hidden) empty.hidden = true;
        while (feed.children.length > MAX_ROWS) feed.removeChild(feed.lastElementChild);
      };
      source.addEventListener("notice", function (e) { say(e.data); });
      source.onerror = function () {
        if (source.readyState === EventSource.CLOSED) say("Disconnected. Reload the page (you may have to sign in again).");
        else say("Reconnecting…");
      };
    }

    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      apply();
      var query = new URLSearchParams(new FormData(form)).toString();
      history.replaceState(null, "", form.getAttribute("action") + (query ? "?" + query : ""));
    });
    pause.hidden = false;
    pause.addEventListener("click", function () {
      paused = !paused;
      pause.textContent = paused ? "Resume" : "Pause";
      if (paused) {
        source.close();
        say("Paused");
      } else {
        say("Resuming…");
        connect();
      }
    });
    say("Connecting…");
    apply();
    connect();
  }
  function countdown() {
    function tick() {
      var items = document.querySelectorAll(".left[data-expires]");
      for (var i = 0; i < items.length; i++) {
        var ms = Date.parse(items[i].getAttribute("data-expires")) - Date.now();
        var s = Math.ceil(ms / 1000);
        var text = !(ms > 0) ? "expired" : s < 120 ? s + " s left" : s < 7200 ? Math.floor(s / 60) + " min left" : items[i].textContent;
        if (items[i].textContent !== text) items[i].textContent = text;
        if (!(ms > 0)) {
          var buttons = items[i].closest(".task, .task-page").querySelectorAll(".decide button");
          for (var j = 0; j < buttons.length; j++) buttons[j].disabled = true;
        }
      }
    }
    if (document.querySelector(".left[data-expires]")) setInterval(tick, 1000);
  }

  function inbox(list) {
    var status = document.getElementById("status");
    var empty = document.getElementById("empty");
    var tab = list.getAttribute("data-tab");
    var base = list.getAttribute("data-events");
    var last = list.getAttribute("data-after") || "";
    function say(text) { status.textContent = text; }
    function current(id) {
      for (var li = list.firstElementChild; li; li = li.nextElementSibling) if (li.getAttribute("data-id") === id) return li;
      return null;
    }
    function belongs(status) { return tab === "pending" ? status === "pending" : status !== "pending"; }
    function drop(id) {
      var old = current(id);
      if (old) list.removeChild(old);
      empty.hidden = list.children.length > 0;
    }
    function place(id, status) {
      if (!belongs(status)) return drop(id);
      fetch(base.replace(/events$/, "") + encodeURIComponent(id) + "/card", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (text) {
          if (text === null) return;
          // The card is markup the server rendered with every field escaped; parsing it here runs nothing.
          var card = new DOMParser().parseFromString(text, "text/html").body.firstElementChild;
          if (!card) return;
          // The task may have changed again meanwhile: the card says how it stands now.
          if (!belongs(card.getAttribute("data-status"))) return drop(id);
          card = document.importNode(card, true);
          var now = current(id);
          if (now) list.replaceChild(card, now);
          else list.insertBefore(card, list.firstElementChild);
          empty.hidden = true;
        });
    }
    var source = new EventSource(base + (last === "" ? "" : "?after=" + encodeURIComponent(last)));
    source.onopen = function () { say("Live"); };
    source.onmessage = function (e) {
      var d = JSON.parse(e.data);
      if (d.id) place(d.id, d.status);
    };
    source.addEventListener("notice", function (e) { say(e.data); });
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) say("Disconnected. Reload the page (you may have to sign in again).");
      else say("Reconnecting…");
    };
    say("Connecting…");
  }
})();
`;
