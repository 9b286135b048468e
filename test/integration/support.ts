import { ByteReader, GLOBAL_WINDOW } from "../../coders/index.js";
import type { fnApi, metricsApi } from "../../proto/index.js";
import { coderOf, GLOBAL, STR, valuesOf } from "../support/descriptors.js";
import type { WorkerSession } from "../support/worker-process.js";

/** The int64 value of a sum MonitoringInfo with the given urn and label. */
export function metricValue(
  infos: readonly metricsApi.MonitoringInfo[],
  urn: string,
  label: string,
  value: string,
): number | undefined {
  const info = infos.find(
    (i) =>
      i.urn === urn &&
      [...i.labels.values()].includes(value) &&
      [...i.labels.keys()].includes(label),
  );
  if (!info) return undefined;
  return Number(new ByteReader(info.payload).readVarInt());
}

export function elementCount(
  infos: readonly metricsApi.MonitoringInfo[],
  pcollection: string,
): number | undefined {
  return metricValue(infos, "beam:metric:element_count:v1", "PCOLLECTION", pcollection);
}

/** The nested encoding of the global window (state keys carry it). */
export const GLOBAL_WINDOW_BYTES = coderOf(GLOBAL).encode(GLOBAL_WINDOW, "nested");

export async function until(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function assertOk(response: fnApi.InstructionResponse): void {
  if (response.error)
    throw new Error(`instruction ${response.instruction_id} failed:\n${response.error}`);
}

/**
 * Runs bundle `id` of descriptor `descriptorId` on `input` (sent to the data
 * source "source"); resolves with the response and the sink's string outputs
 * (none when the bundle failed).
 */
export async function runStringBundle(
  session: WorkerSession,
  descriptorId: string,
  id: string,
  input: Uint8Array,
): Promise<{ response: fnApi.InstructionResponse; output: string[] }> {
  const response = session.runner.processBundle(descriptorId, id);
  await session.runner.sendData(id, "source", input);
  const r = await response;
  const output = r.error
    ? []
    : (valuesOf(STR, await session.runner.output(id, "sink")) as string[]);
  return { response: r, output };
}
