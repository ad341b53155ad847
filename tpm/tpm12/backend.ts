// The Tpm face on TPM 1.2: enough to show and extend PCRs (SHA-1). Sealing, counters and
// ownership on 1.2 (OIAP/OSAP, TPM_Seal, NV) are not implemented yet and say so.
import { ascii } from "../bytes.ts";
import { TpmArgumentError, TpmNotSupportedError } from "../errors.ts";
import type { Tpm, TpmInfo } from "../face.ts";
import { sha1 } from "../crypto/hash.ts";
import { bytesOf } from "../tpm2/backend.ts";
import type { Tpm12Commands } from "./commands.ts";

export class Tpm12Backend implements Tpm {
  readonly version = "1.2" as const;
  readonly pcrSize = 20;

  constructor(readonly cmd: Tpm12Commands) {}

  async info(): Promise<TpmInfo> {
    const v = await this.cmd.version();
    return {
      version: "1.2",
      manufacturer: ascii(v.vendorId),
      firmware: `${v.revMajor}.${v.revMinor}`,
    };
  }

  async pcrRead(indices: number[]): Promise<Map<number, Uint8Array>> {
    const out = new Map<number, Uint8Array>();
    for (const i of [...new Set(indices)].sort((a, b) => a - b)) {
      checkPcr(i);
      out.set(i, await this.cmd.pcrRead(i));
    }
    return out;
  }

  extend(index: number, data: string | Uint8Array): Promise<Uint8Array> {
    return this.extendDigest(index, sha1(bytesOf(data)));
  }

  async extendDigest(index: number, digest: Uint8Array): Promise<Uint8Array> {
    checkPcr(index);
    if (digest.length !== 20) throw new TpmArgumentError(`a SHA-1 digest has 20 bytes, not ${digest.length}`);
    return this.cmd.extend(index, digest);
  }

  async shutdown(): Promise<void> {
    await this.cmd.saveState();
  }

  close(): void {
    this.cmd.transport.close?.();
  }

  seal = notYet("seal");
  unseal = notYet("unseal");
  destroy = notYet("destroy");
  counterCreate = notYet("counter create");
  counterRead = notYet("counter read");
  counterIncrement = notYet("counter increment");
  counters = notYet("counter list");
  slotInUse = notYet("NV index lookup");
  nvDefine = notYet("NV define");
  nvRead = notYet("NV read");
  nvWrite = notYet("NV write");
  nvUndefine = notYet("NV undefine");
  reset = notYet("reset");
  finalize = async (): Promise<void> => {
    // Heads' kexec_finalize is a no-op on TPM 1.2 too.
  };
}

function notYet(what: string): () => Promise<never> {
  return () => Promise.reject(new TpmNotSupportedError(`${what} is not supported on TPM 1.2 yet`));
}

function checkPcr(i: number): void {
  if (!Number.isInteger(i) || i < 0 || i > 23) throw new TpmArgumentError(`PCR ${i} is out of range 0-23`);
}
