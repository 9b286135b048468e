/**
 * The services of one bundle that runs on the conductor's own thread: outputs
 * go straight to the data channels, state to the state channel.
 */
import type { Logger } from "pino";
import type {
  BundleServices,
  ElementSink,
  FinalizationCallback,
  StateAccess,
} from "../../operations/bundle-services.js";
import { fnApi } from "../../proto/index.js";
import type { ChannelPool } from "../data/channel-pool.js";
import { BufferedElementSink, type FlushPolicy } from "../data/element-sink.js";
import { outboundElements } from "../data/outbound-elements.js";
import { ProtocolError } from "../errors.js";
import { BundleState } from "../state/bundle-state.js";
import type { StateCache } from "../state/state-cache.js";
import { endpointsOf } from "./descriptor-endpoints.js";

export class InlineBundleServices implements BundleServices {
  private readonly sinks: BufferedElementSink[] = [];
  readonly finalizations: FinalizationCallback[] = [];
  readonly residuals: fnApi.DelayedBundleApplication[] = [];
  private readonly bundleState: BundleState | undefined;
  private bundleLogger: Logger | undefined;

  constructor(
    readonly instructionId: string,
    private readonly baseLogger: Logger,
    private readonly descriptor: fnApi.ProcessBundleDescriptor,
    private readonly channels: ChannelPool,
    stateCache: StateCache,
    cacheTokens: readonly fnApi.ProcessBundleRequest.CacheToken[],
    private readonly flushPolicy: FlushPolicy,
  ) {
    const stateUrl = endpointsOf(descriptor).stateUrl;
    this.bundleState = stateUrl
      ? new BundleState(
          instructionId,
          () => channels.stateChannel(stateUrl),
          stateCache,
          cacheTokens,
        )
      : undefined;
  }

  /** A logger with the instruction id bound (made on first use: most bundles never log). */
  get logger(): Logger {
    return (this.bundleLogger ??= this.baseLogger.child({ instructionId: this.instructionId }));
  }

  dataOutput(transformId: string): ElementSink {
    const url = endpointsOf(this.descriptor).dataUrl.get(transformId);
    if (!url)
      throw new ProtocolError(`no data endpoint for transform ${JSON.stringify(transformId)}`);
    const channel = this.channels.dataChannel(url);
    const instructionId = this.instructionId;
    return this.track(
      new BufferedElementSink(
        (data, isLast) =>
          channel.send(outboundElements({ instructionId, transformId }, data, isLast)),
        this.flushPolicy,
      ),
    );
  }

  timerOutput(transformId: string, timerFamilyId: string): ElementSink {
    const url = endpointsOf(this.descriptor).timerUrl;
    if (!url) throw new ProtocolError(`descriptor ${this.descriptor.id} has no timer endpoint`);
    const channel = this.channels.dataChannel(url);
    const instructionId = this.instructionId;
    return this.track(
      new BufferedElementSink(
        (timers, isLast) =>
          channel.send(
            outboundElements({ instructionId, transformId, timerFamilyId }, timers, isLast),
          ),
        this.flushPolicy,
      ),
    );
  }

  get state(): StateAccess {
    if (!this.bundleState) {
      throw new ProtocolError(
        `descriptor ${this.descriptor.id} has no state endpoint, but a transform uses state`,
      );
    }
    return this.bundleState;
  }

  registerFinalization(callback: FinalizationCallback): void {
    this.finalizations.push(callback);
  }

  addResidual(residual: fnApi.DelayedBundleApplication): void {
    this.residuals.push(residual);
  }

  /** Waits for every state write of the bundle (before its response is sent). */
  async complete(): Promise<void> {
    await this.bundleState?.flush();
  }

  /** The bundle failed: stop flush timers without sending. */
  abandon(): void {
    for (const sink of this.sinks) sink.abandon();
  }

  private track(sink: BufferedElementSink): BufferedElementSink {
    this.sinks.push(sink);
    return sink;
  }
}
