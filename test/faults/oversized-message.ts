/**
 * A gRPC call whose first message only claims a size: the 5-byte length
 * prefix of `claimedBytes` and a few bytes, then nothing. A server with a
 * receive limit answers RESOURCE_EXHAUSTED from the prefix alone; one
 * without waits for the rest (no answer), buffering whatever it is sent.
 */
import * as http2 from "node:http2";

export interface ClaimAnswer {
  /** The grpc-status the server answered, or undefined when it did not answer in time. */
  status: number | undefined;
  message: string;
}

export function claimOversizedMessage(
  url: string,
  method: string,
  claimedBytes: number,
  timeoutMs = 3000,
): Promise<ClaimAnswer> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://${url}`);
    session.on("error", () => undefined);
    let settled = false;
    const settle = (answer: ClaimAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.close(http2.constants.NGHTTP2_CANCEL);
      session.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => settle({ status: undefined, message: "no answer" }), timeoutMs);
    const stream = session.request({
      ":method": "POST",
      ":path": method,
      "content-type": "application/grpc",
      te: "trailers",
    });
    stream.on("error", () => undefined);
    const onHeaders = (headers: http2.IncomingHttpHeaders) => {
      const status = headers["grpc-status"];
      if (status !== undefined)
        settle({
          status: Number(status),
          message: decodeURIComponent(String(headers["grpc-message"] ?? "")),
        });
    };
    stream.on("response", onHeaders); // trailers-only answers carry the status here
    stream.on("trailers", onHeaders);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt8(0, 0);
    prefix.writeUInt32BE(claimedBytes, 1);
    stream.write(Buffer.concat([prefix, Buffer.alloc(1024)]));
  });
}
