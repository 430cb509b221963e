/**
 * The servers the gRPC benchmarks measure, each run as its own process:
 *   agent-auth POLICY [--redis URL --prefix P]   the real service
 *   noop   a grpc-js server that speaks the same contract the same way (decodes
 *          each AuthorizeRequest, answers a fixed decision) and decides nothing
 *   raw    a grpc-js server answering fixed bytes without decoding anything:
 *          the transport's floor, for reference
 *   http-noop  the AuthZEN HTTP listener (same Fastify stack, same hooks, same
 *          request schema and response serializer) whose evaluation route
 *          answers a fixed decision
 * `agent-auth POLICY --http` also serves AuthZEN over HTTP and prints
 * `READY <grpc port> HTTP <http port>`. Others print `READY <port>`.
 */
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { AuthorizationService, AuthorizeResponseSchema } from "../gen/agentauth/v1/authorization_pb.ts";
import { DecisionSchema, Effect, Tier } from "../gen/agentauth/v1/decision_pb.ts";
import { createServiceDefinition } from "../src/server/grpc/adapter.ts";
import { encodeAuthorizeResponse } from "../src/server/handlers/encode-decision.ts";
import { loadConfig } from "../src/config/index.ts";
import { startAgentAuthServer } from "../src/server/app/start-server.ts";
import { silentLogger } from "../src/server/logger.ts";
import { startHttpListener } from "../src/server/http/listener.ts";
import { EVALUATION_PATH } from "../src/server/http/authzen/evaluation-route.ts";
import { DECISION_RESPONSE, EVALUATION_REQUEST } from "../src/server/http/authzen/schemas.ts";
import { ServerMetrics } from "../src/server/metrics.ts";

const [kind, ...rest] = process.argv.slice(2);

if (kind === "noop") {
  const decision = create(DecisionSchema, { effect: Effect.ALLOW, tier: Tier.AUTONOMOUS, reason: "Allowed by profile 'copilot'", decisionId: "00000000-0000-0000-0000-000000000000", policyRevision: "0000000000000000", evaluationTime: { nanos: 1000 } });
  const { definition, handlers } = createServiceDefinition(
    AuthorizationService,
    { authorize: async (request) => (request.agent === "" ? {} : { decision }), authorizeBatch: async () => ({}) },
    {},
    new Map([[AuthorizeResponseSchema.typeName, encodeAuthorizeResponse]]),
  );
  const server = new Server();
  server.addService(definition, handlers);
  server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    process.stdout.write(`READY ${port}\n`);
  });
  process.on("SIGTERM", () => server.forceShutdown());
} else if (kind === "raw") {
  const response = Buffer.from(
    toBinary(
      AuthorizeResponseSchema,
      create(AuthorizeResponseSchema, {
        decision: { effect: Effect.ALLOW, tier: Tier.AUTONOMOUS, reason: "Allowed by profile 'copilot'", decisionId: "00000000-0000-0000-0000-000000000000", policyRevision: "0000000000000000" },
      }),
    ),
  );
  const server = new Server();
  server.addService(
    {
      authorize: {
        path: "/agentauth.v1.AuthorizationService/Authorize",
        requestStream: false,
        responseStream: false,
        requestDeserialize: (b: Buffer) => b,
        requestSerialize: (b: Buffer) => b,
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    { authorize: (_call: unknown, callback: (e: null, r: Buffer) => void) => callback(null, response) },
  );
  server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    process.stdout.write(`READY ${port}\n`);
  });
  process.on("SIGTERM", () => server.forceShutdown());
} else if (kind === "http-noop") {
  const fixed = {
    decision: true,
    context: { decision_id: "00000000-0000-0000-0000-000000000000", reason: "Allowed by profile 'copilot'", tier: "autonomous", requires_approval: false, policy_revision: "0000000000000000" },
  };
  // The same listener and hooks as agent-auth's (request ids, metrics, errors), the same schemas; no decision.
  const metrics = new ServerMetrics();
  const listener = await startHttpListener({
    port: 0,
    maxBodyBytes: 4 * 1024 * 1024,
    maxRequestIdLength: 4096,
    logger: silentLogger,
    onResponse: (route, status, seconds) => metrics.observeHttp(route, status, seconds),
    groups: [
      {
        name: "noop",
        register(scope) {
          scope.post(EVALUATION_PATH, { schema: { body: EVALUATION_REQUEST, response: { 200: DECISION_RESPONSE } } }, (_request, reply) => reply.send(fixed));
        },
      },
    ],
  });
  process.stdout.write(`READY ${listener.port}\n`);
  process.on("SIGTERM", () => void listener.close(1000).then(() => process.exit(0)));
} else if (kind === "agent-auth") {
  const [policy, ...flags] = rest;
  const redisAt = flags.indexOf("--redis");
  const prefixAt = flags.indexOf("--prefix");
  const server = await startAgentAuthServer({
    config: loadConfig(policy!, { env: {} }),
    port: 0,
    logger: silentLogger,
    ...(flags.includes("--http") ? { http: { port: 0 } } : {}),
    ...(redisAt >= 0 ? { redis: { connection: { url: flags[redisAt + 1]! }, prefix: prefixAt >= 0 ? flags[prefixAt + 1] : undefined } } : {}),
  });
  process.stdout.write(server.http === undefined ? `READY ${server.port}\n` : `READY ${server.port} HTTP ${server.http.port}\n`);
  process.on("SIGTERM", () => void server.close(2000).then(() => process.exit(0)));
} else {
  process.stderr.write("usage: servers.ts noop | raw | http-noop | agent-auth POLICY [--http] [--redis URL --prefix P]\n");
  process.exit(2);
}
