// @pulumi/pulumi logs every RegisterResource response at debug level, whole,
// secrets included in plain text (the qmail provider's SSH key, for one), and
// `pulumi up --debug` or `-v=5` and above print those lines. Loading this
// module replaces the body of any debug message that carries a secret.
import { SECRET_SIGNATURE } from "../provider/properties";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sdkLog = require("@pulumi/pulumi/log") as { debug: (message: string, ...rest: unknown[]) => Promise<void> };

export function redactSecretBearing(message: string): string {
  if (!message.includes(SECRET_SIGNATURE)) return message;
  const cut = message.indexOf("resp: ");
  return `${cut >= 0 ? message.slice(0, cut + "resp: ".length) : ""}[not logged: it carries secret values]`;
}

const original = sdkLog.debug;
if (!(original as { redacting?: boolean }).redacting) {
  const redacting = (message: string, ...rest: unknown[]) => original(redactSecretBearing(String(message)), ...rest);
  (redacting as { redacting?: boolean }).redacting = true;
  sdkLog.debug = redacting;
}
