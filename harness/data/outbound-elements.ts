/**
 * The `Elements` message for one outbound chunk of a data or timer stream,
 * framed as every Beam SDK frames it: bytes travel only in entries without
 * `is_last`, and a stream ends with an empty `is_last` entry. A final chunk
 * with bytes becomes two entries in one message (bytes, then the empty end).
 *
 * Beam Python's runner (`data_plane.py`, `_GrpcDataChannel.input_elements`)
 * reads an `is_last` entry only as the end of its stream and drops any bytes
 * in it; Beam's Java runner reads them. Sending them apart suits both.
 */
import { fnApi } from "../../proto/index.js";

/** Where a chunk goes: a transform's data stream, or one of its timer families. */
export interface OutboundStream {
  instructionId: string;
  transformId: string;
  /** Set for a timer stream. */
  timerFamilyId?: string;
}

export function outboundElements(
  stream: OutboundStream,
  bytes: Uint8Array,
  isLast: boolean,
): fnApi.Elements {
  const entries: { bytes: Uint8Array; isLast: boolean }[] =
    isLast && bytes.length > 0
      ? [
          { bytes, isLast: false },
          { bytes: EMPTY, isLast: true },
        ]
      : [{ bytes, isLast }];
  const { instructionId, transformId, timerFamilyId } = stream;
  if (timerFamilyId === undefined) {
    return new fnApi.Elements({
      data: entries.map(
        (e) =>
          new fnApi.Elements.Data({
            instruction_id: instructionId,
            transform_id: transformId,
            data: e.bytes,
            is_last: e.isLast,
          }),
      ),
    });
  }
  return new fnApi.Elements({
    timers: entries.map(
      (e) =>
        new fnApi.Elements.Timers({
          instruction_id: instructionId,
          transform_id: transformId,
          timer_family_id: timerFamilyId,
          timers: e.bytes,
          is_last: e.isLast,
        }),
    ),
  });
}

const EMPTY = new Uint8Array(0);
