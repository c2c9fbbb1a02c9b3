// Streaming writer for djb's constant database format, byte-identical to
// `cdbmake` (freecdb) and `cdb -c` (tinycdb) for the same records in the same
// order. Layout: a 2048-byte header of 256 (position, slots) pairs, the records
// (klen, dlen, key, data), then 256 open-addressing hash tables.
import * as fs from "node:fs";
import * as path from "node:path";
import { cdbHash } from "./hash";

export const CDB_HEADER_BYTES = 2048;
/** Positions are 32-bit, so a cdb file can hold at most 4 GiB - 1 bytes. */
export const CDB_MAX_BYTES = 0xffff_ffff;

export type CdbBytes = Uint8Array | string;

const FLUSH_BYTES = 1 << 20;

function toBytes(value: CdbBytes): Uint8Array {
  return typeof value === "string" ? Buffer.from(value, "utf8") : value;
}

export class CdbTooLargeError extends Error {
  constructor(what: string, limit: number) {
    super(`cdb would exceed the format's size limit of ${limit.toLocaleString("en-US")} bytes (4 GiB - 1) ${what}; split the data into several files`);
    this.name = "CdbTooLargeError";
  }
}

/**
 * Collects records and emits the cdb bytes through `emit`, in order, except the
 * header, which is only known at the end and returned by `finishTables()`.
 */
class CdbEncoder {
  private position = CDB_HEADER_BYTES;
  private hashes = new Uint32Array(1024);
  private positions = new Uint32Array(1024);
  private count = 0;
  private pending = Buffer.allocUnsafe(FLUSH_BYTES);
  private pendingLength = 0;

  constructor(
    private readonly emit: (chunk: Buffer) => void,
    private readonly limitBytes: number,
  ) {}

  get recordCount(): number {
    return this.count;
  }

  add(key: CdbBytes, value: CdbBytes): void {
    this.addBytes(toBytes(key), toBytes(value));
  }

  addBytes(key: Uint8Array, value: Uint8Array): void {
    const recordBytes = 8 + key.length + value.length;
    // Each record also costs one 8-byte slot pair (two slots) in the tables.
    const tableBytes = (this.count + 1) * 16;
    if (this.position + recordBytes + tableBytes > this.limitBytes) {
      throw new CdbTooLargeError(`at record ${this.count + 1}`, this.limitBytes);
    }
    if (this.count === this.hashes.length) this.grow();
    this.hashes[this.count] = cdbHash(key);
    this.positions[this.count] = this.position;
    this.count++;
    this.position += recordBytes;

    if (this.pendingLength + recordBytes > FLUSH_BYTES) this.flush();
    if (recordBytes > FLUSH_BYTES) {
      const head = Buffer.allocUnsafe(8);
      head.writeUInt32LE(key.length, 0);
      head.writeUInt32LE(value.length, 4);
      this.emit(head);
      this.emit(Buffer.from(key));
      this.emit(Buffer.from(value));
      return;
    }
    const buf = this.pending;
    let at = this.pendingLength;
    buf.writeUInt32LE(key.length, at);
    buf.writeUInt32LE(value.length, at + 4);
    at += 8;
    buf.set(key, at);
    at += key.length;
    buf.set(value, at);
    this.pendingLength = at + value.length;
  }

  /** Emits the hash tables and returns the header. */
  finishTables(): Buffer {
    this.flush();
    const n = this.count;
    const bucketCounts = new Uint32Array(256);
    for (let i = 0; i < n; i++) bucketCounts[this.hashes[i] & 255]++;
    // Records grouped by bucket, keeping insertion order inside each bucket.
    const bucketStart = new Uint32Array(257);
    for (let b = 0; b < 256; b++) bucketStart[b + 1] = bucketStart[b] + bucketCounts[b];
    const fill = bucketStart.slice(0, 256);
    const groupedHashes = new Uint32Array(n);
    const groupedPositions = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const at = fill[this.hashes[i] & 255]++;
      groupedHashes[at] = this.hashes[i];
      groupedPositions[at] = this.positions[i];
    }
    this.hashes = new Uint32Array(0);
    this.positions = new Uint32Array(0);

    const header = Buffer.alloc(CDB_HEADER_BYTES);
    let largest = 0;
    for (let b = 0; b < 256; b++) largest = Math.max(largest, bucketCounts[b]);
    const slotHashes = new Uint32Array(largest * 2);
    const slotPositions = new Uint32Array(largest * 2);
    let tablePosition = this.position;
    for (let b = 0; b < 256; b++) {
      const slots = bucketCounts[b] * 2;
      header.writeUInt32LE(tablePosition, b * 8);
      header.writeUInt32LE(slots, b * 8 + 4);
      if (slots === 0) continue;
      slotHashes.fill(0, 0, slots);
      slotPositions.fill(0, 0, slots);
      for (let i = bucketStart[b]; i < bucketStart[b + 1]; i++) {
        const h = groupedHashes[i];
        let where = (h >>> 8) % slots;
        // Record positions are never 0 (the header comes first), so 0 marks a free slot.
        while (slotPositions[where] !== 0) if (++where === slots) where = 0;
        slotHashes[where] = h;
        slotPositions[where] = groupedPositions[i];
      }
      const table = Buffer.allocUnsafe(slots * 8);
      for (let s = 0; s < slots; s++) {
        table.writeUInt32LE(slotHashes[s], s * 8);
        table.writeUInt32LE(slotPositions[s], s * 8 + 4);
      }
      this.emit(table);
      tablePosition += slots * 8;
    }
    return header;
  }

  private flush(): void {
    if (this.pendingLength === 0) return;
    // The chunk is handed over, so the next records go to a fresh buffer.
    this.emit(this.pending.subarray(0, this.pendingLength));
    this.pending = Buffer.allocUnsafe(FLUSH_BYTES);
    this.pendingLength = 0;
  }

  private grow(): void {
    const hashes = new Uint32Array(this.hashes.length * 2);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const positions = new Uint32Array(this.positions.length * 2);
    positions.set(this.positions);
    this.positions = positions;
  }
}

export interface CdbWriterOptions {
  /** Size limit in bytes; defaults to the format limit. Lower it only to test the limit. */
  limitBytes?: number;
}

/** Builds a cdb in memory. */
export class CdbBufferWriter {
  private readonly chunks: Buffer[] = [];
  private readonly encoder: CdbEncoder;

  constructor(options: CdbWriterOptions = {}) {
    this.encoder = new CdbEncoder((chunk) => this.chunks.push(chunk), options.limitBytes ?? CDB_MAX_BYTES);
  }

  get recordCount(): number {
    return this.encoder.recordCount;
  }

  add(key: CdbBytes, value: CdbBytes): this {
    this.encoder.add(key, value);
    return this;
  }

  toBuffer(): Buffer {
    const header = this.encoder.finishTables();
    return Buffer.concat([header, ...this.chunks]);
  }
}

/**
 * Builds a cdb into a temporary file beside `targetPath` and renames it into
 * place on `commit()`, so readers never see a half-written database.
 */
export class CdbFileWriter {
  private readonly fd: number;
  private readonly tempPath: string;
  private readonly encoder: CdbEncoder;
  private offset = CDB_HEADER_BYTES;
  private open = true;

  constructor(
    readonly targetPath: string,
    options: CdbWriterOptions & { mode?: number } = {},
  ) {
    const dir = path.dirname(path.resolve(targetPath));
    this.tempPath = path.join(dir, `.${path.basename(targetPath)}.${process.pid}.${Date.now()}.tmp`);
    this.fd = fs.openSync(this.tempPath, "wx", options.mode ?? 0o644);
    this.encoder = new CdbEncoder((chunk) => {
      fs.writeSync(this.fd, chunk, 0, chunk.length, this.offset);
      this.offset += chunk.length;
    }, options.limitBytes ?? CDB_MAX_BYTES);
  }

  get recordCount(): number {
    return this.encoder.recordCount;
  }

  add(key: CdbBytes, value: CdbBytes): this {
    try {
      this.encoder.add(key, value);
    } catch (err) {
      this.abort();
      throw err;
    }
    return this;
  }

  /** Low-level variant of add() for callers that already hold bytes. */
  addBytes(key: Uint8Array, value: Uint8Array): void {
    try {
      this.encoder.addBytes(key, value);
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  commit(): void {
    try {
      const header = this.encoder.finishTables();
      fs.writeSync(this.fd, header, 0, header.length, 0);
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      this.open = false;
      fs.renameSync(this.tempPath, this.targetPath);
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /** Drops the temporary file; the target is left as it was. */
  abort(): void {
    if (this.open) {
      this.open = false;
      try {
        fs.closeSync(this.fd);
      } catch {
        // already closed
      }
    }
    fs.rmSync(this.tempPath, { force: true });
  }
}

/** Convenience: records in order to cdb bytes. */
export function buildCdb(records: Iterable<readonly [CdbBytes, CdbBytes]>, options?: CdbWriterOptions): Buffer {
  const writer = new CdbBufferWriter(options);
  for (const [key, value] of records) writer.add(key, value);
  return writer.toBuffer();
}
