// A USB security dongle that checks HOTP codes (the green light). Drivers map a tool's
// answers onto these results; the menus only see the results.
import type { Sys } from "../../host/sys.ts";
import { base32Encode } from "../base32.ts";

/** Heads' wording in the status header, from the tool's exit code. */
export type HotpResult =
  | "Success"
  | "Invalid code"
  | "HOTP slot not configured"
  | "Dongle not found"
  | "Wrong PIN"
  | "Unsupported dongle"
  | "Error";

export interface DongleAnswer {
  result: HotpResult;
  /** The tool's exit status, for logs. */
  status: number;
  /** Transient (connection lost, other error): Heads retries up to three times. */
  retry: boolean;
  detail: string;
}

export interface DongleInfo {
  present: boolean;
  text: string;
}

export interface Dongle {
  readonly name: string;
  info(): Promise<DongleInfo>;
  /** Send a 6-digit code; the dongle compares it with its own counter window. */
  check(code: string): Promise<DongleAnswer>;
  /** Program the secret (Admin PIN) with the counter the dongle should expect next. */
  program(secret: Uint8Array, adminPin: Uint8Array, counter: number): Promise<DongleAnswer>;
}

/** hotp_verification's exit codes (nitrokey-hotp-verification). */
export const EXIT = { OK: 0, CONNECT: 1, WRONG_PIN: 2, OTHER: 3, INVALID_CODE: 4, UNSUPPORTED: 5, SLOT_EMPTY: 6, BAD_FORMAT: 7, CONNECTION_LOST: 8, PARAMS: 100 } as const;

export function answerFor(status: number, detail: string): DongleAnswer {
  const a = (result: HotpResult, retry = false): DongleAnswer => ({ result, status, retry, detail });
  switch (status) {
    case EXIT.OK: return a("Success");
    case EXIT.INVALID_CODE:
    case EXIT.BAD_FORMAT: return a("Invalid code");
    case EXIT.SLOT_EMPTY: return a("HOTP slot not configured");
    case EXIT.CONNECT: return a("Dongle not found", true);
    case EXIT.WRONG_PIN: return a("Wrong PIN");
    case EXIT.UNSUPPORTED: return a("Unsupported dongle");
    case EXIT.CONNECTION_LOST:
    case EXIT.OTHER: return a("Error", true);
    default: return a("Error");
  }
}

/**
 * Nitrokey's hotp_verification (Nitrokey Pro/Storage/3, Librem Key), run with argv only.
 * `tool` is the argv prefix of the tool, so the simulated dongle can stand in for it.
 */
export class HotpVerificationDongle implements Dongle {
  readonly name: string;

  constructor(
    private readonly sys: Sys,
    private readonly tool: string[] = ["hotp_verification"],
    name = "HOTP USB Security Dongle",
  ) {
    this.name = name;
  }

  private async run(args: string[]): Promise<{ status: number; text: string }> {
    const r = await this.sys.exec([...this.tool, ...args]);
    const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
    return { status: r.status, text: text.trim() };
  }

  async info(): Promise<DongleInfo> {
    const r = await this.run(["info"]);
    return { present: r.status === EXIT.OK, text: r.text };
  }

  async check(code: string): Promise<DongleAnswer> {
    if (!/^\d{6}$/.test(code)) return answerFor(EXIT.BAD_FORMAT, `"${code}" is not a 6-digit code`);
    const r = await this.run(["check", code]);
    return answerFor(r.status, r.text);
  }

  async program(secret: Uint8Array, adminPin: Uint8Array, counter: number): Promise<DongleAnswer> {
    // The PIN and secret travel on argv as the tool demands; in the firmware nobody else is running to read /proc.
    const r = await this.run(["set", base32Encode(secret), new TextDecoder().decode(adminPin), String(counter)]);
    return answerFor(r.status, r.text);
  }
}
