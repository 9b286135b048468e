/**
 * A single-consumer queue: producers `push` synchronously, the consumer
 * `await`s `next()`. After `end`, `next()` returns `undefined` once the
 * buffered items are taken; after `fail`, it rejects once they are taken
 * (what arrived before a failure is still delivered). `clear` drops them.
 */
export class AsyncQueue<T> {
  private items: T[] = [];
  private head = 0;
  private waiter: { resolve: (v: T | undefined) => void; reject: (e: unknown) => void } | undefined;
  private ended = false;
  private failure: { error: unknown } | undefined;

  get size(): number {
    return this.items.length - this.head;
  }

  get isClosed(): boolean {
    return this.ended || this.failure !== undefined;
  }

  push(item: T): void {
    if (this.isClosed) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter.resolve(item);
      return;
    }
    this.items.push(item);
  }

  /** The next item; `undefined` once ended and drained. */
  next(): Promise<T | undefined> {
    if (this.head < this.items.length) return Promise.resolve(this.take());
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.ended) return Promise.resolve(undefined);
    if (this.waiter) return Promise.reject(new Error("AsyncQueue supports one waiting consumer"));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Takes a buffered item without waiting, or `undefined`. */
  poll(): T | undefined {
    return this.head < this.items.length ? this.take() : undefined;
  }

  end(): void {
    if (this.isClosed) return;
    this.ended = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve(undefined);
  }

  fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
  }

  /** Drops the buffered items; returns how many were dropped. */
  clear(): number {
    const dropped = this.size;
    this.items = [];
    this.head = 0;
    return dropped;
  }

  private take(): T {
    const item = this.items[this.head];
    this.items[this.head++] = undefined as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
