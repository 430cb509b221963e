import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from "node:http2";

/** How a raw stream ended: its gRPC status (trailers) or its reset code. */
export interface StreamEnd {
  readonly grpcStatus: number | undefined;
  readonly grpcMessage: string | undefined;
  /** The HTTP/2 RST_STREAM code (0 when it closed normally). */
  readonly rstCode: number;
}

/**
 * An audit subscriber that never reads: a raw HTTP/2 client with a tiny
 * stream window, its response stream left paused, so the server can send it
 * only a few bytes before flow control stops the data. `ended` resolves when
 * the server ends the stream (status or reset).
 */
export function stuckSubscriber(port: number, request: Uint8Array = new Uint8Array(0)): { stream: ClientHttp2Stream; session: ClientHttp2Session; ended: Promise<StreamEnd>; responded: Promise<void> } {
  const session = connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 16 } });
  session.on("error", () => {});
  const stream = session.request({
    ":method": "POST",
    ":path": "/agentauth.v1.AuditService/Subscribe",
    "content-type": "application/grpc",
    te: "trailers",
  });
  const frame = Buffer.alloc(5 + request.length);
  frame.writeUInt32BE(request.length, 1);
  frame.set(request, 5);
  stream.end(frame);
  stream.pause();
  stream.on("error", () => {});
  let grpcStatus: number | undefined;
  let grpcMessage: string | undefined;
  const take = (headers: Record<string, unknown>): void => {
    if (headers["grpc-status"] !== undefined) grpcStatus = Number(headers["grpc-status"]);
    if (headers["grpc-message"] !== undefined) grpcMessage = decodeURIComponent(String(headers["grpc-message"]));
  };
  const responded = new Promise<void>((resolve) =>
    stream.once("response", (headers) => {
      take(headers);
      resolve();
    }),
  );
  stream.on("trailers", take);
  const ended = new Promise<StreamEnd>((resolve) => stream.once("close", () => resolve({ grpcStatus, grpcMessage, rstCode: stream.rstCode ?? constants.NGHTTP2_NO_ERROR })));
  return { stream, session, ended, responded };
}
