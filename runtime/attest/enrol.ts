// What the user scans: Heads builds `otpauth://totp/$BOARD_NAME?secret=$(base32 < secret)`
// and nothing more (no issuer, no algorithm/digits/period: the defaults are SHA-1/6/30).
// Heads pastes the board name raw; bootward percent-encodes what a URL path may not hold,
// which leaves the usual names (qemu-coreboot-fbwhiptail-tpm2, x230-hotp-maximized) unchanged.
import { base32Encode } from "./base32.ts";

export interface Enrolment {
  url: string;
  /** The secret as the user would type it into an app, in groups of four for reading off a screen. */
  base32: string;
  grouped: string;
  label: string;
}

/** seal-totp.sh's default when no name is given. */
export const DEFAULT_LABEL = "TPMTOTP";

export function encodeLabel(name: string): string {
  return Array.from(new TextEncoder().encode(name), (b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9\-._~]/.test(c) ? c : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }).join("");
}

export function enrolment(secret: Uint8Array, boardName?: string): Enrolment {
  const label = boardName && boardName.length ? boardName : DEFAULT_LABEL;
  const base32 = base32Encode(secret);
  return {
    url: `otpauth://totp/${encodeLabel(label)}?secret=${base32}`,
    base32,
    grouped: base32.replace(/=+$/, "").replace(/(.{4})(?=.)/g, "$1 "),
    label,
  };
}

/** The enrolment screen for ui's showQr: the QR of the URL, the base32 text under it, and the two usual causes of a mismatch. */
export function enrolmentScreen(e: Enrolment, nowMs: number): { title: string; text: string; payload: string } {
  return {
    title: "Scan the TOTP secret with your phone's authenticator app",
    text: [
      `Or type this secret: ${e.grouped}`,
      `Account name: ${e.label}. Codes: 6 digits, every 30 s, SHA-1.`,
      `This machine's clock: ${new Date(nowMs).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC")}. A wrong clock or changed firmware are the usual causes of codes that do not match.`,
    ].join("\n"),
    payload: e.url,
  };
}
