// The one value kexec accepts. Only verify.ts can make it: the constructor demands a token
// that this module hands out to verify.ts alone (through a function not re-exported by the
// boot index), so no other code can construct a VerifiedBoot from parts. `instanceof` alone
// would not do: Object.create(VerifiedBoot.prototype) passes it, so genuine values are also
// remembered in a WeakSet that only the constructor adds to.
import type { BootEntry } from "../entries/index.ts";

const token: unique symbol = Symbol("VerifiedBoot");
let handedOut = false;
const genuine = new WeakSet<object>();

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
  readonly #hashes: Map<string, string>;
  readonly #lists: Map<string, string>;
  constructor(
    key: typeof token,
    fields: { bootDir: string; entries: BootEntry[]; defaultChoice: DefaultChoice | null; signer: string; counter: bigint | null; hashes: Map<string, string>; lists: Map<string, string>; clockWarning: string | null },
  ) {
    if (key !== token) throw new Error("only the /boot verifier can make a VerifiedBoot");
    this.bootDir = fields.bootDir;
    this.entries = Object.freeze(fields.entries.map(deepFreeze));
    this.defaultChoice = fields.defaultChoice ? Object.freeze({ index: fields.defaultChoice.index, entry: this.entries[fields.defaultChoice.index - 1]! }) : null;
    this.signer = fields.signer;
    this.counter = fields.counter;
    this.#hashes = new Map(fields.hashes);
    this.#lists = new Map(fields.lists);
    this.clockWarning = fields.clockWarning;
    Object.freeze(this);
    genuine.add(this);
  }

  /** The signed kexec_hashes.txt digest of "./path", the only bytes of it that may be loaded. */
  digestOf(path: string): string | undefined {
    return this.#hashes.get(path);
  }

  /** A signed kexec*.txt as it was verified (kexec_key_devices.txt, kexec_lukshdr_hash.txt …), or undefined when the set has none. */
  signedList(name: string): string | undefined {
    return this.#lists.get(name);
  }
}

/** True only for a VerifiedBoot the verifier made. */
export function isVerifiedBoot(v: unknown): v is VerifiedBoot {
  return typeof v === "object" && v !== null && genuine.has(v);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
