/**
 * Runs one fuzz target inside a worker thread. Before each case it writes a
 * heartbeat, the case label and the input into shared memory, so the main
 * thread can report the input of a hang or of a crash that kills the thread.
 */
import * as fs from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { loadFuzzTarget } from "./registry.js";
import {
  HEADER_INTS,
  LABEL_BYTES,
  MAX_INPUT_BYTES,
  type FuzzWorkerData,
} from "./worker-protocol.js";

const data = workerData as FuzzWorkerData;
const header = new Int32Array(data.shared, 0, HEADER_INTS);
const label = new Uint8Array(data.shared, HEADER_INTS * 4, LABEL_BYTES);
const input = new Uint8Array(data.shared, HEADER_INTS * 4 + LABEL_BYTES, MAX_INPUT_BYTES);
const encoder = new TextEncoder();
/** `FIREFLY_FUZZ_TRACE=file`: appends each case's start time and label to the file. */
const trace = process.env["FIREFLY_FUZZ_TRACE"];

const target = await loadFuzzTarget(data.target);
const report = await target.run({
  cases: data.cases,
  seed: data.seed,
  onCase(caseLabel, bytes) {
    if (trace !== undefined) fs.appendFileSync(trace, `${Date.now()} ${caseLabel}\n`);
    const l = encoder.encodeInto(caseLabel, label);
    const n = Math.min(bytes.length, MAX_INPUT_BYTES);
    input.set(bytes.subarray(0, n));
    Atomics.store(header, 1, l.written);
    Atomics.store(header, 2, n);
    Atomics.add(header, 0, 1);
  },
  onChildProcess(pid) {
    Atomics.store(header, 3, pid);
  },
});
parentPort!.postMessage(report);
