import { AuthEngine, type ApprovalTask } from "../../src/index.ts";
import { parseConfig } from "../../src/config/index.ts";
import { createAgentAuthClient, type Decider, type DeciderRequest } from "../../src/client/index.ts";
import type { AgentAuthServer } from "../../src/server/app/start-server.ts";
import { startTestServer } from "./server.ts";

/** The policy the integration tests decide with. */
export const INTEGRATIONS_POLICY = `
version: "1.0"
metadata: {name: integrations-test}
profiles:
  api-bot:
    allow: ["get:/orders*", "post:/orders", "get:/orders/:id", "get:/by-route/:id", "refund", "read", "pay", "summarize"]
    deny: ["delete:*"]
  notes:
    allow: ["read-only:*"]
approval_policies:
  - {name: big-payment, condition: 'action == "pay" and amount > 1000', tier: strong}
  - {name: new-order, condition: 'action == "post:/orders"', tier: soft}
audit: {enabled: false}
`;

/** The real engine, with every request it is asked recorded for the test to read. */
export interface ObservedDecider extends Decider {
  readonly seen: DeciderRequest[];
}

/** The decider, its authorize calls recorded; its approval methods pass through. */
function observed(inner: Decider): ObservedDecider {
  const seen: DeciderRequest[] = [];
  return {
    seen,
    authorize: (r) => (seen.push(r), inner.authorize(r)),
    ...(inner.requestApproval === undefined ? {} : { requestApproval: inner.requestApproval.bind(inner) }),
    ...(inner.getApproval === undefined ? {} : { getApproval: inner.getApproval.bind(inner) }),
    ...(inner.waitForApproval === undefined ? {} : { waitForApproval: inner.waitForApproval.bind(inner) }),
  };
}

/** What a test answers an approval task with, as an approver does (through the engine, or ApprovalService over gRPC). */
export type Answer = (id: string, approve: boolean, approver?: string, comment?: string) => Promise<ApprovalTask>;

/** A started decider: the decider itself, how an approver answers its tasks, and how to stop it. */
export interface StartedDecider {
  readonly decider: ObservedDecider;
  readonly answer: Answer;
  stop(): Promise<void>;
}

/** The two deciders every integration must work with: the embedded engine and the client of a real server. */
export const DECIDERS: readonly { readonly name: string; start(policy?: string): Promise<StartedDecider> }[] = [
  {
    name: "embedded engine",
    async start(policy = INTEGRATIONS_POLICY) {
      const engine = new AuthEngine(parseConfig(policy, { env: {} }), { audit: false });
      return {
        decider: observed(engine),
        answer: (id, approve, approver = "sec-lead", comment) => engine.decideApproval({ id, approve, approver, comment }),
        stop: () => engine.close(),
      };
    },
  },
  {
    name: "remote client",
    async start(policy = INTEGRATIONS_POLICY) {
      const { server, client: typed }: { server: AgentAuthServer; client: { close(): void } } = await startTestServer({}, policy);
      typed.close();
      const client = createAgentAuthClient(`127.0.0.1:${server.port}`);
      return {
        decider: observed(client),
        answer: (id, approve, approver = "sec-lead", comment) => client.approvals.decide({ id, approve, approver, comment }),
        async stop() {
          client.close();
          await server.close();
        },
      };
    },
  },
];

/** A client whose server is gone: every call fails UNAVAILABLE, quickly. */
export function unreachableDecider(): Decider & { close(): void } {
  return createAgentAuthClient({ address: "127.0.0.1:9", retry: false, deadlineMs: 2000 });
}
