import type { AuditEvent } from "./event.ts";
import type { AuditSink, SinkCloseOptions } from "./sink.ts";

/** One sink that writes to several; waits when any of them asks to, defers a record when all of them can. */
export function teeSinks(sinks: readonly AuditSink[]): AuditSink {
  if (sinks.length === 1) return sinks[0]!;
  return {
    write(event: AuditEvent): void | Promise<void> {
      let waits: Promise<void>[] | undefined;
      for (const sink of sinks) {
        const pending = sink.write(event);
        if (pending !== undefined) (waits ??= []).push(pending);
      }
      if (waits === undefined) return undefined;
      return Promise.all(waits).then(() => undefined);
    },
    canDefer(event: AuditEvent): boolean {
      return sinks.every((s) => s.canDefer?.(event) === true);
    },
    async flush(): Promise<void> {
      await Promise.all(sinks.map((s) => s.flush()));
    },
    async close(options?: SinkCloseOptions): Promise<void> {
      await Promise.all(sinks.map((s) => s.close(options)));
    },
  };
}
