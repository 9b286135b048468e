/**
 * Parses possibly malformed InstructionRequest bytes in a worker thread with
 * a time limit: google-protobuf's readString trusts a length prefix without
 * checking it against the buffer, so some mutated bytes make
 * `deserializeBinary` loop for minutes. Such inputs are skipped (a runner
 * cannot produce them) and counted.
 */
import { Worker } from "node:worker_threads";
import { fnApi } from "../../proto/index.js";

const PROTO_URL = new URL("../../proto/index.js", import.meta.url).href;
const SOURCE = `
import { parentPort } from "node:worker_threads";
const { fnApi } = await import(${JSON.stringify(PROTO_URL)});
parentPort.on("message", (bytes) => {
  try { fnApi.InstructionRequest.deserializeBinary(bytes); parentPort.postMessage(true); }
  catch { parentPort.postMessage(false); }
});
`;

export type ParseOutcome = "ok" | "unparsable" | "hang";

export class GuardedParser {
  private worker: Worker | undefined;

  /** Whether `bytes` parse as an InstructionRequest within `limitMs`. */
  async check(bytes: Uint8Array, limitMs = 1000): Promise<ParseOutcome> {
    const worker = (this.worker ??= new Worker(SOURCE, { eval: true }));
    return new Promise<ParseOutcome>((resolve) => {
      const timer = setTimeout(() => {
        worker.removeAllListeners("message");
        void worker.terminate();
        this.worker = undefined;
        resolve("hang");
      }, limitMs);
      worker.once("message", (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok ? "ok" : "unparsable");
      });
      worker.postMessage(bytes);
    });
  }

  /** Parses bytes `check` said are fine. */
  parse(bytes: Uint8Array): fnApi.InstructionRequest {
    return fnApi.InstructionRequest.deserializeBinary(bytes);
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = undefined;
  }
}
