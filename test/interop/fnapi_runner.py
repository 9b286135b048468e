"""Runs a serialized Beam pipeline proto on Beam Python's FnApiRunner.

usage: python3 fnapi_runner.py PIPELINE.pb [--use_state_iterables] [--sdk_merges_sessions]
                               [--direct_test_splits=JSON] [--is_drain]

--use_state_iterables: GroupByKey values go to the SDK as state-backed iterables.
--sdk_merges_sessions: the runner treats session windows as an unknown merging
  window fn, so it asks the SDK (beam:transform:merge_windows:v1) to merge them.
--direct_test_splits: {"STAGE": {"timings": [s...], "fractions": [f...]}}: the
  runner sends ProcessBundleSplit requests to the bundle of the stage whose
  transform (or TRANSFORM/Process) is named STAGE, at those times after it
  starts (Beam's own option); the split responses are counted.
--is_drain: the runner expands splittable DoFns as for a drain (a truncate step
  before process: beam:transform:sdf_truncate_sized_restrictions:v1).
Exit code 0 when the pipeline is DONE; otherwise 1, with the runner's error
on stderr (a failed bundle's error text as the worker sent it).
"""
import sys
import traceback

import beam_loopback  # noqa: F401  (loopback binds; import before the runner starts servers)

from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.portability.api import beam_runner_api_pb2
from apache_beam.runners.portability.fn_api_runner import FnApiRunner


def _sdk_merges_sessions():
  """Sessions that still need merging are merged by the SDK, as unknown window fns are."""
  from apache_beam.portability import common_urns
  from apache_beam.portability.api import beam_runner_api_pb2
  from apache_beam.runners.portability.fn_api_runner import execution

  sessions = common_urns.session_windows.urn
  context = execution.FnApiRunnerExecutionContext
  make_safe = context._make_safe_windowing_strategy

  def make_safe_sdk_merging(self, id):
    proto = self.pipeline_components.windowing_strategies[id]
    if (proto.window_fn.urn != sessions or
        proto.merge_status != beam_runner_api_pb2.MergeStatus.NEEDS_MERGE):
      return make_safe(self, id)
    execution.SAFE_WINDOW_FNS.discard(sessions)
    try:
      return make_safe(self, id)
    finally:
      execution.SAFE_WINDOW_FNS.add(sessions)

  context._make_safe_windowing_strategy = make_safe_sdk_merging

  merge = execution.GenericMergingWindowFn.merge

  def counted_merge(self, merge_context):
    _SDK_MERGES[0] += 1
    return merge(self, merge_context)

  execution.GenericMergingWindowFn.merge = counted_merge


# merge_windows bundles the runner sent to the SDK (--sdk_merges_sessions).
_SDK_MERGES = [0]
# State reads of runner-side iterables (StateKey.runner) the SDK made.
_RUNNER_STATE_READS = [0]


def _count_runner_state_reads():
  from apache_beam.runners.portability.fn_api_runner import worker_handlers

  get_raw = worker_handlers.StateServicer.get_raw

  def counted_get_raw(self, state_key, continuation_token=None):
    if state_key.WhichOneof('type') == 'runner':
      _RUNNER_STATE_READS[0] += 1
    return get_raw(self, state_key, continuation_token)

  worker_handlers.StateServicer.get_raw = counted_get_raw


# Split responses of the worker that handed work back: [all, with residual roots].
_SPLITS = [0, 0]


def _count_splits():
  from apache_beam.runners.portability.fn_api_runner import fn_runner

  generate = fn_runner.BundleManager._generate_splits_for_testing

  def counted(self, split_manager, inputs, process_bundle_id):
    results = generate(self, split_manager, inputs, process_bundle_id)
    for result in results:
      _SPLITS[0] += 1
      if result.residual_roots:
        _SPLITS[1] += 1
    return results

  fn_runner.BundleManager._generate_splits_for_testing = counted


# Truncate steps (beam:transform:sdf_truncate_sized_restrictions:v1) the runner's expansion made.
_TRUNCATES = [0]


def _count_truncates():
  from apache_beam.portability import common_urns
  from apache_beam.runners.portability.fn_api_runner import translations

  expand = translations.expand_sdf
  urn = common_urns.sdf_components.TRUNCATE_SIZED_RESTRICTION.urn

  def counted(stages, context):
    for stage in expand(stages, context):
      _TRUNCATES[0] += sum(1 for t in stage.transforms if t.spec.urn == urn)
      yield stage

  translations.expand_sdf = counted


def main(path, use_state_iterables, sdk_merges_sessions, test_splits, is_drain):
  if sdk_merges_sessions:
    _sdk_merges_sessions()
  _count_runner_state_reads()
  _count_splits()
  _count_truncates()
  pipeline = beam_runner_api_pb2.Pipeline()
  with open(path, 'rb') as f:
    pipeline.ParseFromString(f.read())
  try:
    options = PipelineOptions(['--direct_test_splits=' + test_splits] if test_splits else [])
    runner = FnApiRunner(use_state_iterables=use_state_iterables, is_drain=is_drain)
    result = runner.run_via_runner_api(pipeline, options)
    result.wait_until_finish()
  except Exception:  # pylint: disable=broad-except
    traceback.print_exc()
    print('FnApiRunner: FAILED', file=sys.stderr)
    return 1
  print('FnApiRunner: %s' % result.state)
  print('FnApiRunner: runner state reads by the SDK: %d' % _RUNNER_STATE_READS[0])
  print('FnApiRunner: split responses: %d, with residual roots: %d' % tuple(_SPLITS))
  print('FnApiRunner: truncate steps: %d' % _TRUNCATES[0])
  if sdk_merges_sessions:
    print('FnApiRunner: merge_windows bundles run by the SDK: %d' % _SDK_MERGES[0])
  return 0 if str(result.state) == 'DONE' else 1


if __name__ == '__main__':
  flags = sys.argv[2:]
  splits = [f[len('--direct_test_splits='):] for f in flags if f.startswith('--direct_test_splits=')]
  sys.exit(
      main(
          sys.argv[1],
          '--use_state_iterables' in flags,
          '--sdk_merges_sessions' in flags,
          splits[0] if splits else None,
          '--is_drain' in flags))
