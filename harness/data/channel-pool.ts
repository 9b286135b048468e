/**
 * Data and state channels by endpoint url, opened on first use and reopened
 * when the previous one broke (so the next bundle reconnects).
 */
import type { Logger } from "pino";
import type { GrpcSettings } from "../grpc-settings.js";
import { StateChannel } from "../state/state-channel.js";
import { DataChannel } from "./data-channel.js";

export interface ChannelPoolOptions {
  workerId: string;
  grpc: GrpcSettings;
  maxInboundBufferedBytes: number;
  orphanTimeoutMs: number;
  /** Bound of one state read over all its pages. */
  maxStateReadBytes?: number;
  logger: Logger;
}

export class ChannelPool {
  private readonly data = new Map<string, DataChannel>();
  private readonly state = new Map<string, StateChannel>();

  constructor(private readonly options: ChannelPoolOptions) {}

  dataChannel(url: string): DataChannel {
    let channel = this.data.get(url);
    if (!channel || channel.isBroken) {
      channel?.close();
      channel = new DataChannel(url, {
        workerId: this.options.workerId,
        grpc: this.options.grpc,
        maxBufferedBytes: this.options.maxInboundBufferedBytes,
        orphanTimeoutMs: this.options.orphanTimeoutMs,
        logger: this.options.logger,
      });
      this.data.set(url, channel);
    }
    return channel;
  }

  stateChannel(url: string): StateChannel {
    let channel = this.state.get(url);
    if (!channel || channel.isBroken) {
      channel?.close();
      channel = new StateChannel(
        url,
        this.options.workerId,
        this.options.grpc,
        this.options.maxStateReadBytes,
      );
      this.state.set(url, channel);
    }
    return channel;
  }

  /**
   * Drops what every open data channel buffered for an instruction, and its
   * late data (a bundle that failed before an executor took its input).
   */
  releaseInbound(instructionId: string): void {
    for (const channel of this.data.values()) channel.release(instructionId);
  }

  /** Bytes buffered inbound over all data channels. */
  get inboundBufferedBytes(): number {
    let total = 0;
    for (const channel of this.data.values()) total += channel.bufferedBytes;
    return total;
  }

  close(): void {
    for (const channel of this.data.values()) channel.close();
    for (const channel of this.state.values()) channel.close();
    this.data.clear();
    this.state.clear();
  }
}
