// A secret string: plain text (as the Pulumi program sees it, decrypted), or
// the `{ secure: "v1:..." }` object a stack file stores, which the CLI treats
// as present but opaque.
import { z } from "zod";

export const encryptedSecret = z.strictObject({
  secure: z.string().min(1, { message: "secure must hold the encrypted value written by `pulumi config set --secret`" }),
});

export const secretString = (what: string) =>
  z.union([z.string().min(1, { message: `${what} must not be empty` }), encryptedSecret], {
    error: `${what} must be a string or a Pulumi secret ({ secure: "v1:..." })`,
  });

export type SecretString = z.output<ReturnType<typeof secretString>>;

/** True when the value is still encrypted (read from a stack file, not through Pulumi). */
export function isOpaqueSecret(value: SecretString | undefined): value is { secure: string } {
  return typeof value === "object" && value !== null;
}
