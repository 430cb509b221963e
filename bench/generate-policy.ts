/**
 * Generates large, realistic policies for benchmarks: N profiles over a role
 * hierarchy and M approval policies whose conditions require specific actions
 * (plus a few that cannot be indexed), so the approval index is exercised.
 */
export function generatePolicy(profiles: number, approvalPolicies: number): string {
  const lines: string[] = [
    'version: "1.0"',
    `metadata: {name: generated-${profiles}-${approvalPolicies}}`,
    "variables: {limit: 1000, env: production}",
    "roles:",
    "  viewer: {actions: [read, list, \"report:*\"]}",
    "  editor: {actions: [write, update], extends: viewer}",
    "  operator: {actions: [deploy, restart, \"ops:*\"], extends: editor}",
    "profiles:",
  ];
  const roles = ["viewer", "editor", "operator"];
  for (let i = 0; i < profiles; i++) {
    lines.push(
      `  agent-${i}: {role: ${roles[i % 3]}, allow: ["tool-${i % 50}:*", "act-${i % 200}"], deny: [delete, "admin:*"], scopes: ["project:*", "team-${i % 20}:*"], default_tier: ${i % 7 === 0 ? "soft" : "autonomous"}}`,
    );
  }
  lines.push("approval_policies:");
  for (let i = 0; i < approvalPolicies; i++) {
    const tier = i % 3 === 0 ? "strong" : "soft";
    // Every 25th policy cannot be indexed by action: it is evaluated for every request.
    const condition =
      i % 25 === 24
        ? `resource starts_with '/restricted-${i}' and amount > $limit`
        : `action == 'act-${i % 400}' and resource starts_with '/prod/${i}'`;
    lines.push(`  - {name: policy-${i}, condition: "${condition}", tier: ${tier}}`);
  }
  lines.push("audit: {enabled: false}");
  return lines.join("\n") + "\n";
}
