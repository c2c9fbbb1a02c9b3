// Presets a service starts from. A preset gives defaults only: every field
// the service (fleet-wide or per host) sets wins over it.

export const PRESET_NAMES = ["mx", "submission", "smtps"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface Preset {
  summary: string;
  /** Raw service fields, in the same camelCase shape as the config. */
  fields: Record<string, unknown>;
}

export const PRESETS: Readonly<Record<PresetName, Preset>> = {
  mx: {
    summary: "Incoming mail from the world on port 25; no AUTH required.",
    fields: { port: 25 },
  },
  submission: {
    summary: "Mail from your users on port 587: STARTTLS forced, AUTH required (set auth.method and certificateFile).",
    fields: { port: 587, forceTls: true, auth: { require: true } },
  },
  smtps: {
    summary: "Mail from your users on port 465, SSL-wrapped by sslserver, AUTH required (set auth.method and certificateFile).",
    fields: { port: 465, ssl: true, auth: { require: true } },
  },
};
