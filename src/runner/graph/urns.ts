/** URNs the local runner looks at. */
export const URNS = {
  impulse: "beam:transform:impulse:v1",
  groupByKey: "beam:transform:group_by_key:v1",
  flatten: "beam:transform:flatten:v1",
  reshuffle: "beam:transform:reshuffle:v1",
  pardo: "beam:transform:pardo:v1",
  combinePerKey: "beam:transform:combine_per_key:v1",
  precombine: "beam:transform:combine_per_key_precombine:v1",
  mergeAccumulators: "beam:transform:combine_per_key_merge_accumulators:v1",
  extractOutputs: "beam:transform:combine_per_key_extract_outputs:v1",
  dataSource: "beam:runner:source:v1",
  dataSink: "beam:runner:sink:v1",
  windowedValueCoder: "beam:coder:windowed_value:v1",
  kvCoder: "beam:coder:kv:v1",
  iterableCoder: "beam:coder:iterable:v1",
  globalWindows: "beam:window_fn:global_windows:v1",
  sessions: "beam:window_fn:session_windows:v1",
} as const;
