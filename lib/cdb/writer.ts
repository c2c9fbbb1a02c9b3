// Streaming writer for djb's constant database format, byte-identical to
// `cdbmake` (freecdb) and `cdb -c` (tinycdb) for the same records in the same
// order. Layout: a 2048-byte header of 256 (position, slots) pairs, the records
// (klen, dlen, key, data), then 256 open-addressing hash tables.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CDB_HASH_START, cdbHash } from "./hash";

export const CDB_HEADER_BYTES = 2048;
/** Positions are 32-bit, so a cdb file can hold at most 4 GiB - 1 bytes. */
export const CDB_MAX_BYTES = 0xffff_ffff;

export type CdbBytes = Uint8Array | string;

const FLUSH_BYTES = 1 << 18;
const LITTLE_ENDIAN = os.endianness() === "LE";

function writeUint32LE(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value & 255;
  buf[at + 1] = (value >>> 8) & 255;
  buf[at + 2] = (value >>> 16) & 255;
  buf[at + 3] = value >>> 24;
}

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
  private hashes: Uint32Array;
  private positions: Uint32Array;
  private count = 0;
  private pending = Buffer.allocUnsafe(FLUSH_BYTES);
  private pendingLength = 0;

  /**
   * @param emit receives the bytes after the header, in order
   * @param emitKeepsChunk false when emit is done with a chunk on return, so the buffer can be reused
   */
  constructor(
    private readonly emit: (chunk: Buffer) => void,
    private readonly emitKeepsChunk: boolean,
    private readonly limitBytes: number,
    expectedRecords: number,
    private readonly indexArrays?: CdbIndexArrays,
  ) {
    const capacity = Math.max(expectedRecords, 16);
    this.hashes = indexArrays && indexArrays.hashes.length >= capacity ? indexArrays.hashes : new Uint32Array(capacity);
    this.positions = indexArrays && indexArrays.positions.length >= capacity ? indexArrays.positions : new Uint32Array(capacity);
  }

  get recordCount(): number {
    return this.count;
  }

  add(key: CdbBytes, value: CdbBytes): void {
    this.addBytes(toBytes(key), toBytes(value));
  }

  addBytes(key: Uint8Array, value: Uint8Array): void {
    this.addRange(key, 0, key.length, value);
  }

  /** Adds the key source[keyStart, keyStart + keyLength) without making a view of it (hot path for big lists). */
  addRange(source: Uint8Array, keyStart: number, keyLength: number, value: Uint8Array): void {
    const recordBytes = 8 + keyLength + value.length;
    // Each record also costs two 8-byte slots in the hash tables.
    if (this.position + recordBytes + (this.count + 1) * 16 > this.limitBytes) {
      throw new CdbTooLargeError(`at record ${this.count + 1}`, this.limitBytes);
    }
    if (this.count === this.hashes.length) this.grow();
    this.positions[this.count] = this.position;
    this.position += recordBytes;

    if (this.pendingLength + recordBytes > FLUSH_BYTES) this.flush();
    if (recordBytes > FLUSH_BYTES) {
      const key = source.subarray(keyStart, keyStart + keyLength);
      this.hashes[this.count++] = cdbHash(key);
      const head = Buffer.allocUnsafe(8);
      head.writeUInt32LE(keyLength, 0);
      head.writeUInt32LE(value.length, 4);
      this.emit(head);
      this.emit(Buffer.from(key));
      this.emit(Buffer.from(value));
      return;
    }
    const buf = this.pending;
    let at = this.pendingLength;
    writeUint32LE(buf, at, keyLength);
    writeUint32LE(buf, at + 4, value.length);
    at += 8;
    // Copy and hash in one loop: for short keys this beats Buffer.set.
    let h = CDB_HASH_START;
    const keyEnd = keyStart + keyLength;
    for (let i = keyStart; i < keyEnd; i++) {
      const b = source[i];
      buf[at++] = b;
      h = Math.imul(h, 33) ^ b;
    }
    this.hashes[this.count++] = h >>> 0;
    if (value.length < 32) for (let i = 0; i < value.length; i++) buf[at++] = value[i];
    else {
      buf.set(value, at);
      at += value.length;
    }
    this.pendingLength = at;
  }

  /** Emits the hash tables and returns the header. */
  finishTables(): Buffer {
    this.flush();
    const spare = this.indexArrays;
    const header = cdbTables(this.hashes, this.positions, this.count, this.position, this.emit, this.emitKeepsChunk, spare?.groupedHashes, spare?.groupedPositions);
    this.hashes = new Uint32Array(0);
    this.positions = new Uint32Array(0);
    return header;
  }

  private flush(): void {
    if (this.pendingLength === 0) return;
    this.emit(this.pending.subarray(0, this.pendingLength));
    if (this.emitKeepsChunk) this.pending = Buffer.allocUnsafe(FLUSH_BYTES);
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

/**
 * The 256 hash tables of a cdb whose records (hash and position of each, in
 * record order) end at `tablesStart`: emits the tables in order and returns
 * the 2048-byte header. `groupedHashes` and `groupedPositions` are optional
 * working arrays (at least `count` long).
 */
export function cdbTables(
  hashes: Uint32Array,
  positions: Uint32Array,
  count: number,
  tablesStart: number,
  emit: (table: Buffer) => void,
  emitKeepsChunk: boolean,
  groupedHashes?: Uint32Array,
  groupedPositions?: Uint32Array,
): Buffer {
  const n = count;
  const bucketCounts = new Uint32Array(256);
  for (let i = 0; i < n; i++) bucketCounts[hashes[i] & 255]++;
  // (hash, position) grouped by bucket, insertion order kept inside each
  // bucket, so each table is then built from one sequential stretch.
  const bucketStart = new Uint32Array(257);
  for (let b = 0; b < 256; b++) bucketStart[b + 1] = bucketStart[b] + bucketCounts[b];
  const fill = bucketStart.slice(0, 256);
  const gHashes = groupedHashes && groupedHashes.length >= n ? groupedHashes : new Uint32Array(n);
  const gPositions = groupedPositions && groupedPositions.length >= n ? groupedPositions : new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const h = hashes[i];
    const at = fill[h & 255]++;
    gHashes[at] = h;
    gPositions[at] = positions[i];
  }

  const header = Buffer.alloc(CDB_HEADER_BYTES);
  let largest = 0;
  for (let b = 0; b < 256; b++) largest = Math.max(largest, bucketCounts[b]);
  // When emit is done with a chunk on return, one table buffer serves all 256 tables.
  const sharedPairs = emitKeepsChunk ? undefined : new Uint32Array(largest * 4);
  let tablePosition = tablesStart;
  for (let b = 0; b < 256; b++) {
    const slots = bucketCounts[b] * 2;
    writeUint32LE(header, b * 8, tablePosition);
    writeUint32LE(header, b * 8 + 4, slots);
    if (slots === 0) continue;
    // (hash, position) pairs, little-endian 32-bit as the format wants; position 0 marks a free slot
    // (no record starts at 0, the header is there).
    const pairs = sharedPairs ? sharedPairs.fill(0, 0, slots * 2) : new Uint32Array(slots * 2);
    for (let i = bucketStart[b], end = bucketStart[b + 1]; i < end; i++) {
      const h = gHashes[i];
      let where = (h >>> 8) % slots;
      while (pairs[where * 2 + 1] !== 0) if (++where === slots) where = 0;
      pairs[where * 2] = h;
      pairs[where * 2 + 1] = gPositions[i];
    }
    const table = Buffer.from(pairs.buffer, 0, slots * 8);
    if (!LITTLE_ENDIAN) table.swap32();
    emit(table);
    tablePosition += slots * 8;
  }
  return header;
}

/**
 * Writes bytes[0, length) at `position`, all of them. fs.writeSync makes one
 * write and returns how many bytes it took: a disk that fills up or a file
 * size limit (ulimit -f) takes only the first part, and the error comes from
 * the next write, which a single call never makes.
 */
function writeAll(fd: number, bytes: Uint8Array, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const written = fs.writeSync(fd, bytes, done, length - done, position + done);
    if (written <= 0) throw new Error(`write made no progress at byte ${position + done}`);
    done += written;
  }
}

/** Bytes appended between two early syncs of an AtomicCdbFile. */
const EARLY_SYNC_BYTES = 8 << 20;

/**
 * A file written through a temporary file beside `targetPath`, renamed into
 * place on `commit()`, so readers never see a half-written database. Bytes
 * are appended after the header, which is written last.
 *
 * commit() syncs the file before the rename, as cdbmake and tcprules do, so
 * a crash cannot leave a short cdb in place. To spare it most of the wait,
 * every EARLY_SYNC_BYTES appended start an fdatasync in the background (the
 * libuv thread pool) while the caller goes on. Those run on a descriptor of
 * their own: Linux reports a writeback error once per open file, so an error
 * one of them meets is still reported by commit's fsync on ours.
 */
export class AtomicCdbFile {
  private readonly fd: number;
  private readonly tempPath: string;
  private offset = CDB_HEADER_BYTES;
  private open = true;
  private syncFd: number | undefined;
  private syncsRunning = 0;
  private unsynced = 0;

  constructor(
    readonly targetPath: string,
    mode = 0o644,
  ) {
    const dir = path.dirname(path.resolve(targetPath));
    this.tempPath = path.join(dir, `.${path.basename(targetPath)}.${process.pid}.${Date.now()}.tmp`);
    this.fd = fs.openSync(this.tempPath, "wx", mode);
  }

  /** Appends chunk[0, length). */
  append(chunk: Uint8Array, length = chunk.length): void {
    writeAll(this.fd, chunk, length, this.offset);
    this.offset += length;
    this.unsynced += length;
    if (this.unsynced >= EARLY_SYNC_BYTES) this.syncEarly();
  }

  /** Starts writing out what is appended so far; its outcome does not matter (see the class comment). */
  private syncEarly(): void {
    this.unsynced = 0;
    if (this.syncFd === undefined) {
      try {
        this.syncFd = fs.openSync(this.tempPath, "r");
      } catch {
        return; // commit's fsync does it all then
      }
    }
    this.syncsRunning++;
    fs.fdatasync(this.syncFd, () => {
      this.syncsRunning--;
      this.closeSyncFdWhenDone();
    });
  }

  /** The early syncs' descriptor is closed once the file is and no sync runs on it. */
  private closeSyncFdWhenDone(): void {
    if (this.open || this.syncsRunning > 0 || this.syncFd === undefined) return;
    fs.close(this.syncFd, () => {});
    this.syncFd = undefined;
  }

  commit(header: Uint8Array): void {
    try {
      writeAll(this.fd, header, header.length, 0);
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      this.open = false;
      this.closeSyncFdWhenDone();
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
      this.closeSyncFdWhenDone();
    }
    fs.rmSync(this.tempPath, { force: true });
  }
}

/** Caller-owned arrays the writer may use for its index instead of allocating (reuse of big scratch arrays). */
export interface CdbIndexArrays {
  hashes: Uint32Array;
  positions: Uint32Array;
  groupedHashes?: Uint32Array;
  groupedPositions?: Uint32Array;
}

export interface CdbWriterOptions {
  /** Size limit in bytes; defaults to the format limit. Lower it only to test the limit. */
  limitBytes?: number;
  /** Number of records expected, to size the index once (a hint, not a limit). */
  expectedRecords?: number;
  /** Arrays to hold the index; their contents are overwritten. */
  indexArrays?: CdbIndexArrays;
}

/** Builds a cdb in memory. */
export class CdbBufferWriter {
  private readonly chunks: Buffer[] = [];
  private readonly encoder: CdbEncoder;

  constructor(options: CdbWriterOptions = {}) {
    this.encoder = new CdbEncoder((chunk) => this.chunks.push(chunk), true, options.limitBytes ?? CDB_MAX_BYTES, options.expectedRecords ?? 1024, options.indexArrays);
  }

  get recordCount(): number {
    return this.encoder.recordCount;
  }

  add(key: CdbBytes, value: CdbBytes): this {
    this.encoder.add(key, value);
    return this;
  }

  /** Hot-path variant: the key is source[keyStart, keyStart + keyLength). */
  addRange(source: Uint8Array, keyStart: number, keyLength: number, value: Uint8Array): void {
    this.encoder.addRange(source, keyStart, keyLength, value);
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
  private readonly file: AtomicCdbFile;
  private readonly encoder: CdbEncoder;

  constructor(
    readonly targetPath: string,
    options: CdbWriterOptions & { mode?: number } = {},
  ) {
    this.file = new AtomicCdbFile(targetPath, options.mode ?? 0o644);
    this.encoder = new CdbEncoder((chunk) => this.file.append(chunk), false, options.limitBytes ?? CDB_MAX_BYTES, options.expectedRecords ?? 1024, options.indexArrays);
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

  /** Hot-path variant: the key is source[keyStart, keyStart + keyLength). */
  addRange(source: Uint8Array, keyStart: number, keyLength: number, value: Uint8Array): void {
    try {
      this.encoder.addRange(source, keyStart, keyLength, value);
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  commit(): void {
    let header: Buffer;
    try {
      header = this.encoder.finishTables();
    } catch (err) {
      this.abort();
      throw err;
    }
    this.file.commit(header);
  }

  /** Drops the temporary file; the target is left as it was. */
  abort(): void {
    this.file.abort();
  }
}

/** Writes finished cdb bytes to `targetPath` through a temporary file and a rename. */
export function writeFileAtomically(targetPath: string, bytes: Uint8Array, mode = 0o644): void {
  const dir = path.dirname(path.resolve(targetPath));
  const tempPath = path.join(dir, `.${path.basename(targetPath)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const fd = fs.openSync(tempPath, "wx", mode);
    try {
      writeAll(fd, bytes, bytes.length, 0);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tempPath, targetPath);
  } catch (err) {
    fs.rmSync(tempPath, { force: true });
    throw err;
  }
}

/** Convenience: records in order to cdb bytes. */
export function buildCdb(records: Iterable<readonly [CdbBytes, CdbBytes]>, options?: CdbWriterOptions): Buffer {
  const writer = new CdbBufferWriter(options);
  for (const [key, value] of records) writer.add(key, value);
  return writer.toBuffer();
}
