/**
 * Columnar batches (README "Vectorized DoFns"): windowed values decoded
 * straight into Apache Arrow columns and encoded straight from them.
 */
export { batchValues, fromArrow, rowReader, type RowReader } from "./batch-rows.js";
export {
  columnKind,
  registerColumnKind,
  utf8DictionaryType,
  type ColumnDecoder,
  type ColumnKind,
} from "./column-decoders.js";
export { cellEncoder, registerColumnEncoder, type CellEncoder } from "./column-encoders.js";
export {
  BATCH_FULL,
  ColumnarDecoder,
  INCOMPLETE,
  valueColumns,
  type BatchLimits,
} from "./columnar-decoder.js";
export { ColumnarEncoder, type PreparedRows } from "./columnar-encoder.js";
export { maxTimestamp, rowShape, type ElementBatch, type RowShape } from "./element-batch.js";
export { batchFromValues } from "./batch-from-values.js";
