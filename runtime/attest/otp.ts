// The codes: RFC 6238 TOTP (HMAC-SHA1, 30 s, 6 digits) and RFC 4226 HOTP, as tpmtotp's
// `totp` and `hotp` compute them from the same 20-byte secret.
import { generateSync } from "otplib";

export const TOTP_PERIOD_S = 30;
export const OTP_DIGITS = 6;

export class OtpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OtpError";
  }
}

export interface TotpCode {
  code: string;
  /** ms since the epoch when this code stops being valid (the header counts down to it). */
  expiresAt: number;
  secondsLeft: number;
}

function checkSecret(secret: Uint8Array): void {
  if (secret.length === 0) throw new OtpError("the OTP secret is empty");
}

export function totpCode(secret: Uint8Array, nowMs: number): TotpCode {
  checkSecret(secret);
  if (!Number.isFinite(nowMs) || nowMs < 0) throw new OtpError(`${nowMs} is not a time after 1970`);
  const epoch = Math.floor(nowMs / 1000);
  const code = generateSync({ strategy: "totp", secret, epoch, digits: OTP_DIGITS, algorithm: "sha1", period: TOTP_PERIOD_S });
  const expiresAt = (Math.floor(epoch / TOTP_PERIOD_S) + 1) * TOTP_PERIOD_S * 1000;
  return { code, expiresAt, secondsLeft: Math.ceil((expiresAt - nowMs) / 1000) };
}

export function hotpCode(secret: Uint8Array, counter: number): string {
  checkSecret(secret);
  if (!Number.isSafeInteger(counter) || counter < 0) throw new OtpError(`${counter} is not a HOTP counter (a whole number ≥ 0)`);
  return generateSync({ strategy: "hotp", secret, counter, digits: OTP_DIGITS, algorithm: "sha1" });
}
