/**
 * The floor of a Node.js Fn API worker: the least a worker built on grpc-js
 * and google-protobuf (the same libraries as Firefly and apache-beam) does
 * for a bundle. It answers every ProcessBundle by sending the bytes that
 * arrived for transform `source` back as the output of transform `sink` and
 * an empty ProcessBundleResponse — no descriptor, operators, coders, metrics
 * or logging. A benchmark runs it under the same runner as the real workers:
 * its latency is what the transport and message encoding alone cost on this
 * machine, which no worker of this stack can go below.
 *
 * `node dist/bench/driver/echo-worker.js --id=ID --control_endpoint=HOST:PORT`
 * (the data endpoint is the control endpoint, as in the benchmarks' runner).
 */
import * as grpc from "@grpc/grpc-js";
import { fnApi } from "../../proto/index.js";

interface Pending {
  chunks: Uint8Array[];
  complete: boolean;
  respond?: () => void;
}

function flag(name: string): string {
  const prefix = `--${name}=`;
  const arg = process.argv.find((a) => a.startsWith(prefix));
  if (!arg) throw new Error(`echo worker: missing ${prefix}`);
  return arg.slice(prefix.length);
}

function main(): void {
  const id = flag("id");
  const url = flag("control_endpoint");
  const metadata = new grpc.Metadata();
  metadata.set("worker_id", id);
  const credentials = grpc.credentials.createInsecure();
  const control = new fnApi.BeamFnControlClient(url, credentials).Control(metadata);
  let data: grpc.ClientDuplexStream<fnApi.Elements, fnApi.Elements> | undefined;
  const bundles = new Map<string, Pending>();
  const pending = (instructionId: string): Pending => {
    let p = bundles.get(instructionId);
    if (!p) bundles.set(instructionId, (p = { chunks: [], complete: false }));
    return p;
  };
  const finish = (instructionId: string, p: Pending): void => {
    bundles.delete(instructionId);
    const bytes = Buffer.concat(p.chunks);
    const out = [
      ...(bytes.length > 0
        ? [
            new fnApi.Elements.Data({
              instruction_id: instructionId,
              transform_id: "sink",
              data: bytes,
            }),
          ]
        : []),
      new fnApi.Elements.Data({
        instruction_id: instructionId,
        transform_id: "sink",
        is_last: true,
      }),
    ];
    data?.write(new fnApi.Elements({ data: out }));
    p.respond?.();
  };
  const openData = () => {
    data = new fnApi.BeamFnDataClient(url, credentials).Data(metadata);
    data.on("data", (elements: fnApi.Elements) => {
      for (const entry of elements.data) {
        const p = pending(entry.instruction_id);
        if (entry.data.length > 0) p.chunks.push(entry.data);
        if (entry.is_last) {
          p.complete = true;
          if (p.respond) finish(entry.instruction_id, p);
        }
      }
    });
    data.on("error", () => process.exit(0));
  };
  control.on("data", (request: fnApi.InstructionRequest) => {
    const instructionId = request.instruction_id;
    if (request.has_process_bundle) {
      if (!data) openData();
      const p = pending(instructionId);
      p.respond = () =>
        control.write(
          new fnApi.InstructionResponse({
            instruction_id: instructionId,
            process_bundle: new fnApi.ProcessBundleResponse(),
          }),
        );
      if (p.complete) finish(instructionId, p);
    } else {
      control.write(
        new fnApi.InstructionResponse({
          instruction_id: instructionId,
          error: "the echo worker only processes bundles",
        }),
      );
    }
  });
  control.on("error", () => process.exit(0));
  control.on("end", () => process.exit(0));
}

main();
