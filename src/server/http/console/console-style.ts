/** The console's stylesheet (served as /console/static/console.css): phone first, a wider grid from 720 px. */
export const CONSOLE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --fg: #1b1f24; --muted: #5b6470; --card: #fff; --line: #d9dde3;
  --accent: #2557c7; --allow: #1e7b34; --allow-bg: #e3f4e7; --deny: #b3261e; --deny-bg: #fbe5e3;
  --warn-bg: #fff4d6; --warn: #7a5200;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111418; --fg: #e6e9ee; --muted: #9aa4b1; --card: #1a1f25; --line: #2d343d;
    --accent: #7aa2ff; --allow: #7fd48f; --allow-bg: #183222; --deny: #ff8a80; --deny-bg: #3a1b19;
    --warn-bg: #3a3014; --warn: #f1cf72;
  }
}
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body { background: var(--bg); color: var(--fg); font-size: 15px; line-height: 1.45; overflow-wrap: anywhere; }
a { color: var(--accent); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--bg); padding: 0.6rem; border-radius: 6px; }
h1 { font-size: 1.3rem; margin: 0.2rem 0 0.8rem; }
h2 { font-size: 1.05rem; margin: 0 0 0.6rem; }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem 1rem; padding: 0.5rem 0.8rem; background: var(--card); border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; text-decoration: none; color: var(--fg); }
.tabs { display: flex; flex-wrap: wrap; gap: 0.2rem; }
.tabs a { padding: 0.35rem 0.6rem; border-radius: 6px; text-decoration: none; }
.tabs a[aria-current="page"] { background: var(--accent); color: var(--card); }
.who { margin-left: auto; display: flex; align-items: center; gap: 0.5rem; font-size: 0.9rem; }
button { font: inherit; padding: 0.35rem 0.8rem; border-radius: 6px; border: 1px solid var(--line); background: var(--card); color: var(--fg); cursor: pointer; }
button[type="submit"]:not(.apply), #pause { background: var(--accent); color: var(--card); border-color: var(--accent); }
input, select { font: inherit; padding: 0.3rem 0.4rem; border-radius: 6px; border: 1px solid var(--line); background: var(--card); color: var(--fg); width: 100%; min-width: 0; }
label { display: flex; flex-direction: column; gap: 0.15rem; font-size: 0.85rem; color: var(--muted); }
main { padding: 0.8rem; max-width: 1200px; margin: 0 auto; }
.banner { margin: 0; padding: 0.5rem 0.8rem; background: var(--warn-bg); color: var(--warn); border-bottom: 1px solid var(--line); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 0.8rem; margin-bottom: 0.8rem; min-width: 0; }
.sign-in { max-width: 26rem; margin: 2rem auto; }
.sign-in form { display: flex; flex-direction: column; gap: 0.8rem; }
.muted, .none { color: var(--muted); }
.ok { color: var(--allow); font-weight: 600; }
.bad { color: var(--deny); font-weight: 600; }
.filters { display: grid; grid-template-columns: 1fr 1fr; gap: 0.5rem; align-items: end; }
.filters .wide { grid-column: 1 / -1; }
.controls { display: flex; align-items: center; gap: 0.8rem; margin: 0.6rem 0; flex-wrap: wrap; }
.status { color: var(--muted); font-size: 0.9rem; }
.feed { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 0.5rem; }
.decision { background: var(--card); border: 1px solid var(--line); border-left: 4px solid var(--line); border-radius: 8px; padding: 0.5rem 0.7rem; min-width: 0; }
.decision.allow { border-left-color: var(--allow); }
.decision.deny { border-left-color: var(--deny); }
.decision[hidden] { display: none; }
.decision .line { display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; font-size: 0.85rem; }
.decision time { color: var(--muted); }
.decision .record { margin-left: auto; }
.decision .who, .decision .what { margin-top: 0.15rem; }
.decision .agent, .decision .user { font-weight: 600; }
.decision .resource { color: var(--muted); }
.decision .reason { font-size: 0.9rem; color: var(--muted); }
.badge { display: inline-block; padding: 0 0.45rem; border-radius: 999px; font-size: 0.8rem; font-weight: 600; text-transform: uppercase; }
.badge.allow { background: var(--allow-bg); color: var(--allow); }
.badge.deny { background: var(--deny-bg); color: var(--deny); }
.tier, .approval { font-size: 0.8rem; padding: 0 0.4rem; border: 1px solid var(--line); border-radius: 999px; }
.approval { border-color: var(--warn); color: var(--warn); }
.fields { display: grid; grid-template-columns: minmax(7rem, max-content) 1fr; gap: 0.3rem 0.8rem; margin: 0; }
.fields dt { color: var(--muted); }
.fields dd { margin: 0; min-width: 0; }
.errors { margin: 0.3rem 0 0; padding-left: 1.2rem; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; overflow-wrap: normal; }
th, td { text-align: left; vertical-align: top; padding: 0.35rem 0.5rem; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; white-space: nowrap; }
td code { display: inline-block; margin: 0 0.2rem 0.15rem 0; }
.grid { display: grid; grid-template-columns: 1fr; gap: 0.8rem; }
.grid .card { margin: 0; }
.chart { width: 100%; height: auto; display: block; }
.chart .axis, .chart .grid-line { stroke: var(--line); stroke-width: 1; }
.chart .series { fill: none; stroke: var(--accent); stroke-width: 2; }
.chart .label { fill: var(--muted); font-size: 14px; }
.subtabs { display: flex; gap: 0.3rem; margin-bottom: 0.4rem; }
.subtabs a { padding: 0.25rem 0.6rem; border-radius: 6px; border: 1px solid var(--line); text-decoration: none; }
.subtabs a[aria-current="page"] { background: var(--accent); color: var(--card); border-color: var(--accent); }
.note { color: var(--muted); }
.task { background: var(--card); border: 1px solid var(--line); border-left: 4px solid var(--warn); border-radius: 8px; padding: 0.6rem 0.7rem; min-width: 0; }
.task.approved, .task.used { border-left-color: var(--allow); }
.task.denied, .task.expired, .task.cancelled { border-left-color: var(--deny); }
.task .line { display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; font-size: 0.85rem; margin-bottom: 0.4rem; }
.task .open { margin-left: auto; }
.task .fields { font-size: 0.92rem; }
.status-badge { display: inline-block; padding: 0 0.45rem; border-radius: 999px; font-size: 0.8rem; font-weight: 600; text-transform: uppercase; background: var(--warn-bg); color: var(--warn); }
.status-badge.approved, .status-badge.used { background: var(--allow-bg); color: var(--allow); }
.status-badge.denied, .status-badge.expired, .status-badge.cancelled { background: var(--deny-bg); color: var(--deny); }
.left { font-weight: 600; color: var(--warn); }
.decide { display: grid; grid-template-columns: 1fr; gap: 0.5rem; margin-top: 0.6rem; }
.decide .as { margin: 0; font-size: 0.9rem; }
.decide .buttons { display: flex; gap: 0.5rem; flex-wrap: wrap; }
.decide button.approve { background: var(--allow); border-color: var(--allow); color: var(--card); }
.decide button.deny { background: var(--deny); border-color: var(--deny); color: var(--card); }
.cannot { margin: 0.6rem 0 0; display: flex; gap: 0.5rem; align-items: baseline; flex-wrap: wrap; }
.cannot .reason { color: var(--muted); font-size: 0.9rem; }
button:disabled { opacity: 0.5; cursor: not-allowed; }
@media (min-width: 720px) {
  .decide { grid-template-columns: minmax(0, 1fr) minmax(0, 2fr) auto; align-items: end; }
  .decide .as { grid-column: 1 / -1; }
  body { font-size: 15px; }
  .filters { grid-template-columns: repeat(4, minmax(0, 1fr)) minmax(0, 2fr) auto; }
  .filters .wide { grid-column: auto; }
  .grid { grid-template-columns: repeat(3, minmax(0, 1fr)); }
  .grid .wide { grid-column: 1 / -1; }
  .decision .who, .decision .what { display: inline-block; margin-right: 0.8rem; }
}
`;

/** The console's icon (served as /console/static/icon.svg), so the browser asks nothing of anyone else. */
export const CONSOLE_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#2557c7"/><path d="M9 17l5 5 9-11" stroke="#fff" stroke-width="3" fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>`;
