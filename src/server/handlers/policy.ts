import { ConfigError, isConfigError, parseConfigWithWarnings, type AuthConfig, type ConfigIssue } from "../../config/index.ts";
import { policyRevision } from "../../policy/index.ts";
import type { PolicyService, PolicySummary } from "../../../gen/agentauth/v1/policy_pb.ts";
import type { ServiceImpl } from "../grpc/adapter.ts";
import { RpcError } from "../grpc/errors.ts";
import { status } from "@grpc/grpc-js";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { PolicySummarySchema } from "../../../gen/agentauth/v1/policy_pb.ts";
import type { ServiceContext } from "./context.ts";
import { engineError, tierToProto } from "./convert.ts";
import { invalidArgument } from "../grpc/errors.ts";
import { Effect } from "../../../gen/agentauth/v1/decision_pb.ts";
import type { JsonObject } from "@bufbuild/protobuf";

function summary(c: AuthConfig): MessageInitShape<typeof PolicySummarySchema> {
  return {
    roles: c.roles.size,
    profiles: c.profiles.size,
    approvalPolicies: c.approvalPolicies.length,
    delegationRules: c.delegation.rules.length,
    a2aPolicies: c.a2a.policies.length,
  } satisfies Partial<PolicySummary>;
}

function issueToProto(i: ConfigIssue): { path: string; message: string; line: number; column: number } {
  return { path: i.path, message: i.message, line: i.line ?? 0, column: i.column ?? 0 };
}

/** Every problem of an invalid document as INVALID_ARGUMENT with one field violation each. */
function invalidPolicy(error: ConfigError): RpcError {
  const lines = error.issues.map((i) => (i.line === undefined ? i.message : `${i.message} (line ${i.line})`));
  return new RpcError(
    status.INVALID_ARGUMENT,
    `yaml: the policy has ${lines.length} problem${lines.length === 1 ? "" : "s"}:\n  ${lines.join("\n  ")}`,
    error.issues.map((i, n) => ({ field: i.path === "" ? "yaml" : i.path, description: lines[n]! })),
  );
}

/** PolicyService: validate documents, describe the policy being served, reload it from its file. */
export function policyService(ctx: ServiceContext): ServiceImpl<typeof PolicyService> {
  return {
    async validatePolicy(request) {
      try {
        const { config, warnings } = parseConfigWithWarnings(request.yaml, { env: {}, ...(ctx.configLimits === undefined ? {} : { limits: ctx.configLimits }) });
        return { revision: policyRevision(config), summary: summary(config), warnings: warnings.map(issueToProto) };
      } catch (error) {
        if (isConfigError(error)) throw invalidPolicy(error);
        throw error;
      }
    },

    async describePolicy() {
      const engine = ctx.engine;
      const policy = engine.policy;
      const c = policy.config;
      return {
        revision: policy.revision,
        name: c.metadata.name,
        description: c.metadata.description,
        version: c.version,
        loadedAt: timestampFromMs(engine.loadedAt),
        summary: summary(c),
        roles: [...c.roles.values()].map((r) => ({
          name: r.name,
          extends: r.extends,
          actions: [...r.actions],
          effectiveActions: [...(policy.roles.get(r.name)?.actions ?? [])],
          description: r.description,
        })),
        profiles: [...c.profiles.values()].map((p) => ({
          name: p.name,
          role: p.role,
          allow: [...p.allow],
          deny: [...p.deny],
          scopes: [...p.scopes],
          defaultTier: tierToProto(p.defaultTier),
          maxSessionDurationSeconds: BigInt(p.maxSessionDuration),
          description: p.description,
        })),
        source: ctx.reloader?.path ?? "",
        reloadErrors: [...(ctx.reloader?.errors ?? [])],
        replicas: (await (ctx.replicas?.() ?? Promise.resolve([]))).map((r) => ({
          replica: r.id,
          address: r.address,
          revision: r.revision,
          reloadErrors: [...r.reloadErrors],
          seenAt: timestampFromMs(r.seen),
        })),
      };
    },

    async explain(request) {
      if (request.request === undefined) throw invalidArgument("request", "is required");
      let e;
      try {
        // Read like Authorize reads, never recorded: an explanation is not a decision.
        e = await ctx.engine.explain(request.request);
      } catch (error) {
        throw engineError(error, "request.");
      }
      const d = e.decision;
      return {
        decision: {
          effect: d.allowed ? Effect.ALLOW : Effect.DENY,
          tier: tierToProto(d.tier),
          requiresApproval: d.requires_approval,
          approvalPolicy: d.approval_policy,
          reason: d.reason,
          policyRevision: d.policy_revision,
        },
        steps: e.steps.map((s) => ({ step: s.step, outcome: s.outcome, summary: s.summary, details: s.details as JsonObject })),
        notes: [...e.notes],
      };
    },

    async reloadPolicy() {
      const reloader = ctx.reloader;
      if (reloader === undefined) throw new RpcError(status.FAILED_PRECONDITION, "this server was started without a policy file to reload");
      const result = reloader.reload("rpc");
      if (!result.ok) {
        const lines = result.issues.length > 0 ? result.issues.map((i) => (i.line === undefined ? i.message : `${i.message} (line ${i.line})`)) : [...result.errors];
        throw new RpcError(
          status.FAILED_PRECONDITION,
          `${reloader.path} has ${lines.length} problem${lines.length === 1 ? "" : "s"}; still serving revision ${result.revision}:\n  ${lines.join("\n  ")}`,
          lines.map((description, n) => ({ field: result.issues[n]?.path || "policy", description })),
        );
      }
      return { revision: result.revision, previousRevision: result.previousRevision, changed: result.changed, warnings: result.warnings.map(issueToProto) };
    },
  };
}
