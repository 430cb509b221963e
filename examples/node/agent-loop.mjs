// A tool-calling agent loop whose tools ask agent-auth before they run.
//
//   node examples/node/agent-loop.mjs                       # decides in this process
//   AGENT_AUTH_SERVER=127.0.0.1:50051 node examples/node/agent-loop.mjs   # asks a server
//
// The "model" here is a fixed plan of tool calls, so the example runs without
// an LLM; in a real loop the calls come from the model's tool-use output. A call
// that needs approval gets an approval task; once a human approves it, the same
// call runs.
import { fileURLToPath } from "node:url";
import { AuthEngine, loadConfig } from "agent-auth";
import { createAgentAuthClient } from "agent-auth/client";
import { guard, isApprovalRequiredError, isAuthorizationDeniedError } from "agent-auth/guard";

const server = process.env.AGENT_AUTH_SERVER;
const decider = server
  ? createAgentAuthClient({ address: server, token: process.env.AGENT_AUTH_TOKEN })
  : new AuthEngine(loadConfig(fileURLToPath(new URL("policy.yaml", import.meta.url))));

// The tools, as plain functions. Each guard says how a call is decided.
const user = (args) => args.user;
const tools = {
  lookup_order: guard(decider, { agent: "support-bot", user, action: "lookup_order", resource: (a) => `order:${a.order}` }, async (a) => ({ order: a.order, status: "shipped" })),
  refund: guard(decider, { agent: "support-bot", user, action: "refund", resource: (a) => `order:${a.order}`, metadata: (a) => ({ amount: a.amount }) }, async (a) => ({ refunded: a.amount })),
  send_email: guard(decider, { agent: "support-bot", user, action: "send_email", resource: (a) => `mailto:${a.to}` }, async (a) => ({ sent: a.to })),
  delete_customer: guard(decider, { agent: "support-bot", user, action: "delete_customer", resource: (a) => `customer:${a.id}` }, async (a) => ({ deleted: a.id })),
};

const plan = [
  ["lookup_order", { user: "carol", order: "A-1001" }],
  ["refund", { user: "carol", order: "A-1001", amount: 40 }],
  ["refund", { user: "carol", order: "A-1001", amount: 900 }],
  ["send_email", { user: "carol", to: "customer@example.com" }],
  ["delete_customer", { user: "carol", id: "c-17" }],
];

const waiting = []; // calls held for a human's approval
async function step(name, args) {
  try {
    const result = await tools[name](args);
    console.log(`ran      ${name} ${JSON.stringify(args)} -> ${JSON.stringify(result)}`);
  } catch (error) {
    // What the loop hands back to the model instead of a result.
    if (isAuthorizationDeniedError(error)) console.log(`denied   ${name}: ${error.decision.reason} (decision ${error.decision.decisionId})`);
    else if (isApprovalRequiredError(error)) {
      // The guard requested an approval task: an approver answers it (agent-auth approvals approve ID, the console).
      console.log(`approval ${name}: needs ${error.decision.tier} approval (${error.decision.approvalPolicy}), task ${error.approval.id} ${error.approval.status}`);
      waiting.push({ name, args, task: error.approval.id });
    } else throw error;
  }
}

for (const [name, args] of plan) await step(name, args);

// Here a human approves the large refund (in a real deployment: the console or
// `agent-auth --server H:P approvals approve ID`); the same call then goes through, once.
const held = waiting.find((w) => w.name === "refund");
const approve = { id: held.task, approve: true, approver: "sec-lead", comment: "customer verified" };
const task = server ? await decider.approvals.decide(approve) : await decider.decideApproval(approve);
console.log(`approved refund: task ${task.id} by ${task.decidedBy}`);
await step(held.name, held.args);

if (server) decider.close();
else await decider.close();
