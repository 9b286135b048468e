/**
 * Servers that start processes on request (the worker pool, the job server)
 * trust whoever reaches them. Binding every interface exposes them to the
 * network; this names such addresses so the commands can warn.
 */

const EVERY_INTERFACE = new Set(["0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0", "[0:0:0:0:0:0:0:0]"]);

/** Whether a server bound to `host` listens on every interface (0.0.0.0, `::`). */
export function bindsEveryInterface(host: string): boolean {
  return EVERY_INTERFACE.has(host.trim());
}

/** The warning for `what` bound to `host`, or undefined when it binds one address. */
export function exposureWarning(what: string, host: string): string | undefined {
  if (!bindsEveryInterface(host)) return undefined;
  return `${what} is bound to ${host} (every interface): anyone who can reach this port can make it start processes as this user; bind 127.0.0.1 or a private-network address, or firewall the port`;
}
