import { Effect, Tier } from "../../gen/agentauth/v1/decision_pb.ts";

/** A tier as the library and the audit log name it. */
export type TierName = "autonomous" | "soft" | "strong";

/**
 * The name of a wire tier. A deny carries `TIER_AUTONOMOUS` (agent-auth
 * 0.1.0 sent `TIER_UNSPECIFIED`, which reads as `autonomous` too), as the
 * library and the audit log report a deny's tier.
 */
export function tierName(tier: Tier): TierName {
  return tier === Tier.SOFT ? "soft" : tier === Tier.STRONG ? "strong" : "autonomous";
}

/** `allow`, `deny`, or `unspecified` for a decision without an effect. */
export function effectName(effect: Effect): "allow" | "deny" | "unspecified" {
  return effect === Effect.ALLOW ? "allow" : effect === Effect.DENY ? "deny" : "unspecified";
}
