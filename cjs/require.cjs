// Loaded only by require() on a Node.js that cannot require ES modules (Node 20).
throw new Error(
  'agent-auth is an ES module package and cannot be loaded with require() on this Node.js. ' +
    'Use `import { AuthEngine } from "agent-auth"` (in an ES module), or `const { AuthEngine } = await import("agent-auth")` from CommonJS. ' +
    'See README.md, "Using agent-auth from CommonJS".',
);
