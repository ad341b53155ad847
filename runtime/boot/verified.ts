// The one value kexec accepts. Only verify.ts can make it: the constructor demands a token
// that this module hands out to verify.ts alone (through a function not re-exported by the
// boot index), so no other code can construct a VerifiedBoot from parts.
import type { BootEntry } from "./entries/index.ts";

const token: unique symbol = Symbol("VerifiedBoot");
let handedOut = false;

/** Called once, by verify.ts at load time. */
export function verifierToken(): typeof token {
  if (handedOut) throw new Error("the VerifiedBoot token was already taken");
  handedOut = true;
  return token;
}

export interface DefaultChoice {
  /** 1-based index in the menu, the N of kexec_default.N.txt. */
  index: number;
  entry: BootEntry;
}

export class VerifiedBoot {
  readonly bootDir: string;
  readonly entries: readonly BootEntry[];
  readonly defaultChoice: DefaultChoice | null;
  readonly signer: string;
  readonly counter: bigint | null;
  /** The signature is dated after the firmware clock (within the tolerance): tell the user the clock is behind. */
  readonly clockWarning: string | null;
  constructor(
    key: typeof token,
    fields: { bootDir: string; entries: BootEntry[]; defaultChoice: DefaultChoice | null; signer: string; counter: bigint | null; clockWarning: string | null },
  ) {
    if (key !== token) throw new Error("only the /boot verifier can make a VerifiedBoot");
    this.bootDir = fields.bootDir;
    this.entries = Object.freeze(fields.entries.slice());
    this.defaultChoice = fields.defaultChoice;
    this.signer = fields.signer;
    this.counter = fields.counter;
    this.clockWarning = fields.clockWarning;
    Object.freeze(this);
  }
}
