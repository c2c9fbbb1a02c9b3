// What a CLI command writes to stdout and stderr during each test, captured
// instead of printed.
import { afterEach, beforeEach, vi } from "vitest";

export interface CapturedOutput {
  stdout: string;
  stderr: string;
}

/** Call at the top of a test file; the returned object holds the current test's output. */
export function captureOutput(): CapturedOutput {
  const output: CapturedOutput = { stdout: "", stderr: "" };
  beforeEach(() => {
    output.stdout = output.stderr = "";
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => ((output.stdout += String(chunk)), true));
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => ((output.stderr += String(chunk)), true));
  });
  afterEach(() => vi.restoreAllMocks());
  return output;
}
