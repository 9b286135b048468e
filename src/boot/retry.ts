/**
 * Retries an operation with exponential backoff and jitter (100 ms doubling
 * to 5 s) until it succeeds, fails with a non-retryable error, or the time
 * budget runs out; the final error names what was attempted and for how long.
 */
export async function retryWithBackoff<T>(
  what: string,
  timeoutMs: number,
  attempt: () => Promise<T>,
  retryable: (err: unknown) => boolean = () => true,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 100;
  let tries = 0;
  for (;;) {
    tries++;
    try {
      return await attempt();
    } catch (err) {
      const remaining = deadline - Date.now();
      if (!retryable(err) || remaining <= 0) {
        throw new Error(
          `${what} failed after ${tries} attempt(s) over ${timeoutMs} ms: ${err instanceof Error ? err.message : String(err)}`,
          {
            cause: err,
          },
        );
      }
      const wait = Math.min(remaining, delay * (0.5 + Math.random() / 2));
      await new Promise((resolve) => setTimeout(resolve, wait));
      delay = Math.min(delay * 2, 5000);
    }
  }
}
