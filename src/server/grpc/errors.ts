import { Metadata, status, type StatusObject } from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { BadRequestSchema, BadRequest_FieldViolationSchema, ErrorInfoSchema } from "../../../gen/google/rpc/error_details_pb.ts";
import { StatusSchema, type Status } from "../../../gen/google/rpc/status_pb.ts";

/** One invalid field of a request. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

/** A machine-readable reason with details (google.rpc.ErrorInfo). */
export interface ErrorInfo {
  readonly reason: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * An error with a gRPC status for the client. Field violations and error info
 * travel as standard google.rpc details in the `grpc-status-details-bin`
 * trailer, so every gRPC toolkit can decode them.
 */
export class RpcError extends Error {
  override readonly name = "RpcError" as const;
  constructor(
    readonly code: status,
    message: string,
    readonly fieldViolations: readonly FieldViolation[] = [],
    readonly errorInfo?: ErrorInfo,
  ) {
    super(message);
  }
}

export function isRpcError(e: unknown): e is RpcError {
  return e instanceof Error && e.name === "RpcError";
}

/** INVALID_ARGUMENT naming the field: `agent: must not be empty`. */
export function invalidArgument(field: string, description: string): RpcError {
  return new RpcError(status.INVALID_ARGUMENT, `${field}: ${description}`, [{ field, description }]);
}

export function notFound(what: string): RpcError {
  return new RpcError(status.NOT_FOUND, `${what} not found`);
}

export function failedPrecondition(message: string): RpcError {
  return new RpcError(status.FAILED_PRECONDITION, message);
}

export function unavailable(message: string): RpcError {
  return new RpcError(status.UNAVAILABLE, message);
}

export function resourceExhausted(message: string, info?: ErrorInfo): RpcError {
  return new RpcError(status.RESOURCE_EXHAUSTED, message, [], info);
}

export function outOfRange(message: string, info?: ErrorInfo): RpcError {
  return new RpcError(status.OUT_OF_RANGE, message, [], info);
}

export function permissionDenied(message: string): RpcError {
  return new RpcError(status.PERMISSION_DENIED, message);
}

export function unauthenticated(message: string): RpcError {
  return new RpcError(status.UNAUTHENTICATED, message);
}

/** The google.rpc.Status message for an RpcError (also used for batch item errors). */
export function statusMessage(error: RpcError): Status {
  const details = [];
  if (error.fieldViolations.length > 0) {
    details.push(
      anyPack(
        BadRequestSchema,
        create(BadRequestSchema, {
          fieldViolations: error.fieldViolations.map((v) => create(BadRequest_FieldViolationSchema, v)),
        }),
      ),
    );
  }
  if (error.errorInfo !== undefined) {
    details.push(
      anyPack(
        ErrorInfoSchema,
        create(ErrorInfoSchema, { reason: error.errorInfo.reason, domain: "agent-auth", metadata: { ...error.errorInfo.metadata } }),
      ),
    );
  }
  return create(StatusSchema, { code: error.code, message: error.message, details });
}

/**
 * The single place where anything thrown by a handler becomes a gRPC status.
 * An RpcError keeps its code, message and details; anything else is INTERNAL
 * with a generic message, and its cause goes to `log`, never to the client.
 */
export function toStatusObject(error: unknown, log: (error: unknown) => void): Partial<StatusObject> {
  if (!isRpcError(error)) {
    log(error);
    return { code: status.INTERNAL, details: "internal error (see the server log)" };
  }
  const metadata = new Metadata();
  if (error.fieldViolations.length > 0 || error.errorInfo !== undefined) {
    metadata.set("grpc-status-details-bin", Buffer.from(toBinary(StatusSchema, statusMessage(error))));
  }
  return { code: error.code, details: error.message, metadata };
}
