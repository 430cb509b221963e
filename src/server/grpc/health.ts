import { HealthImplementation, type ServingStatus } from "grpc-health-check";
import type { Server } from "@grpc/grpc-js";

/**
 * The standard `grpc.health.v1.Health` service: an overall status ("") and
 * one per service name, changed as the server's readiness changes (for
 * example NOT_SERVING while the state store is unreachable).
 */
export class HealthService {
  readonly #impl: HealthImplementation;
  readonly #names: readonly string[];
  #current: ServingStatus = "SERVING";

  constructor(serviceNames: readonly string[]) {
    this.#names = serviceNames;
    this.#impl = new HealthImplementation(Object.fromEntries(["", ...serviceNames].map((n) => [n, "SERVING"])));
  }

  get status(): ServingStatus {
    return this.#current;
  }

  /** Sets the overall status and that of every service. */
  set(status: ServingStatus): void {
    if (status === this.#current) return;
    this.#current = status;
    for (const name of ["", ...this.#names]) this.#impl.setStatus(name, status);
  }

  /**
   * Sets a status of its own for a name outside the service list (e.g.
   * `agentauth.policy`), which the overall status does not follow.
   */
  setExtra(name: string, status: ServingStatus): void {
    this.#impl.setStatus(name, status);
  }

  addTo(server: Server): void {
    this.#impl.addToServer(server);
  }
}
