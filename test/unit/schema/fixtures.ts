// Small builders shared by the schema, config and render tests.
import { parseFleetConfig, type FleetConfig } from "../../../lib/config";

export const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM";

/** A one-host config map around the given services. */
export function fleetWith(services: Array<Record<string, unknown>>, host: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hosts: [{ name: "mx1", address: "192.0.2.10", ssh: { hostKey: HOST_KEY }, services, ...host }],
  };
}

export function mustParse(raw: Record<string, unknown>): { config: FleetConfig; warnings: string[] } {
  const result = parseFleetConfig(raw);
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.errors.map((e) => `${e.path}: ${e.message}`).join("\n")}`);
  return { config: result.config, warnings: result.warnings.map((w) => `${w.path}: ${w.message}`) };
}

export function mustFail(raw: Record<string, unknown>): string[] {
  const result = parseFleetConfig(raw);
  if (result.ok) throw new Error("expected the config to be refused");
  return result.errors.map((e) => `${e.path}: ${e.message}`);
}
