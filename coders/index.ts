/**
 * `firefly-beam/coders`: every Beam standard coder, the coder registry, the
 * byte buffers coders read and write, and the streaming decoder of the data
 * plane. Importing this module registers all coder URNs.
 */
export { ByteReader, DEFAULT_MAX_ZERO_SIZE_ELEMENTS, type DecodeOptions } from "./byte-reader.js";
export { ByteWriter } from "./byte-writer.js";
export { BaseCoder, type Coder, type Context } from "./coder.js";
export {
  ByteUnderflow,
  CoderError,
  isCoderError,
  type CoderErrorDetails,
  type CoderErrorJson,
  type CoderIdentity,
  type CoderOperation,
} from "./errors.js";
export {
  coderFromProto,
  coderFromSpec,
  isCoderRegistered,
  registerCoder,
  registeredCoderUrns,
  type CoderBuildContext,
  type CoderBuildOptions,
  type CoderFactory,
  type CoderSpec,
  type ComponentsLike,
  type ProtoCoderLike,
} from "./registry.js";
export {
  DEFAULT_MAX_ELEMENT_BYTES,
  StreamDecoder,
  type StreamDecoderOptions,
} from "./stream-decoder.js";
export {
  IterableTooLargeError,
  StateBackedIterable,
  StateWritingIterable,
  type IterableReadBudget,
  type IterableStateWriter,
  type StateBackedIterableReader,
  type StatePage,
} from "./state-reader.js";
export * from "./values.js";

export { BOOL_URN, BoolCoder } from "./bool.js";
export { BYTES_URN, BytesCoder } from "./bytes.js";
export { CUSTOM_WINDOW_URN, CustomWindowCoder } from "./custom-window.js";
export { DOUBLE_URN, DoubleCoder } from "./double.js";
export { GLOBAL_WINDOW_URN, GlobalWindowCoder } from "./global-window.js";
export { INTERVAL_WINDOW_URN, IntervalWindowCoder } from "./interval-window.js";
export { ITERABLE_URN, IterableCoder } from "./iterable.js";
export { JSON_URN, JsonCoder } from "./json.js";
export { KV_URN, KvCoder } from "./kv.js";
export { LENGTH_PREFIX_URN, LengthPrefixCoder } from "./length-prefix.js";
export {
  DECIMAL_URN,
  MICROS_INSTANT_URN,
  MILLIS_INSTANT_URN,
  registerLogicalType,
  type LogicalTypeFactory,
} from "./logical-types.js";
export { NULLABLE_URN, NullableCoder } from "./nullable.js";
export { OFFSET_RANGE_URN, OffsetRangeCoder, type OffsetRangeValue } from "./offset-range.js";
export { OpaqueCoder } from "./opaque.js";
export {
  PARAM_WINDOWED_VALUE_URN,
  ParamWindowedValueCoder,
  type WindowedValueParams,
} from "./param-windowed-value.js";
export { ROW_URN, RowCoder, type Row } from "./row.js";
export {
  ATOMIC_TYPE_NAMES,
  parseSchemaProto,
  type AtomicTypeName,
  type RowField,
  type RowFieldType,
  type RowSchema,
} from "./row-schema.js";
export { SHARDED_KEY_URN, ShardedKeyCoder } from "./sharded-key.js";
export {
  iterableValueReader,
  registerValueStructure,
  STATE_BACKED_ITERABLE_URN,
  type IterableValueReader,
  type IterableValueReaderOptions,
  type ValueStructure,
} from "./state-backed-iterable.js";
export { STRING_UTF8_URN, StringUtf8Coder } from "./string-utf8.js";
export { TIMER_URN, TimerCoder } from "./timer.js";
export { VARINT_URN, VarIntCoder } from "./varint.js";
export { WINDOWED_VALUE_URN, WindowedValueCoder } from "./windowed-value.js";
