// qmail-fleet as a library: the components a Pulumi program composes, their
// Args and outputs. `require("qmail-fleet")` gives this module (package.json
// `exports`); the engine finds the qmail provider plugin through the program's
// Pulumi.yaml: `plugins: { providers: [{ name: qmail, path: <this package>/provider }] }`.
export { AuthCdb, type AuthCdbArgs, type AuthUserInput } from "./auth-cdb";
export { Fleet, type FleetArgs, type FleetOptions } from "./fleet";
export { Mailhub, type MailhubArgs, type MailhubConnection, type MailhubSummary, type PlannedMailhub } from "./mailhub";
export type { AuthUser, MailhubDirectories, SmtpServiceOptions, TcpRule } from "./options";
export type { PlannedFile } from "./planned-file";
export { QmailProvider, type QmailProviderArgs } from "./qmail-provider";
export { SmtpService, type SmtpServiceArgs } from "./smtp-service";
export { SslKeyFile, type SslKeyFileArgs } from "./ssl-key-file";
export { TcpRulesCdb, type TcpRulesCdbArgs } from "./tcp-rules-cdb";
export { ValidRcptToCdb, type ValidRcptToCdbArgs } from "./valid-rcpt-to-cdb";
export type { RolloutSettings } from "../provider/types";
