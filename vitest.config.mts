import { defineConfig } from "vitest/config";

// Two suites: `unit` (pure code and Pulumi-mock component tests, seconds) and
// `e2e` (the real Pulumi engine against sandbox mailhubs, minutes, one file at a time).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts", "test/component/**/*.test.ts"],
          setupFiles: ["test/unit-scratch-dir.ts"],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          fileParallelism: false,
          maxWorkers: 1,
        },
      },
    ],
  },
});
