// Offline policy math (Part 3, 23): the digest a policy session will hold after a
// sequence of assertions, and PCR arithmetic to predict future PCR values.
import { u32be } from "../../lib/bytes.ts";
import { sha1, sha256 } from "../crypto/hash.ts";
import { marshal } from "../wire.ts";
import { ALG, CC } from "./constants.ts";
import { writePcrSelections, type PcrSelection } from "./types.ts";

export class PolicyCalculator {
  digest: Uint8Array = new Uint8Array(32);

  private update(...parts: Uint8Array[]): this {
    this.digest = sha256(this.digest, ...parts);
    return this;
  }

  /** PolicyPCR over SHA-256 PCRs; `values` maps every selected PCR to the value to bind to. */
  pcr(pcrs: number[], values: Map<number, Uint8Array>, hash: number = ALG.SHA256): this {
    const sorted = [...new Set(pcrs)].sort((a, b) => a - b);
    const pcrDigest = sha256(...sorted.map((p) => {
      const v = values.get(p);
      if (!v) throw new RangeError(`no value for PCR ${p}`);
      return v;
    }));
    const sel: PcrSelection[] = [{ hash, pcrs: sorted }];
    return this.update(u32be(CC.PolicyPCR), marshal((w) => writePcrSelections(w, sel)), pcrDigest);
  }

  authValue(): this {
    return this.update(u32be(CC.PolicyAuthValue));
  }

  /** PolicyPassword leaves the same digest as PolicyAuthValue (Part 3, 23.18). */
  password(): this {
    return this.update(u32be(CC.PolicyAuthValue));
  }

  commandCode(code: number): this {
    return this.update(u32be(CC.PolicyCommandCode), u32be(code));
  }
}

export type PcrHash = "sha1" | "sha256";

export function hashFor(alg: PcrHash): (...parts: Uint8Array[]) => Uint8Array {
  return alg === "sha1" ? sha1 : sha256;
}

/** new PCR = H(old ‖ digest) */
export function extendPcr(alg: PcrHash, old: Uint8Array, digest: Uint8Array): Uint8Array {
  return hashFor(alg)(old, digest);
}

/** The value a PCR will hold after extending each digest in turn, from `start` (zero by default). */
export function predictPcr(alg: PcrHash, digests: Uint8Array[], start?: Uint8Array): Uint8Array {
  let v = start ?? new Uint8Array(alg === "sha1" ? 20 : 32);
  for (const d of digests) v = extendPcr(alg, v, d);
  return v;
}

/** Heads' `-ic string` / `-if file` measurement: the digest extended is H(data). */
export function measurement(alg: PcrHash, data: Uint8Array): Uint8Array {
  return hashFor(alg)(data);
}
