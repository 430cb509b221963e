import { expect } from "chai";
import fc from "fast-check";
import { create, toBinary, fromBinary, ScalarType } from "@bufbuild/protobuf";
import { AuthorizeResponseSchema } from "../../../gen/agentauth/v1/authorization_pb.ts";
import { DecisionSchema } from "../../../gen/agentauth/v1/decision_pb.ts";
import { encodeAuthorizeResponse } from "../../../src/server/handlers/encode-decision.ts";
import { fuzzRuns } from "../../support/fuzz.ts";

describe("encodeAuthorizeResponse", () => {
  it("writes exactly the bytes protobuf-es writes", () => {
    fc.assert(
      fc.property(
        fc.record({
          effect: fc.integer({ min: 0, max: 2 }),
          tier: fc.integer({ min: 0, max: 3 }),
          requiresApproval: fc.boolean(),
          approvalPolicy: fc.string(),
          reason: fc.oneof(fc.string(), fc.string({ unit: "grapheme", maxLength: 300 })),
          decisionId: fc.uuid(),
          policyRevision: fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), maxLength: 16 }),
          seconds: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1_000_000 })),
          nanos: fc.integer({ min: 0, max: 999_999_999 }),
          withTime: fc.boolean(),
        }),
        (r) => {
          const decision = create(DecisionSchema, {
            effect: r.effect,
            tier: r.tier,
            requiresApproval: r.requiresApproval,
            approvalPolicy: r.approvalPolicy,
            reason: r.reason,
            decisionId: r.decisionId,
            policyRevision: r.policyRevision,
            ...(r.withTime ? { evaluationTime: { seconds: BigInt(r.seconds), nanos: r.nanos } } : {}),
          });
          const message = create(AuthorizeResponseSchema, { decision });
          const ours = encodeAuthorizeResponse(message);
          expect(Buffer.from(ours).toString("hex")).to.equal(Buffer.from(toBinary(AuthorizeResponseSchema, message)).toString("hex"));
          expect(fromBinary(AuthorizeResponseSchema, ours).decision?.reason).to.equal(r.reason);
        },
      ),
      { numRuns: fuzzRuns(500), seed: 5 },
    );
  });

  it("writes every field Decision has in the proto (fails when a new field is not encoded)", () => {
    // Each field set to a non-default value of its kind, driven by the schema itself.
    const init: Record<string, unknown> = {};
    for (const field of DecisionSchema.fields) {
      if (field.fieldKind === "enum") init[field.localName] = field.enum.values.at(-1)!.number;
      else if (field.fieldKind === "message") init[field.localName] = { seconds: 3n, nanos: 5 };
      else if (field.fieldKind === "scalar") {
        const sample: Record<number, unknown> = { [ScalarType.STRING]: `${field.name}-value`, [ScalarType.BOOL]: true, [ScalarType.INT32]: 7, [ScalarType.INT64]: 7n, [ScalarType.UINT32]: 7, [ScalarType.UINT64]: 7n };
        expect(sample, `Decision.${field.name}: a sample for scalar type ${field.scalar}`).to.have.property(String(field.scalar));
        init[field.localName] = sample[field.scalar];
      } else {
        expect.fail(`Decision.${field.name}: the test has no sample for a ${field.fieldKind} field`);
      }
    }
    const message = create(AuthorizeResponseSchema, { decision: create(DecisionSchema, init) });
    expect(Buffer.from(encodeAuthorizeResponse(message)).toString("hex")).to.equal(Buffer.from(toBinary(AuthorizeResponseSchema, message)).toString("hex"));
  });

  it("encodes an empty response as nothing", () => {
    expect(encodeAuthorizeResponse(create(AuthorizeResponseSchema, {})).length).to.equal(0);
  });
});
