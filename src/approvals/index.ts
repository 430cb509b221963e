export * from "./types.ts";
export { approverRefusal, type ApprovalParties } from "./approvers.ts";
export { bindingDigest, canonicalJson, metadataDigest } from "./binding.ts";
export { taskOf } from "./task.ts";
