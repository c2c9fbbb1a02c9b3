// The WebAssembly module that does the byte work of a validrcptto.cdb build,
// with typed access to its exports and memory. One instance per build: its
// memory is dropped with it. The module, lib/cdb/validrcptto.wasm, is
// committed: `npm run build:kernel` compiles it from assembly/validrcptto.ts
// (AssemblyScript, a development dependency), and a unit test checks that
// the committed bytes are what the source compiles to. An install with
// production dependencies only needs no compiler for it.
import * as fs from "node:fs";
import * as path from "node:path";

// The part of Node's WebAssembly API used here (TypeScript declares it only in the DOM library).
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: object);
    readonly exports: unknown;
  }
  interface Memory {
    readonly buffer: ArrayBuffer;
  }
  interface Global {
    value: number;
  }
}

export enum KernelStatus {
  Done = 0,
  /** The line at `cursor` is not a plain entry; it ends at `lineEnd`. */
  OddLine = 1,
  OutOfOrder = 2,
  /** In order: the key at keyStart repeats the one before with the other verdict. */
  Conflict = 3,
  /** The output region is full: write it out, call outputWritten(), go on. */
  OutputFull = 4,
  TooLarge = 5,
  NoMemory = 6,
  /** Listing: the key at keyStart is on line lineNumber; parse goes on from `cursor`. */
  Listed = 7,
}

interface KernelExports {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  parse(start: number, end: number): number;
  fileKey(start: number, length: number, flag: number, hash: number, line: number): number;
  startRecords(records: number, chunkBytes: number): number;
  outputWritten(): void;
  startInOrder(): number;
  startListing(): void;
  startBuckets(splitters: number, boundaries: number): number;
  bucketKeys(): number;
  startWriting(): number;
  writeBucket(bucket: number): number;
  startTables(): number;
  writeTable(table: number): void;
  cursor: WebAssembly.Global;
  lineEnd: WebAssembly.Global;
  lineNumber: WebAssembly.Global;
  keyStart: WebAssembly.Global;
  keyLength: WebAssembly.Global;
  keyFlag: WebAssembly.Global;
  outputStart: WebAssembly.Global;
  outputAt: WebAssembly.Global;
  count: WebAssembly.Global;
  previousLine: WebAssembly.Global;
  previousFlag: WebAssembly.Global;
  conflicts: WebAssembly.Global;
  conflictCount: WebAssembly.Global;
  header: WebAssembly.Global;
}

const WASM_FILE = path.join("lib", "cdb", "validrcptto.wasm");

/** The package root: the nearest directory above this module with a package.json (from lib/cdb, or from dist/lib/cdb when built). */
function packageRoot(): string {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
  }
  throw new Error(`no package.json above ${__dirname}`);
}

let compiled: WebAssembly.Module | undefined;

function kernelModule(): WebAssembly.Module {
  if (compiled === undefined) {
    const file = path.join(packageRoot(), WASM_FILE);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (err) {
      throw new Error(`${file} cannot be read (${(err as Error).message}); it is part of the repository: check out lib/cdb/ again`);
    }
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

// Addresses and counts are unsigned 32-bit in the module; WebAssembly hands them to JavaScript as signed.
const u32 = (value: number) => value >>> 0;

export class ValidRcptToKernel {
  private readonly kernel: KernelExports;
  private view: Buffer;

  constructor() {
    this.kernel = new WebAssembly.Instance(kernelModule(), {}).exports as unknown as KernelExports;
    this.view = Buffer.from(this.kernel.memory.buffer);
    checkStatusNumbers(this.kernel as unknown as Record<string, WebAssembly.Global>);
  }

  /** The module's memory; a new view after any call that may have grown it. */
  get bytes(): Buffer {
    if (this.view.buffer !== this.kernel.memory.buffer) this.view = Buffer.from(this.kernel.memory.buffer);
    return this.view;
  }

  /** `bytes` of the module's memory, for the caller to fill. */
  alloc(bytes: number): number {
    const at = u32(this.kernel.alloc(bytes));
    if (at === 0) throw new KernelOutOfMemory();
    return at;
  }

  parse(start: number, end: number): KernelStatus {
    return this.kernel.parse(start, end);
  }

  fileKey(start: number, length: number, flag: number, hash: number, line: number): KernelStatus {
    return this.kernel.fileKey(start, length, flag, hash, line);
  }

  startRecords(records: number, chunkBytes: number): void {
    expectDone(this.kernel.startRecords(records, chunkBytes));
  }

  outputWritten(): void {
    this.kernel.outputWritten();
  }

  startInOrder(): void {
    expectDone(this.kernel.startInOrder());
  }

  startListing(): void {
    this.kernel.startListing();
  }

  /** Buckets bounded by `splitters` (three big-endian words per boundary, see key-buckets.ts). */
  startBuckets(splitters: Uint32Array): void {
    const at = this.alloc(splitters.byteLength);
    this.bytes.set(new Uint8Array(splitters.buffer, splitters.byteOffset, splitters.byteLength), at);
    expectDone(this.kernel.startBuckets(at, splitters.length / 3));
  }

  get bucketKeys(): number {
    return u32(this.kernel.bucketKeys());
  }

  startWriting(): void {
    expectDone(this.kernel.startWriting());
  }

  writeBucket(bucket: number): KernelStatus {
    return this.kernel.writeBucket(bucket);
  }

  startTables(): void {
    expectDone(this.kernel.startTables());
  }

  writeTable(table: number): void {
    this.kernel.writeTable(table);
  }

  set lineNumber(line: number) {
    this.kernel.lineNumber.value = line;
  }

  get lineNumber(): number {
    return u32(this.kernel.lineNumber.value);
  }

  get cursor(): number {
    return u32(this.kernel.cursor.value);
  }

  get lineEnd(): number {
    return u32(this.kernel.lineEnd.value);
  }

  /** The key of the last Conflict or Listed: its bytes are bytes[start, end). */
  get key(): { start: number; end: number; flag: number } {
    const start = u32(this.kernel.keyStart.value);
    return { start, end: start + u32(this.kernel.keyLength.value), flag: this.kernel.keyFlag.value };
  }

  /** At a Conflict: the line and flag of the earlier key it repeats. */
  get earlier(): { line: number; flag: number } {
    return { line: u32(this.kernel.previousLine.value), flag: this.kernel.previousFlag.value };
  }

  /** The records (or table) laid out since the last outputWritten(). */
  get output(): Buffer {
    return this.bytes.subarray(u32(this.kernel.outputStart.value), u32(this.kernel.outputAt.value));
  }

  get recordCount(): number {
    return u32(this.kernel.count.value);
  }

  /** Keys both accepted and rejected that writeBucket() met (up to 20). */
  get conflictingKeys(): Buffer[] {
    const bytes = this.bytes;
    const list = u32(this.kernel.conflicts.value);
    return Array.from({ length: u32(this.kernel.conflictCount.value) }, (_, i) => {
      const key = bytes.readUInt32LE(list + 8 * i);
      return Buffer.from(bytes.subarray(key, key + bytes.readUInt32LE(list + 8 * i + 4)));
    });
  }

  /** The cdb header, once every table is written. */
  get header(): Buffer {
    const at = u32(this.kernel.header.value);
    return Buffer.from(this.bytes.subarray(at, at + 2048));
  }
}

/** The module exports its status numbers (DONE, ODD_LINE, ...): KernelStatus must give each the same. */
const STATUS_EXPORTS: Array<[string, KernelStatus]> = [
  ["DONE", KernelStatus.Done],
  ["ODD_LINE", KernelStatus.OddLine],
  ["OUT_OF_ORDER", KernelStatus.OutOfOrder],
  ["CONFLICT", KernelStatus.Conflict],
  ["OUTPUT_FULL", KernelStatus.OutputFull],
  ["TOO_LARGE", KernelStatus.TooLarge],
  ["NO_MEMORY", KernelStatus.NoMemory],
  ["LISTED", KernelStatus.Listed],
];

function checkStatusNumbers(exports: Record<string, WebAssembly.Global>): void {
  for (const [name, status] of STATUS_EXPORTS) {
    if (exports[name]?.value !== status) throw new Error(`lib/cdb/validrcptto.wasm does not match validrcptto-kernel.ts (status ${name}); run npm run build:kernel`);
  }
}

export class KernelOutOfMemory extends Error {
  constructor() {
    super("validrcptto: out of memory (the WebAssembly build is limited to 4 GiB); split the list into smaller files");
    this.name = "KernelOutOfMemory";
  }
}

function expectDone(status: KernelStatus): void {
  if (status === KernelStatus.NoMemory) throw new KernelOutOfMemory();
  if (status !== KernelStatus.Done) throw new Error(`validrcptto kernel: unexpected status ${status}`);
}
