import { createRequire } from "node:module";
import { credentials, loadPackageDefinition } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

const require = createRequire(import.meta.url);

/** A grpc.health.v1 client: `check(service)` resolves with the serving status name. */
export function healthClient(address: string): { check(service: string): Promise<string>; close(): void } {
  const pkg = loadPackageDefinition(loadSync(require.resolve("grpc-health-check/proto/health/v1/health.proto"), { keepCase: true, enums: String })) as any;
  const health = new pkg.grpc.health.v1.Health(address, credentials.createInsecure());
  return {
    check: (service) =>
      new Promise<string>((resolve, reject) => health.Check({ service }, (e: Error | null, r: { status: string }) => (e ? reject(e) : resolve(r.status)))),
    close: () => health.close(),
  };
}
