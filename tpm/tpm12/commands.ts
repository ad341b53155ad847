// The TPM 1.2 commands bootward needs to show and extend PCRs (the qemu-tpm1 board).
// Sealing on 1.2 (OSAP, TPM_Seal, NV) is not implemented yet.
import { TpmFormatError } from "../errors.ts";
import type { Transport } from "../transport/transport.ts";
import { Reader, Writer, marshal } from "../wire.ts";
import { responseError } from "../tpm2/rc.ts";
import { ORD, TPM_CAP_PROPERTY, TPM_CAP_PROP_MANUFACTURER, TPM_CAP_PROP_PCR, TPM_CAP_VERSION_VAL, TPM_RETRY, TPM_TAG_RQU_COMMAND, TPM_TAG_RSP_COMMAND, ordinalName } from "./constants.ts";

export interface VersionInfo {
  major: number;
  minor: number;
  revMajor: number;
  revMinor: number;
  specLevel: number;
  errataRev: number;
  vendorId: Uint8Array;
}

export class Tpm12Commands {
  constructor(readonly transport: Transport) {}

  async run(ordinal: number, params: Uint8Array = new Uint8Array(0)): Promise<Reader> {
    const w = new Writer();
    w.u16(TPM_TAG_RQU_COMMAND).u32(10 + params.length).u32(ordinal).bytes(params);
    const bytes = w.finish();
    const name = ordinalName(ordinal);
    for (let attempt = 0; ; attempt++) {
      const response = await this.transport.send(bytes);
      const r = new Reader(response, `${name} response`);
      const tag = r.u16();
      const size = r.u32();
      const rc = r.u32();
      if (size !== response.length) throw new TpmFormatError(`${name}: response size field ${size} differs from the ${response.length} bytes received`);
      if (rc === TPM_RETRY && attempt < 64) continue;
      if (rc !== 0) throw responseError(name, rc);
      if (tag !== TPM_TAG_RSP_COMMAND) throw new TpmFormatError(`${name}: response tag 0x${tag.toString(16)} is not TPM_TAG_RSP_COMMAND`);
      return r;
    }
  }

  async startup(type: number): Promise<void> {
    (await this.run(ORD.Startup, marshal((w) => w.u16(type)))).end();
  }

  async saveState(): Promise<void> {
    (await this.run(ORD.SaveState)).end();
  }

  private async capability(area: number, sub: Uint8Array): Promise<Reader> {
    const r = await this.run(ORD.GetCapability, marshal((w) => w.u32(area).sized32(sub)));
    const data = r.sized32(4096);
    r.end();
    return new Reader(data, "TPM_GetCapability data");
  }

  async manufacturer(): Promise<Uint8Array> {
    const r = await this.capability(TPM_CAP_PROPERTY, marshal((w) => w.u32(TPM_CAP_PROP_MANUFACTURER)));
    return r.bytes(4);
  }

  async pcrCount(): Promise<number> {
    const r = await this.capability(TPM_CAP_PROPERTY, marshal((w) => w.u32(TPM_CAP_PROP_PCR)));
    return r.u32();
  }

  async version(): Promise<VersionInfo> {
    const r = await this.capability(TPM_CAP_VERSION_VAL, new Uint8Array(0));
    const tag = r.u16();
    if (tag !== 0x0030) throw new TpmFormatError(`TPM_CAP_VERSION_INFO has tag 0x${tag.toString(16)}`);
    const info = { major: r.u8(), minor: r.u8(), revMajor: r.u8(), revMinor: r.u8(), specLevel: r.u16(), errataRev: r.u8(), vendorId: r.bytes(4) };
    r.sized(256);
    return info;
  }

  async pcrRead(index: number): Promise<Uint8Array> {
    const r = await this.run(ORD.PCRRead, marshal((w) => w.u32(index)));
    const d = r.bytes(20);
    r.end();
    return d;
  }

  async extend(index: number, digest: Uint8Array): Promise<Uint8Array> {
    const r = await this.run(ORD.Extend, marshal((w) => w.u32(index).bytes(digest)));
    const d = r.bytes(20);
    r.end();
    return d;
  }
}
