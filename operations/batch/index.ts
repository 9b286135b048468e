/**
 * The batch operations (README "Vectorized DoFns"), loaded by plugin.ts when
 * a descriptor has a batch DoFn: the columnar data source, the batch ParDo,
 * the precombine of built-in CombineFns on columns, and the sink's encoding
 * straight from columns. They import Apache Arrow.
 */
import { ColumnarEncoder } from "../../coders/columnar/index.js";
import { registerBatchEncoder } from "../data-sink.js";
import "./columnar-data-source.js";
import "./batch-pardo.js";
import "./columnar-precombine.js";

registerBatchEncoder((coder) => {
  const encoder = ColumnarEncoder.forCoder(coder);
  return encoder && ((batch) => encoder.prepare(batch));
});
