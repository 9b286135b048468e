/**
 * Turns for the event loop during long bundles. A bundle whose DoFns are
 * synchronous, or asynchronous but awaiting promises that are already
 * settled (cached state, say), runs entirely in one task or in microtasks:
 * while it does, the thread answers no control request, reports no
 * progress and runs no signal handler. The loops over elements and windows
 * call {@link turnDue} per unit of work; every {@link CHECK_EVERY} units it
 * looks at the clock, and when the event loop has had no turn for
 * {@link MAX_WORK_MS} it says so, and the loop continues after
 * {@link nextTurn}.
 */
import type { MaybePromise } from "./operation.js";

/** Units of work between two looks at the clock. */
export const CHECK_EVERY = 256;

/** The longest stretch of work without an event-loop turn, in milliseconds. */
export const MAX_WORK_MS = 20;

let units = 0;
/** When the armed marker was armed, or when the event loop last ran it. */
let lastTurn = performance.now();
let markerArmed = false;

function markTurn(): void {
  lastTurn = performance.now();
  markerArmed = false;
}

/**
 * Counts one unit of work; true when the event loop is due a turn (the
 * caller then continues after {@link nextTurn}).
 */
export function turnDue(): boolean {
  if (++units < CHECK_EVERY) return false;
  units = 0;
  const now = performance.now();
  // A macrotask that records when the event loop got round to it: as long as
  // it has not run, the loop has had no turn since it was armed.
  if (!markerArmed) {
    markerArmed = true;
    lastTurn = now;
    setImmediate(markTurn);
    return false;
  }
  return now - lastTurn > MAX_WORK_MS;
}

/** A promise settled on the event loop's next turn (after pending I/O callbacks). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `next()`, after a turn of the event loop if one is due (see {@link turnDue}). */
export function afterTurnIfDue(next: () => MaybePromise): MaybePromise {
  return turnDue() ? nextTurn().then(next) : next();
}
