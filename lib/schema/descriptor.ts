// An option descriptor is the single place an option of the seed is defined:
// its zod type (with default and range), what it becomes in the run script,
// and a one-line doc. The zod schema and the renderer are both derived from
// the tables built with `option()`, so a new option is one entry in one table.
import { z } from "zod";

/** Programs of the exec chain whose command-line flags options can become. */
export type FlagProgram = "tcpserver" | "rblsmtpd" | "multilog";

/** What an option turns into in the generated scripts. */
export type Becomes<V> =
  /** An exported environment variable. Booleans export `NAME=1` when true and nothing when false. */
  | { env: string; exports?: (value: V) => Array<[name: string, value: string]> }
  /** A flag of one program of the chain. Booleans give `flag` when true, `flagWhenFalse` when false. */
  | { flag: string; flagWhenFalse?: string; program: FlagProgram }
  /** Shapes the script some other way (the chain, a path); the text says how. */
  | { script: string };

export interface OptionDescriptor<S extends z.ZodType = z.ZodType> {
  /** The zod type, carrying the default (`.default()`) or `.optional()`. */
  schema: S;
  /** One line for humans: what the option does and its default. */
  doc: string;
  becomes: Becomes<NonNullable<z.output<S>>>;
  /** A valid, non-default value: the table-driven tests set it and expect the output to change. */
  sample: z.input<S>;
  /** Other fields (of the raw service) the sample needs to be valid and visible, e.g. an AUTH method. */
  sampleContext?: Record<string, unknown>;
}

export function option<S extends z.ZodType>(descriptor: OptionDescriptor<S>): OptionDescriptor<S> {
  return descriptor;
}

export type OptionTable = Record<string, OptionDescriptor<any>>;

/** The zod shape of a table: `{ key: descriptor.schema }`, keeping each field's type. */
export type ShapeOf<T extends OptionTable> = { [K in keyof T]: T[K]["schema"] };

export function shapeOf<T extends OptionTable>(table: T): ShapeOf<T> {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, descriptor] of Object.entries(table)) shape[key] = descriptor.schema;
  return shape as ShapeOf<T>;
}
