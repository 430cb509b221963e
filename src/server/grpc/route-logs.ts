import { logVerbosity, setLogger, setLogVerbosity } from "@grpc/grpc-js";
import type { Logger } from "../logger.ts";

/**
 * Sends grpc-js's own messages (it writes them to stderr as plain text, e.g.
 * "E No address added…") through the server's logger instead, so that a JSON
 * log stays one object per line. Process-wide: grpc-js has one logger.
 */
export function routeGrpcLogs(logger: Logger): void {
  setLogVerbosity(logVerbosity.ERROR);
  const line = (args: unknown[]): string => args.map(String).join(" ").trim();
  setLogger({
    error: (...args: unknown[]) => {
      const message = line(args);
      // A failed bind: the server reports it itself, with the address and a hint.
      if (!/No address added out of total/.test(message)) logger.warn("grpc-js", { message });
    },
    warn: (...args: unknown[]) => logger.warn("grpc-js", { message: line(args) }),
    info: (...args: unknown[]) => logger.info("grpc-js", { message: line(args) }),
    debug: () => {},
  } as unknown as Console);
}
