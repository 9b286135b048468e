/**
 * Sorted runs on disk for GroupByKey inputs larger than the memory budget:
 * each run is a file of groups (key bytes, then its values) in key order;
 * `mergeRuns` reads all runs at once, yielding each key once with the values
 * of every run.
 *
 * Record: u32 keyLength, key, u32 valueCount, u32 dataLength, data (the
 * values, nested-encoded one after another).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const WRITE_BUFFER = 1 << 20;
const READ_BUFFER = 1 << 20;

export interface Group {
  /** The group's key as a latin1 string of its bytes (byte order = string order). */
  key: string;
  /** How many values `data` holds. */
  count: number;
  /** The values, nested-encoded one after another. */
  data: Uint8Array;
}

/** A directory of run files, removed by `dispose()`. */
export class SpillDirectory {
  private dir: string | undefined;
  private next = 0;
  readonly runs: string[] = [];
  bytesWritten = 0;
  /** Runs written over the directory's life (not reset by dispose). */
  runsWritten = 0;

  constructor(private readonly parent: string = os.tmpdir()) {}

  /** Writes groups (already sorted by key) as one run. */
  writeRun(groups: Iterable<Group>): void {
    this.dir ??= fs.mkdtempSync(path.join(this.parent, "firefly-gbk-"));
    const file = path.join(this.dir, `run-${this.next++}`);
    const fd = fs.openSync(file, "w");
    let buffer = Buffer.allocUnsafe(WRITE_BUFFER);
    let pos = 0;
    const flush = () => {
      fs.writeSync(fd, buffer, 0, pos);
      this.bytesWritten += pos;
      pos = 0;
    };
    const ensure = (n: number) => {
      if (pos + n <= buffer.length) return;
      flush();
      if (n > buffer.length) buffer = Buffer.allocUnsafe(n);
    };
    try {
      for (const group of groups) {
        const keyLength = Buffer.byteLength(group.key, "latin1");
        ensure(12 + keyLength + group.data.length);
        buffer.writeUInt32BE(keyLength, pos);
        pos += 4;
        pos += buffer.write(group.key, pos, "latin1");
        buffer.writeUInt32BE(group.count, pos);
        buffer.writeUInt32BE(group.data.length, pos + 4);
        pos += 8;
        buffer.set(group.data, pos);
        pos += group.data.length;
      }
      flush();
    } finally {
      fs.closeSync(fd);
    }
    this.runs.push(file);
    this.runsWritten++;
  }

  dispose(): void {
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.runs.length = 0;
  }
}

/** Reads one run file group by group. */
class RunReader {
  private readonly fd: number;
  private buffer = Buffer.allocUnsafe(READ_BUFFER);
  private start = 0;
  private end = 0;
  private eof = false;
  current: Group | undefined;

  constructor(file: string) {
    this.fd = fs.openSync(file, "r");
    this.advance();
  }

  /** Reads the next group into `current` (undefined at the end). */
  advance(): void {
    if (!this.fill(4)) {
      this.current = undefined;
      fs.closeSync(this.fd);
      return;
    }
    const keyLength = this.u32();
    this.need(keyLength + 8);
    const key = this.buffer.toString("latin1", this.start, this.start + keyLength);
    this.start += keyLength;
    const count = this.u32();
    const length = this.u32();
    this.need(length);
    const data = Uint8Array.prototype.slice.call(this.buffer, this.start, this.start + length);
    this.start += length;
    this.current = { key, count, data };
  }

  private u32(): number {
    const v = this.buffer.readUInt32BE(this.start);
    this.start += 4;
    return v;
  }

  private need(n: number): void {
    if (!this.fill(n)) throw new Error("spill run is truncated");
  }

  /** Makes `n` bytes available from `start`; false at a clean end of file. */
  private fill(n: number): boolean {
    while (this.end - this.start < n) {
      if (this.eof) {
        if (this.end - this.start === 0) return false;
        throw new Error("spill run is truncated");
      }
      if (this.start > 0) {
        this.buffer.copy(this.buffer, 0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      }
      if (this.buffer.length < n) {
        const bigger = Buffer.allocUnsafe(Math.max(n, this.buffer.length * 2));
        this.buffer.copy(bigger, 0, 0, this.end);
        this.buffer = bigger;
      }
      const read = fs.readSync(this.fd, this.buffer, this.end, this.buffer.length - this.end, null);
      if (read === 0) this.eof = true;
      this.end += read;
    }
    return true;
  }
}

/** K-way merge of sorted runs (and optionally sorted in-memory groups): each key once, values of all. */
export function* mergeRuns(files: readonly string[], memory: Group[] = []): Generator<Group> {
  const sources: { current: Group | undefined; advance(): void }[] = files.map(
    (f) => new RunReader(f),
  );
  let i = 0;
  sources.push({
    current: memory[0],
    advance() {
      this.current = memory[++i];
    },
  });
  for (;;) {
    let smallest: string | undefined;
    for (const s of sources) {
      const key = s.current?.key;
      if (key !== undefined && (smallest === undefined || key < smallest)) smallest = key;
    }
    if (smallest === undefined) return;
    const parts: Uint8Array[] = [];
    let count = 0;
    for (const s of sources) {
      if (s.current?.key === smallest) {
        parts.push(s.current.data);
        count += s.current.count;
        s.advance();
      }
    }
    yield { key: smallest, count, data: parts.length === 1 ? parts[0] : Buffer.concat(parts) };
  }
}
