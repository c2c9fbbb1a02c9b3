// Reads a cdb held in memory: lookups as tcpserver/qmail-smtpd do them, and
// every record in file order (for tests and drift summaries).
import { cdbHash } from "./hash";
import { CDB_HEADER_BYTES, type CdbBytes } from "./writer";

export interface CdbRecord {
  key: Buffer;
  value: Buffer;
}

export class CdbFormatError extends Error {
  constructor(message: string) {
    super(`not a valid cdb: ${message}`);
    this.name = "CdbFormatError";
  }
}

export class CdbReader {
  private readonly recordsEnd: number;

  constructor(private readonly data: Buffer) {
    if (data.length < CDB_HEADER_BYTES) throw new CdbFormatError(`${data.length} bytes, shorter than the 2048-byte header`);
    // Tables are written after all records, table 0 first.
    this.recordsEnd = data.readUInt32LE(0);
    if (this.recordsEnd < CDB_HEADER_BYTES || this.recordsEnd > data.length) {
      throw new CdbFormatError(`table 0 starts at ${this.recordsEnd}, outside the file`);
    }
  }

  /** The first value stored under `key`, as a lookup by the qmail tools sees it. */
  get(key: CdbBytes): Buffer | undefined {
    for (const value of this.values(key)) return value;
    return undefined;
  }

  /** Every value stored under `key`, in insertion order. */
  getAll(key: CdbBytes): Buffer[] {
    return [...this.values(key)];
  }

  *values(key: CdbBytes): Generator<Buffer> {
    const keyBytes = typeof key === "string" ? Buffer.from(key, "utf8") : Buffer.from(key.buffer, key.byteOffset, key.length);
    const h = cdbHash(keyBytes);
    const bucket = (h & 255) * 8;
    const tablePosition = this.data.readUInt32LE(bucket);
    const slots = this.data.readUInt32LE(bucket + 4);
    if (slots === 0) return;
    let slot = (h >>> 8) % slots;
    for (let probes = 0; probes < slots; probes++) {
      const at = tablePosition + slot * 8;
      const slotHash = this.data.readUInt32LE(at);
      const recordPosition = this.data.readUInt32LE(at + 4);
      if (recordPosition === 0) return;
      if (slotHash === h) {
        const record = this.recordAt(recordPosition);
        if (record.key.equals(keyBytes)) yield record.value;
      }
      if (++slot === slots) slot = 0;
    }
  }

  /** All records in file (insertion) order. */
  *records(): Generator<CdbRecord> {
    let position = CDB_HEADER_BYTES;
    while (position < this.recordsEnd) {
      const record = this.recordAt(position);
      yield record;
      position += 8 + record.key.length + record.value.length;
    }
  }

  get recordCount(): number {
    let count = 0;
    let position = CDB_HEADER_BYTES;
    while (position < this.recordsEnd) {
      count++;
      position += 8 + this.data.readUInt32LE(position) + this.data.readUInt32LE(position + 4);
    }
    return count;
  }

  private recordAt(position: number): CdbRecord {
    if (position + 8 > this.data.length) throw new CdbFormatError(`record at ${position} runs past the end`);
    const keyLength = this.data.readUInt32LE(position);
    const valueLength = this.data.readUInt32LE(position + 4);
    const keyStart = position + 8;
    const valueEnd = keyStart + keyLength + valueLength;
    if (valueEnd > this.data.length) throw new CdbFormatError(`record at ${position} runs past the end`);
    return {
      key: this.data.subarray(keyStart, keyStart + keyLength),
      value: this.data.subarray(keyStart + keyLength, valueEnd),
    };
  }
}
