/** What the fuzz runner (`main.ts`) and its worker thread (`worker.ts`) share. */

/** The worker's `workerData`. */
export interface FuzzWorkerData {
  target: string;
  cases: number;
  seed: number;
  shared: SharedArrayBuffer;
}

/**
 * Layout of the shared buffer: [heartbeat, labelLength, inputLength, pid of
 * the process the target runs (0: none)], then label and input bytes.
 */
export const HEADER_INTS = 4;
export const LABEL_BYTES = 256;
export const MAX_INPUT_BYTES = 1 << 16;
