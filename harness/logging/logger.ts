/**
 * The worker's pino logger: JSON records to stderr, and, once a logging
 * endpoint is known, the same records to the runner through a LogForwarder.
 */
import { pino, type Logger } from "pino";
import type { LogForwarder, LogRecord } from "./log-forwarder.js";

export interface HarnessLogger {
  logger: Logger;
  /** Starts sending records to the runner too. */
  attachForwarder(forwarder: LogForwarder): void;
  /** Flushes and closes the forwarder (if any). */
  close(): Promise<void>;
}

export function createHarnessLogger(
  options: { level?: string; stderr?: boolean } = {},
): HarnessLogger {
  let forwarder: LogForwarder | undefined;
  const forwarding = {
    write(line: string): void {
      if (!forwarder) return;
      try {
        forwarder.write(JSON.parse(line) as LogRecord);
      } catch {
        // a record pino produced is always JSON; ignore anything else
      }
    },
  };
  const level = options.level ?? process.env.FIREFLY_LOG_LEVEL ?? "info";
  const streams: { level: pino.Level; stream: { write(line: string): void } }[] = [
    { level: level as pino.Level, stream: forwarding },
  ];
  if (options.stderr !== false)
    streams.push({ level: level as pino.Level, stream: pino.destination({ dest: 2, sync: true }) });
  const logger = pino({ level, base: { pid: process.pid } }, pino.multistream(streams));
  return {
    logger,
    attachForwarder(f: LogForwarder): void {
      forwarder = f;
    },
    async close(): Promise<void> {
      await forwarder?.close();
    },
  };
}
