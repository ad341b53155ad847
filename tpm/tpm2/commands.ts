// TPM 2.0 commands (Part 3) as methods: each marshals its parameters, runs through
// exec.ts and unmarshals the answer. No policy here about what to call when.
import { concat, equalBytes, utf8 } from "../../lib/bytes.ts";
import { TpmArgumentError, TpmFormatError } from "../errors.ts";
import { kdfa, kdfe } from "../crypto/hash.ts";
import { ecdhEphemeral } from "../crypto/p256.ts";
import { rsaOaepEncrypt } from "../crypto/rsa.ts";
import type { Transport } from "../transport/transport.ts";
import { Reader, marshal } from "../wire.ts";
import {
  ALG,
  CC,
  SESSION,
  TPM_CAP_HANDLES,
  TPM_CAP_PCRS,
  TPM_CAP_TPM_PROPERTIES,
  TPM_RH_NULL,
  TPM_SE_HMAC,
  TPM_SE_POLICY,
  TPM_SE_TRIAL,
} from "./constants.ts";
import { execute, handleName, type Command, type Random } from "./exec.ts";
import { Session, password, type Auth } from "./session.ts";
import {
  AES128_CFB,
  SYM_NULL,
  marshalNvPublic,
  marshalPublic,
  marshalSensitiveCreate,
  objectName,
  readNvPublic,
  readPcrSelections,
  readSizedPublic,
  writePcrSelections,
  type NvPublic,
  type PcrSelection,
  type PublicArea,
} from "./types.ts";

export interface LoadedPublic {
  area: PublicArea;
  bytes: Uint8Array;
  name: Uint8Array;
}

export class Tpm2Commands {
  private names = new Map<number, Uint8Array>();

  constructor(
    readonly transport: Transport,
    readonly random: Random,
  ) {}

  run(cmd: Command) {
    return execute(this.transport, this.random, cmd);
  }

  /** Name for cpHash: cached object/NV names, else the handle itself (permanent handles, PCRs). */
  nameOf(handle: number): Uint8Array {
    return this.names.get(handle) ?? handleName(handle);
  }

  knowsName(handle: number): boolean {
    return this.names.has(handle);
  }

  async startup(type: number): Promise<void> {
    await this.run({ code: CC.Startup, params: marshal((w) => w.u16(type)) });
  }

  async shutdown(type: number): Promise<void> {
    await this.run({ code: CC.Shutdown, params: marshal((w) => w.u16(type)) });
  }

  async getCapability(capability: number, property: number, count: number): Promise<{ more: boolean; data: Reader }> {
    const { params } = await this.run({ code: CC.GetCapability, params: marshal((w) => w.u32(capability).u32(property).u32(count)) });
    const more = params.u8() !== 0;
    const cap = params.u32();
    if (cap !== capability) throw new TpmFormatError(`TPM2_GetCapability answered capability ${cap} instead of ${capability}`);
    return { more, data: params };
  }

  async getProperties(first: number, count: number): Promise<Map<number, number>> {
    const { data } = await this.getCapability(TPM_CAP_TPM_PROPERTIES, first, count);
    const n = data.count(data.u32(), 8, 256);
    const out = new Map<number, number>();
    for (let i = 0; i < n; i++) out.set(data.u32(), data.u32());
    data.end();
    return out;
  }

  async getHandles(first: number): Promise<number[]> {
    const out: number[] = [];
    let next = first;
    for (;;) {
      const { more, data } = await this.getCapability(TPM_CAP_HANDLES, next, 254);
      const n = data.count(data.u32(), 4, 1024);
      for (let i = 0; i < n; i++) out.push(data.u32());
      data.end();
      if (!more || n === 0) return out.filter((h) => (h & 0xff000000) === (first & 0xff000000));
      next = out[out.length - 1]! + 1;
    }
  }

  async getPcrBanks(): Promise<PcrSelection[]> {
    const { data } = await this.getCapability(TPM_CAP_PCRS, 0, 1);
    const sel = readPcrSelections(data);
    data.end();
    return sel;
  }

  async getRandom(bytes: number): Promise<Uint8Array> {
    const { params } = await this.run({ code: CC.GetRandom, params: marshal((w) => w.u16(bytes)) });
    const out = params.sized();
    params.end();
    return out;
  }

  /** PCR_Read of one bank; the TPM answers at most 8 PCRs per call, so ask again for the rest. */
  async pcrRead(hash: number, pcrs: number[], digestSize: number): Promise<Map<number, Uint8Array>> {
    const out = new Map<number, Uint8Array>();
    let missing = [...new Set(pcrs)].sort((a, b) => a - b);
    while (missing.length) {
      const { params } = await this.run({ code: CC.PCR_Read, params: marshal((w) => writePcrSelections(w, [{ hash, pcrs: missing }])) });
      params.u32();
      const sel = readPcrSelections(params);
      const n = params.count(params.u32(), 2, 8);
      const got = sel.filter((s) => s.hash === hash).flatMap((s) => s.pcrs);
      if (got.length !== n) throw new TpmFormatError(`TPM2_PCR_Read returned ${n} digests for ${got.length} selected PCRs`);
      for (const pcr of got) {
        const d = params.sized(64);
        if (d.length !== digestSize) throw new TpmFormatError(`TPM2_PCR_Read returned a ${d.length}-byte digest for a ${digestSize}-byte bank`);
        if (!missing.includes(pcr)) throw new TpmFormatError(`TPM2_PCR_Read returned PCR ${pcr} that was not asked for`);
        out.set(pcr, d);
      }
      params.end();
      if (n === 0) throw new TpmArgumentError(`the TPM has no PCR ${missing.join(", ")} in bank 0x${hash.toString(16)}`);
      missing = missing.filter((p) => !out.has(p));
    }
    return out;
  }

  async pcrExtend(pcr: number, hash: number, digest: Uint8Array): Promise<void> {
    await this.run({
      code: CC.PCR_Extend,
      handles: [pcr],
      auths: [password()],
      params: marshal((w) => w.u32(1).u16(hash).bytes(digest)),
    });
  }

  async readPublic(handle: number): Promise<LoadedPublic> {
    const { params } = await this.run({ code: CC.ReadPublic, handles: [handle] });
    const { area, bytes } = readSizedPublic(params);
    const name = params.sized(66);
    params.sized(66);
    params.end();
    if (!equalBytes(name, objectName(bytes))) throw new TpmFormatError(`TPM2_ReadPublic returned a name that does not match the public area of 0x${handle.toString(16)}`);
    this.names.set(handle, name);
    return { area, bytes, name };
  }

  /**
   * StartAuthSession, unbound, salted to `saltKey` when given (RSA-OAEP or ECDH), with
   * AES-128-CFB available for parameter encryption and SHA-256 for HMACs.
   */
  async startAuthSession(type: "hmac" | "policy" | "trial", saltKey?: { handle: number; pub: PublicArea }): Promise<Session> {
    const nonceCaller = this.random(32);
    let salt: Uint8Array = new Uint8Array(0);
    let encryptedSalt: Uint8Array = new Uint8Array(0);
    if (saltKey) ({ salt, encryptedSalt } = this.makeSalt(saltKey.pub));
    const seType = type === "hmac" ? TPM_SE_HMAC : type === "policy" ? TPM_SE_POLICY : TPM_SE_TRIAL;
    const symmetric = type === "trial" ? SYM_NULL : AES128_CFB;
    const { handles, params } = await this.run({
      code: CC.StartAuthSession,
      handles: [saltKey ? saltKey.handle : TPM_RH_NULL, TPM_RH_NULL],
      params: marshal((w) => {
        w.sized(nonceCaller).sized(encryptedSalt).u8(seType).u16(symmetric.algorithm);
        if (symmetric.algorithm !== ALG.NULL) w.u16(symmetric.keyBits).u16(symmetric.mode);
        w.u16(ALG.SHA256);
      }),
      responseHandles: 1,
    });
    const nonceTpm = params.sized(64);
    params.end();
    const sessionKey = salt.length ? kdfa(salt, "ATH", nonceTpm, nonceCaller, 256) : new Uint8Array(0);
    salt.fill(0);
    return new Session(handles[0]!, type, sessionKey, nonceCaller, nonceTpm, SESSION.continueSession);
  }

  private makeSalt(pub: PublicArea): { salt: Uint8Array; encryptedSalt: Uint8Array } {
    if (pub.type === ALG.RSA) {
      const salt = this.random(32);
      const label = concat(utf8("SECRET"), Uint8Array.of(0));
      return { salt, encryptedSalt: rsaOaepEncrypt(pub.unique, pub.exponent, salt, label, this.random(32)) };
    }
    if (pub.type === ALG.ECC) {
      const e = ecdhEphemeral(pub.x, pub.y, this.random(40));
      const salt = kdfe(e.z, "SECRET", e.x, pub.x, 256);
      e.z.fill(0);
      return { salt, encryptedSalt: marshal((w) => w.sized(e.x).sized(e.y)) };
    }
    throw new TpmArgumentError("a session can only be salted with an RSA or ECC key");
  }

  async policyPCR(session: Session, selection: PcrSelection[], pcrDigest = new Uint8Array(0)): Promise<void> {
    await this.run({ code: CC.PolicyPCR, handles: [session.handle], params: marshal((w) => { w.sized(pcrDigest); writePcrSelections(w, selection); }) });
  }

  async policyAuthValue(session: Session): Promise<void> {
    await this.run({ code: CC.PolicyAuthValue, handles: [session.handle] });
    session.authValueNeeded = true;
  }

  async policyPassword(session: Session): Promise<void> {
    await this.run({ code: CC.PolicyPassword, handles: [session.handle] });
    session.passwordNeeded = true;
  }

  async policyCommandCode(session: Session, code: number): Promise<void> {
    await this.run({ code: CC.PolicyCommandCode, handles: [session.handle], params: marshal((w) => w.u32(code)) });
  }

  async policyGetDigest(session: Session): Promise<Uint8Array> {
    const { params } = await this.run({ code: CC.PolicyGetDigest, handles: [session.handle] });
    const d = params.sized(64);
    params.end();
    return d;
  }

  async createPrimary(hierarchy: number, auth: Auth, template: PublicArea): Promise<{ handle: number } & LoadedPublic> {
    const { handles, params } = await this.run({
      code: CC.CreatePrimary,
      handles: [hierarchy],
      auths: [auth],
      params: concat(marshalSensitiveCreate(new Uint8Array(0), new Uint8Array(0)), marshal((w) => w.sized(marshalPublic(template)).sized(new Uint8Array(0)).u32(0))),
      responseHandles: 1,
    });
    const { area, bytes } = readSizedPublic(params);
    params.sized();
    params.sized(64);
    params.u16();
    params.u32();
    params.sized(64);
    const name = params.sized(66);
    params.end();
    this.names.set(handles[0]!, name);
    return { handle: handles[0]!, area, bytes, name };
  }

  /** Create a sealed object: `auth` authorizes the parent and should encrypt (decrypt bit) the sensitive data. */
  async create(parent: number, auth: Auth, userAuth: Uint8Array, data: Uint8Array, template: PublicArea): Promise<{ private: Uint8Array; public: Uint8Array }> {
    const { params } = await this.run({
      code: CC.Create,
      handles: [parent],
      names: [this.nameOf(parent)],
      auths: [auth],
      params: concat(marshalSensitiveCreate(userAuth, data), marshal((w) => w.sized(marshalPublic(template)).sized(new Uint8Array(0)).u32(0))),
    });
    const priv = params.sized();
    const pub = params.sized();
    return { private: priv, public: pub };
  }

  async load(parent: number, auth: Auth, priv: Uint8Array, pub: Uint8Array): Promise<{ handle: number; name: Uint8Array }> {
    const { handles, params } = await this.run({
      code: CC.Load,
      handles: [parent],
      names: [this.nameOf(parent)],
      auths: [auth],
      params: marshal((w) => w.sized(priv).sized(pub)),
      responseHandles: 1,
    });
    const name = params.sized(66);
    params.end();
    this.names.set(handles[0]!, name);
    return { handle: handles[0]!, name };
  }

  async unseal(handle: number, auth: Auth): Promise<Uint8Array> {
    const { params } = await this.run({ code: CC.Unseal, handles: [handle], names: [this.nameOf(handle)], auths: [auth] });
    const data = params.sized(128);
    params.end();
    return data;
  }

  async flushContext(handle: number): Promise<void> {
    await this.run({ code: CC.FlushContext, params: marshal((w) => w.u32(handle)) });
    this.names.delete(handle);
  }

  async evictControl(hierarchy: number, auth: Auth, object: number, persistent: number): Promise<void> {
    await this.run({
      code: CC.EvictControl,
      handles: [hierarchy, object],
      names: [this.nameOf(hierarchy), this.nameOf(object)],
      auths: [auth],
      params: marshal((w) => w.u32(persistent)),
    });
    this.names.delete(persistent);
  }

  async nvDefineSpace(hierarchy: number, auth: Auth, nvAuth: Uint8Array, pub: NvPublic): Promise<void> {
    await this.run({
      code: CC.NV_DefineSpace,
      handles: [hierarchy],
      auths: [auth],
      params: marshal((w) => w.sized(nvAuth).sized(marshalNvPublic(pub))),
    });
  }

  async nvUndefineSpace(hierarchy: number, auth: Auth, index: number): Promise<void> {
    await this.run({ code: CC.NV_UndefineSpace, handles: [hierarchy, index], names: [this.nameOf(hierarchy), this.nameOf(index)], auths: [auth] });
    this.names.delete(index);
  }

  async nvReadPublic(index: number): Promise<{ area: NvPublic; name: Uint8Array }> {
    const { params } = await this.run({ code: CC.NV_ReadPublic, handles: [index] });
    const { area, bytes } = readNvPublic(params);
    const name = params.sized(66);
    params.end();
    if (area.index !== index) throw new TpmFormatError(`TPM2_NV_ReadPublic described index 0x${area.index.toString(16)} instead of 0x${index.toString(16)}`);
    if (!equalBytes(name, objectName(bytes))) throw new TpmFormatError(`TPM2_NV_ReadPublic returned a name that does not match index 0x${index.toString(16)}`);
    this.names.set(index, name);
    return { area, name };
  }

  async nvRead(authHandle: number, index: number, auth: Auth, size: number, offset = 0): Promise<Uint8Array> {
    const { params } = await this.run({
      code: CC.NV_Read,
      handles: [authHandle, index],
      names: [this.nameOf(authHandle), this.nameOf(index)],
      auths: [auth],
      params: marshal((w) => w.u16(size).u16(offset)),
    });
    const data = params.sized(2048);
    params.end();
    return data;
  }

  async nvWrite(authHandle: number, index: number, auth: Auth, data: Uint8Array, offset = 0): Promise<void> {
    await this.run({
      code: CC.NV_Write,
      handles: [authHandle, index],
      names: [this.nameOf(authHandle), this.nameOf(index)],
      auths: [auth],
      params: marshal((w) => w.sized(data).u16(offset)),
    });
    this.names.delete(index); // the WRITTEN attribute, hence the name, changes on first write
  }

  async nvIncrement(authHandle: number, index: number, auth: Auth): Promise<void> {
    await this.run({ code: CC.NV_Increment, handles: [authHandle, index], names: [this.nameOf(authHandle), this.nameOf(index)], auths: [auth] });
    this.names.delete(index);
  }

  async clear(hierarchy: number, auth: Auth): Promise<void> {
    await this.run({ code: CC.Clear, handles: [hierarchy], auths: [auth] });
    this.names.clear();
  }

  async clearControl(hierarchy: number, auth: Auth, disable: boolean): Promise<void> {
    await this.run({ code: CC.ClearControl, handles: [hierarchy], auths: [auth], params: marshal((w) => w.u8(disable ? 1 : 0)) });
  }

  async hierarchyChangeAuth(hierarchy: number, auth: Auth, newAuth: Uint8Array): Promise<void> {
    await this.run({ code: CC.HierarchyChangeAuth, handles: [hierarchy], auths: [auth], params: marshal((w) => w.sized(newAuth)), newAuthValue: newAuth });
  }

  async hierarchyControl(hierarchy: number, auth: Auth, enable: number, state: boolean): Promise<void> {
    await this.run({ code: CC.HierarchyControl, handles: [hierarchy], auths: [auth], params: marshal((w) => w.u32(enable).u8(state ? 1 : 0)) });
  }

  async dictionaryAttackParameters(lockout: number, auth: Auth, maxTries: number, recoveryTime: number, lockoutRecovery: number): Promise<void> {
    await this.run({
      code: CC.DictionaryAttackParameters,
      handles: [lockout],
      auths: [auth],
      params: marshal((w) => w.u32(maxTries).u32(recoveryTime).u32(lockoutRecovery)),
    });
  }

  async dictionaryAttackLockReset(lockout: number, auth: Auth): Promise<void> {
    await this.run({ code: CC.DictionaryAttackLockReset, handles: [lockout], auths: [auth] });
  }
}
