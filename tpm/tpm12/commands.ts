// The TPM 1.2 commands bootward uses (Part 3), each one marshalled, authorized and its answer
// checked: a response must carry the tag its sessions imply and a resAuth that verifies, or
// it is refused as a TpmFormatError / TpmIntegrityError.
import { concat, equalBytes, u32be } from "../../lib/bytes.ts";
import { TpmFormatError, TpmIntegrityError, TpmResponseError } from "../errors.ts";
import { sha1 } from "../crypto/hash.ts";
import { rsaOaepEncrypt } from "../crypto/rsa.ts";
import type { Transport } from "../transport/transport.ts";
import { Reader, Writer, marshal } from "../wire.ts";
import {
  ORD,
  RC12,
  TPM_CAP_FLAG,
  TPM_CAP_FLAG_PERMANENT,
  TPM_CAP_FLAG_VOLATILE,
  TPM_CAP_NV_INDEX,
  TPM_CAP_PROPERTY,
  TPM_CAP_PROP_MANUFACTURER,
  TPM_CAP_PROP_OWNER,
  TPM_CAP_PROP_PCR,
  TPM_CAP_VERSION_VAL,
  TPM_ET_OWNER,
  TPM_ET_SRK,
  TPM_KH_OWNER,
  TPM_KH_SRK,
  TPM_PID_ADCP,
  TPM_PID_OWNER,
  TPM_RETRY,
  TPM_RT_AUTH,
  TPM_TAG_RQU_COMMAND,
  TPM_TAG_RSP_COMMAND,
  ordinalName,
} from "./constants.ts";
import { tpm12Error } from "./rc.ts";
import { AuthSession, osapSecret } from "./session.ts";
import { type NvPublic, type PermanentFlags, type StclearFlags, parseCounterValue, parseNvDataPublic, parsePermanentFlags, parsePubkey, parseStclearFlags, skipKey } from "./structures.ts";

export interface VersionInfo {
  major: number;
  minor: number;
  revMajor: number;
  revMinor: number;
  specLevel: number;
  errataRev: number;
  vendorId: Uint8Array;
}

/** What each session adds to a response: nonceEven, continueAuthSession, resAuth. */
const RESPONSE_AREA = 20 + 1 + 20;
const OAEP_LABEL = Uint8Array.of(0x54, 0x43, 0x50, 0x41); // "TCPA"

export class Tpm12Commands {
  constructor(
    readonly transport: Transport,
    readonly random: (n: number) => Uint8Array,
  ) {}

  /**
   * Send a command; with sessions, each is used once (continueAuthSession FALSE, so the TPM
   * closes it). Returns a reader over the output parameters.
   */
  async run(ordinal: number, params: Uint8Array = new Uint8Array(0), options: { handles?: Uint8Array; sessions?: AuthSession[] } = {}): Promise<Reader> {
    const sessions = options.sessions ?? [];
    const handles = options.handles ?? new Uint8Array(0);
    const name = ordinalName(ordinal);
    const w = new Writer();
    w.u16(TPM_TAG_RQU_COMMAND + sessions.length).u32(0).u32(ordinal).bytes(handles).bytes(params);
    const paramDigest = sha1(u32be(ordinal), params);
    const nonces = sessions.map(() => this.random(20));
    sessions.forEach((s, i) => w.u32(s.handle).bytes(nonces[i]!).u8(0).bytes(s.authorize(paramDigest, nonces[i]!)));
    w.patchU32(2, w.length);
    const bytes = w.finish();
    for (let attempt = 0; ; attempt++) {
      const response = await this.transport.send(bytes);
      const r = new Reader(response, `${name} response`);
      const tag = r.u16();
      const size = r.u32();
      const rc = r.u32();
      if (size !== response.length) throw new TpmFormatError(`${name}: response size field ${size} differs from the ${response.length} bytes received`);
      if (rc === TPM_RETRY && sessions.length === 0 && attempt < 64) continue;
      if (rc !== 0) throw tpm12Error(name, rc);
      if (tag !== TPM_TAG_RSP_COMMAND + sessions.length) throw new TpmFormatError(`${name}: response tag 0x${tag.toString(16)} does not carry ${sessions.length} authorizations`);
      if (sessions.length === 0) return r;
      const outEnd = response.length - RESPONSE_AREA * sessions.length;
      if (outEnd < 10) throw new TpmFormatError(`${name}: response of ${response.length} bytes is too short for its authorizations`);
      const out = response.subarray(10, outEnd);
      const outDigest = sha1(u32be(0), u32be(ordinal), out);
      sessions.forEach((s, i) => {
        const a = new Reader(response.subarray(outEnd + RESPONSE_AREA * i, outEnd + RESPONSE_AREA * (i + 1)), `${name} authorization`);
        const nonceEven = a.bytes(20);
        const cont = a.u8();
        if (!equalBytes(a.bytes(20), s.expected(outDigest, nonceEven, nonces[i]!, cont)))
          throw new TpmIntegrityError(`${name}: the response authorization does not verify; the answer was altered or came from another TPM`);
        s.nonceEven = nonceEven;
      });
      return new Reader(out.slice(), `${name} response`);
    }
  }

  async oiap(auth: Uint8Array): Promise<AuthSession> {
    const r = await this.run(ORD.OIAP);
    const s = new AuthSession(r.u32(), r.bytes(20), auth.slice(), "OIAP");
    r.end();
    return s;
  }

  async osap(entityType: number, entityValue: number, auth: Uint8Array): Promise<AuthSession> {
    const nonceOddOSAP = this.random(20);
    const r = await this.run(ORD.OSAP, marshal((w) => w.u16(entityType).u32(entityValue).bytes(nonceOddOSAP)));
    const handle = r.u32();
    const nonceEven = r.bytes(20);
    const nonceEvenOSAP = r.bytes(20);
    r.end();
    return new AuthSession(handle, nonceEven, osapSecret(auth, nonceEvenOSAP, nonceOddOSAP), "OSAP");
  }

  /** Open sessions in order; if one fails, the ones already open are flushed. */
  private async open(...openers: (() => Promise<AuthSession>)[]): Promise<AuthSession[]> {
    const out: AuthSession[] = [];
    try {
      for (const o of openers) out.push(await o());
      return out;
    } catch (e) {
      for (const s of out) await this.run(ORD.FlushSpecific, marshal((w) => w.u32(s.handle).u32(TPM_RT_AUTH))).catch(() => undefined);
      throw e;
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
    const r = await this.capability(TPM_CAP_PROPERTY, u32be(TPM_CAP_PROP_MANUFACTURER));
    return r.bytes(4);
  }

  async pcrCount(): Promise<number> {
    const r = await this.capability(TPM_CAP_PROPERTY, u32be(TPM_CAP_PROP_PCR));
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

  /** Whether the TPM has an owner (TPM_CAP_PROP_OWNER). */
  async owned(): Promise<boolean> {
    const r = await this.capability(TPM_CAP_PROPERTY, u32be(TPM_CAP_PROP_OWNER));
    const v = r.u8();
    r.end();
    return v !== 0;
  }

  async permanentFlags(): Promise<PermanentFlags> {
    return parsePermanentFlags(await this.capability(TPM_CAP_FLAG, u32be(TPM_CAP_FLAG_PERMANENT)));
  }

  async stclearFlags(): Promise<StclearFlags> {
    return parseStclearFlags(await this.capability(TPM_CAP_FLAG, u32be(TPM_CAP_FLAG_VOLATILE)));
  }

  /** The NV index's public area, or null when nothing is defined there. */
  async nvPublic(index: number): Promise<NvPublic | null> {
    try {
      return parseNvDataPublic(await this.capability(TPM_CAP_NV_INDEX, u32be(index)));
    } catch (e) {
      if (e instanceof TpmResponseError && e.rc === RC12.BADINDEX) return null;
      throw e;
    }
  }

  async pcrRead(index: number): Promise<Uint8Array> {
    const r = await this.run(ORD.PCRRead, u32be(index));
    const d = r.bytes(20);
    r.end();
    return d;
  }

  async extend(index: number, digest: Uint8Array): Promise<Uint8Array> {
    const r = await this.run(ORD.Extend, concat(u32be(index), digest));
    const d = r.bytes(20);
    r.end();
    return d;
  }

  async physicalPresence(bits: number): Promise<void> {
    (await this.run(ORD.PhysicalPresence, marshal((w) => w.u16(bits)))).end();
  }

  async physicalEnable(): Promise<void> {
    (await this.run(ORD.PhysicalEnable)).end();
  }

  async physicalSetDeactivated(deactivated: boolean): Promise<void> {
    (await this.run(ORD.PhysicalSetDeactivated, Uint8Array.of(deactivated ? 1 : 0))).end();
  }

  async forceClear(): Promise<void> {
    (await this.run(ORD.ForceClear)).end();
  }

  /** The endorsement key; its checksum over our nonce must verify. */
  async readPubek(): Promise<{ modulus: Uint8Array; exponent: number }> {
    const antiReplay = this.random(20);
    const out = (await this.run(ORD.ReadPubek, antiReplay)).rest();
    if (out.length < 20) throw new TpmFormatError("TPM_ReadPubek response is truncated");
    const pub = out.subarray(0, out.length - 20);
    if (!equalBytes(sha1(pub, antiReplay), out.subarray(out.length - 20)))
      throw new TpmIntegrityError("TPM_ReadPubek: the endorsement key's checksum does not verify; the answer was altered");
    const r = new Reader(pub, "TPM_PUBKEY");
    const key = parsePubkey(r);
    r.end();
    return key;
  }

  /**
   * TPM_TakeOwnership: owner and SRK authorizations travel OAEP-encrypted to the endorsement
   * key; the command is authorized (OIAP) with the new owner authorization itself.
   */
  async takeOwnership(ek: { modulus: Uint8Array; exponent: number }, ownerAuth: Uint8Array, srkAuth: Uint8Array, srkParams: Uint8Array): Promise<void> {
    const encOwner = rsaOaepEncrypt(ek.modulus, ek.exponent, ownerAuth, OAEP_LABEL, this.random(20), "sha1");
    const encSrk = rsaOaepEncrypt(ek.modulus, ek.exponent, srkAuth, OAEP_LABEL, this.random(20), "sha1");
    const params = marshal((w) => w.u16(TPM_PID_OWNER).sized32(encOwner).sized32(encSrk).bytes(srkParams));
    const [s] = await this.open(() => this.oiap(ownerAuth));
    try {
      const r = await this.run(ORD.TakeOwnership, params, { sessions: [s!] });
      skipKey(r);
      r.end();
    } finally {
      s!.wipe();
    }
  }

  /** TPM_ChangeAuthOwner: a new authorization for the owner or the SRK, owner-authorized (OSAP, ADIP). */
  async changeAuthOwner(ownerAuth: Uint8Array, entityType: number, newAuth: Uint8Array): Promise<void> {
    const [s] = await this.open(() => this.osap(TPM_ET_OWNER, TPM_KH_OWNER, ownerAuth));
    try {
      const params = marshal((w) => w.u16(TPM_PID_ADCP).bytes(s!.encryptAuth(newAuth)).u16(entityType));
      (await this.run(ORD.ChangeAuthOwner, params, { sessions: [s!] })).end();
    } finally {
      s!.wipe();
    }
  }

  /** TPM_Seal under the SRK (OSAP with the SRK authorization); returns the TPM_STORED_DATA. */
  async seal(srkAuth: Uint8Array, dataAuth: Uint8Array, pcrInfo: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
    const [s] = await this.open(() => this.osap(TPM_ET_SRK, TPM_KH_SRK, srkAuth));
    try {
      const params = marshal((w) => w.bytes(s!.encryptAuth(dataAuth)).sized32(pcrInfo).sized32(data));
      const r = await this.run(ORD.Seal, params, { handles: u32be(TPM_KH_SRK), sessions: [s!] });
      return r.rest();
    } finally {
      s!.wipe();
    }
  }

  /** TPM_Unseal with two OIAP sessions: the SRK's authorization, then the data's. */
  async unseal(srkAuth: Uint8Array, dataAuth: Uint8Array, blob: Uint8Array): Promise<Uint8Array> {
    const sessions = await this.open(() => this.oiap(srkAuth), () => this.oiap(dataAuth));
    try {
      const r = await this.run(ORD.Unseal, blob, { handles: u32be(TPM_KH_SRK), sessions });
      const secret = r.sized32(1024);
      r.end();
      return secret;
    } finally {
      for (const s of sessions) s.wipe();
    }
  }

  /** TPM_NV_DefineSpace; a size of 0 deletes the index. Owner-authorized when ownerAuth is given. */
  async nvDefineSpace(pub: Uint8Array, nvAuth: Uint8Array, ownerAuth: Uint8Array | null): Promise<void> {
    if (!ownerAuth) {
      (await this.run(ORD.NV_DefineSpace, concat(pub, nvAuth))).end();
      return;
    }
    const [s] = await this.open(() => this.osap(TPM_ET_OWNER, TPM_KH_OWNER, ownerAuth));
    try {
      (await this.run(ORD.NV_DefineSpace, concat(pub, s!.encryptAuth(nvAuth)), { sessions: [s!] })).end();
    } finally {
      s!.wipe();
    }
  }

  /** TPM_NV_WriteValue (owner or no authorization) or TPM_NV_WriteValueAuth (the index's own). */
  async nvWrite(index: number, offset: number, data: Uint8Array, auth?: { kind: "owner" | "index"; value: Uint8Array }): Promise<void> {
    const params = marshal((w) => w.u32(index).u32(offset).sized32(data));
    const ordinal = auth?.kind === "index" ? ORD.NV_WriteValueAuth : ORD.NV_WriteValue;
    await this.authorized(ordinal, params, auth?.value, (r) => r.end());
  }

  async nvRead(index: number, offset: number, size: number, auth?: { kind: "owner" | "index"; value: Uint8Array }): Promise<Uint8Array> {
    const params = marshal((w) => w.u32(index).u32(offset).u32(size));
    const ordinal = auth?.kind === "index" ? ORD.NV_ReadValueAuth : ORD.NV_ReadValue;
    return this.authorized(ordinal, params, auth?.value, (r) => {
      const data = r.sized32(size);
      r.end();
      return data;
    });
  }

  /** One OIAP-authorized command (or none when auth is undefined). */
  private async authorized<T>(ordinal: number, params: Uint8Array, auth: Uint8Array | undefined, read: (r: Reader) => T): Promise<T> {
    if (!auth) return read(await this.run(ordinal, params));
    const [s] = await this.open(() => this.oiap(auth));
    try {
      return read(await this.run(ordinal, params, { sessions: [s!] }));
    } finally {
      s!.wipe();
    }
  }

  /** TPM_CreateCounter (owner OSAP, counter authorization by ADIP); returns the countID. */
  async createCounter(ownerAuth: Uint8Array, counterAuth: Uint8Array, label: number): Promise<number> {
    const [s] = await this.open(() => this.osap(TPM_ET_OWNER, TPM_KH_OWNER, ownerAuth));
    try {
      const r = await this.run(ORD.CreateCounter, concat(s!.encryptAuth(counterAuth), u32be(label)), { sessions: [s!] });
      const id = r.u32();
      parseCounterValue(r);
      r.end();
      return id;
    } finally {
      s!.wipe();
    }
  }

  async readCounter(id: number): Promise<bigint> {
    const r = await this.run(ORD.ReadCounter, u32be(id));
    const v = parseCounterValue(r);
    r.end();
    return v;
  }

  async incrementCounter(id: number, counterAuth: Uint8Array): Promise<bigint> {
    return this.authorized(ORD.IncrementCounter, u32be(id), counterAuth, (r) => {
      const v = parseCounterValue(r);
      r.end();
      return v;
    });
  }
}
