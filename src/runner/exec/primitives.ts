/**
 * The runner's built-in primitives: Impulse, GroupByKey, Flatten and
 * Reshuffle (a pass-through that ends fusion, so its output is rebundled).
 */
import {
  ByteWriter,
  GLOBAL_WINDOW,
  MIN_TIMESTAMP,
  NO_FIRING,
  type Coder,
  type WindowedValue,
  type WindowedValueCoder,
} from "../../../coders/index.js";
import { registerRunnerPrimitive, type PrimitiveContext } from "../graph/runner-primitives.js";
import { windowFnIsMerging } from "../graph/pipeline-model.js";
import { stateBackedThreshold } from "../graph/state-backed-iterables.js";
import { URNS } from "../graph/urns.js";
import { decodingWriter, type BundleWriter, type ChannelConsumer } from "./channel.js";
import { GroupByKeyBuffer } from "./group-by-key.js";
import { windowMerger } from "./window-merging.js";

function onlyOutput(ctx: PrimitiveContext): string {
  const outputs = [...ctx.model.transform(ctx.transformId).outputs.values()];
  if (outputs.length !== 1)
    throw new Error(
      `${ctx.model.nameOf(ctx.transformId)}: expected one output, found ${outputs.length}`,
    );
  return outputs[0];
}

registerRunnerPrimitive(URNS.impulse, (ctx) => ({
  run() {
    const out = ctx.channel(onlyOutput(ctx));
    const impulse: WindowedValue<Uint8Array> = {
      value: new Uint8Array(),
      timestamp: MIN_TIMESTAMP,
      windows: [GLOBAL_WINDOW],
      pane: NO_FIRING,
    };
    const w = out.open();
    w.write(out.coder.encode(impulse, "nested"));
    w.end();
    out.elements++;
  },
}));

registerRunnerPrimitive(URNS.groupByKey, (ctx) => {
  const [input] = [...ctx.model.transform(ctx.transformId).inputs.values()];
  const output = onlyOutput(ctx);
  const ws = ctx.model.windowingOf(input);
  let merger;
  if (windowFnIsMerging(ws)) {
    const urn = ws.window_fn?.urn ?? "";
    merger = windowMerger(urn);
    if (!merger)
      throw new Error(
        `GroupByKey ${JSON.stringify(ctx.model.nameOf(ctx.transformId))}: the local runner cannot merge windows of ${urn}`,
      );
  }
  const inChannel = ctx.channel(input);
  const outChannel = ctx.channel(output);
  const thresholdBytes = stateBackedThreshold(ctx.model, output);
  const buffer = new GroupByKeyBuffer(
    ctx.model.nameOf(ctx.transformId),
    inChannel.coder as WindowedValueCoder<unknown>,
    outChannel.coder as Coder<WindowedValue<unknown>>,
    merger,
    ctx.groupByKey,
    thresholdBytes === undefined
      ? undefined
      : { thresholdBytes, store: ctx.groupByKey.iterableState },
  );
  inChannel.attach(buffer);
  return {
    run: () => void buffer.emit(outChannel),
    describe: () =>
      [
        buffer.spilledRuns > 0 ? `spilled ${buffer.spilledRuns} sorted runs to disk` : "",
        buffer.stateBackedGroups === 1 ? "sent 1 group as a state-backed iterable" : "",
        buffer.stateBackedGroups > 1
          ? `sent ${buffer.stateBackedGroups} groups as state-backed iterables`
          : "",
      ]
        .filter((note) => note !== "")
        .join("; "),
  };
});

/** Forwards each input bundle to the output channel, re-encoding when the coders differ. */
function forwardTo(ctx: PrimitiveContext, input: string, output: string): ChannelConsumer {
  const out = ctx.channel(output);
  const model = ctx.model;
  const sameCoder =
    model.windowedCoderId(input) === model.windowedCoderId(output) ||
    sameCoderSpec(ctx, model.windowedCoderId(input), model.windowedCoderId(output));
  if (sameCoder) return { open: () => out.open() };
  const inCoder = ctx.channel(input).coder;
  return {
    open(): BundleWriter {
      const writer = new ByteWriter(4096);
      return decodingWriter(
        inCoder,
        (v) => out.coder.encodeTo(v, writer, "nested"),
        () => {
          const w = out.open();
          w.write(writer.finish());
          w.end();
        },
      );
    },
  };
}

function sameCoderSpec(ctx: PrimitiveContext, a: string, b: string): boolean {
  const coders = ctx.model.components.coders;
  const same = (x: string, y: string): boolean => {
    if (x === y) return true;
    const cx = coders.get(x);
    const cy = coders.get(y);
    if (!cx || !cy || cx.spec?.urn !== cy.spec?.urn) return false;
    if (
      Buffer.compare(cx.spec?.payload ?? new Uint8Array(), cy.spec?.payload ?? new Uint8Array()) !==
      0
    )
      return false;
    return (
      cx.component_coder_ids.length === cy.component_coder_ids.length &&
      cx.component_coder_ids.every((c, i) => same(c, cy.component_coder_ids[i]))
    );
  };
  return same(a, b);
}

function passThrough(ctx: PrimitiveContext) {
  const output = onlyOutput(ctx);
  for (const input of ctx.model.transform(ctx.transformId).inputs.values())
    ctx.channel(input).attach(forwardTo(ctx, input, output));
  return { run: () => undefined };
}

registerRunnerPrimitive(URNS.flatten, passThrough);
registerRunnerPrimitive(URNS.reshuffle, passThrough);
