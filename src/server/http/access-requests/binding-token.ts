/**
 * The binding token of a requestable denial: a compact JWS (EdDSA, Ed25519)
 * the PDP signs over the exact request it denied pending approval — agent,
 * user, action, resource, scope, session, target agent, metadata digest —
 * and the tier, approval policy and policy revision that demanded the
 * approval, with a short life (`exp` = the denial's `expires_at`). The
 * access-request endpoint accepts a submission only with a token it
 * verifies and whose request is the submitted one.
 */
import { randomUUID } from "node:crypto";
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from "jose";
import { metadataDigest } from "../../../approvals/index.ts";
import { normalizeRequest, type RequestLimits } from "../../../model/request.ts";
import type { AuthDecision, AuthRequest } from "../../../model/types.ts";
import { SIGNING_ALGORITHM, type SigningKey } from "../signing-key.ts";
import { AccessRequestProblem } from "./problems.ts";

/** What a binding token binds. */
export interface BindingClaims {
  /** The denied evaluation's decision id (the profile's `evaluation_id`). */
  readonly evaluation_id: string;
  readonly agent: string;
  readonly user: string;
  readonly action: string;
  readonly resource: string;
  readonly scope: string;
  readonly session_id: string;
  readonly target_agent: string;
  /** SHA-256 (hex) of the request metadata's canonical JSON, as the approval task binds it. */
  readonly metadata_digest: string;
  readonly tier: string;
  readonly approval_policy: string;
  readonly policy_revision: string;
}

const BOUND_REQUEST_FIELDS = ["agent", "user", "action", "resource", "scope", "session_id", "target_agent", "metadata_digest"] as const;

/** Issuer and audience of the tokens, and the key and clock they are signed and checked with. */
export interface BindingTokenOptions {
  readonly key: SigningKey;
  /** `iss`: the PDP (its configured `policy_decision_point`, else `urn:agent-auth:pdp`). */
  readonly issuer: string;
  /** `aud`: the access-request service (the same server). */
  readonly audience: string;
  readonly limits: RequestLimits;
  /** ms since the epoch: the engine's clock, so expiry follows it. */
  readonly now: () => number;
}

/** The request fields a token binds, from a request as the engine normalizes it. */
export function boundRequest(request: AuthRequest, limits: RequestLimits): Pick<BindingClaims, (typeof BOUND_REQUEST_FIELDS)[number]> {
  const req = normalizeRequest(request, limits);
  return {
    agent: req.agent,
    user: req.user,
    action: req.action,
    resource: req.resource,
    scope: req.scope,
    session_id: req.sessionId,
    target_agent: req.targetAgent,
    metadata_digest: metadataDigest(req.metadata),
  };
}

/** Signs and checks binding tokens. */
export class BindingTokens {
  readonly #o: BindingTokenOptions;

  constructor(options: BindingTokenOptions) {
    this.#o = options;
  }

  /** A token for `decision` of `request`, valid until `expiresAtMs`. */
  issue(decision: AuthDecision, request: AuthRequest, expiresAtMs: number): Promise<string> {
    const o = this.#o;
    const claims: BindingClaims = {
      evaluation_id: decision.decisionId,
      ...boundRequest(request, o.limits),
      tier: decision.tier,
      approval_policy: decision.approvalPolicy,
      policy_revision: decision.policyRevision,
    };
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: o.key.kid, typ: "JWT" })
      .setIssuer(o.issuer)
      .setAudience(o.audience)
      .setIssuedAt(Math.floor(o.now() / 1000))
      .setExpirationTime(Math.floor(expiresAtMs / 1000))
      .setJti(randomUUID())
      .sign(o.key.privateKey);
  }

  /**
   * The claims of a token this server signed, checked now. Throws the
   * profile's `expired_denial` past its `exp`, `invalid_denial_binding` for
   * anything else wrong with it (signature, issuer, audience, claims).
   */
  async verify(token: string): Promise<BindingClaims & JWTPayload> {
    const o = this.#o;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, o.key.publicKey, {
        algorithms: [SIGNING_ALGORITHM],
        issuer: o.issuer,
        audience: o.audience,
        currentDate: new Date(o.now()),
        requiredClaims: ["exp", "iat", "jti"],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new AccessRequestProblem("expired_denial", `denial.binding_token: expired at ${isoSeconds(Number(error.payload.exp))}; evaluate the request again for a fresh access_request`);
      throw new AccessRequestProblem("invalid_denial_binding", `denial.binding_token: is not a binding token this PDP issued (${(error as Error).message})`);
    }
    for (const name of ["evaluation_id", ...BOUND_REQUEST_FIELDS, "tier", "approval_policy", "policy_revision"]) {
      if (typeof payload[name] !== "string") throw new AccessRequestProblem("invalid_denial_binding", `denial.binding_token: claim ${name} is missing`);
    }
    return payload as BindingClaims & JWTPayload;
  }
}

/**
 * The first bound field in which a submitted request differs from the
 * token's (undefined: the same request). Names the field, never its values.
 */
export function bindingMismatch(claims: BindingClaims, request: AuthRequest, limits: RequestLimits): string | undefined {
  const submitted = boundRequest(request, limits);
  return BOUND_REQUEST_FIELDS.find((f) => submitted[f] !== claims[f]);
}

/** Seconds since the epoch as an RFC 3339 UTC time. */
export function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
