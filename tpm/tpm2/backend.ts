// The Tpm face on TPM 2.0: what Heads' tpmr does with tpm2-tools, in one process and with
// as few commands as the TPM allows (salted sessions against the persisted SRK, no
// CreatePrimary outside reset, sessions that the TPM flushes itself).
import { ascii, equalBytes, u32be, utf8 } from "../../lib/bytes.ts";
import { TpmArgumentError, TpmClearAuthError, TpmError, TpmLockoutError, TpmPolicyError, TpmResponseError } from "../errors.ts";
import type { CounterOptions, LockoutState, NvDefineOptions, ResetOptions, SealedObject, SealOptions, Secret, Tpm, TpmInfo, UnsealOptions } from "../face.ts";
import { SRK_HANDLE } from "../face.ts";
import { sha256 } from "../crypto/hash.ts";
import {
  ALG,
  HR_HMAC_SESSION,
  HR_NV_INDEX,
  HR_PERSISTENT,
  HR_POLICY_SESSION,
  HR_TRANSIENT,
  NV,
  SESSION,
  TPM_PT_FIRMWARE_VERSION_1,
  TPM_PT_LOCKOUT_COUNTER,
  TPM_PT_LOCKOUT_INTERVAL,
  TPM_PT_LOCKOUT_RECOVERY,
  TPM_PT_MAX_AUTH_FAIL,
  TPM_PT_FIRMWARE_VERSION_2,
  TPM_PT_MANUFACTURER,
  TPM_PT_PERMANENT,
  TPM_PT_VENDOR_STRING_1,
  TPM_RH_ENDORSEMENT,
  TPM_RH_LOCKOUT,
  TPM_RH_OWNER,
  TPM_RH_PLATFORM,
  TPM_SU_CLEAR,
} from "./constants.ts";
import type { LoadedPublic, Tpm2Commands } from "./commands.ts";
import { PolicyCalculator } from "./policy.ts";
import { RC, rcBase } from "./rc.ts";
import { password, type Session } from "./session.ts";
import { sealedTemplate, srkTemplate } from "./types.ts";

/** TPMA_PERMANENT.lockoutAuthSet and inLockout (TPM 2.0 Part 2, 8.6). */
const PERMANENT_LOCKOUT_AUTH_SET = 1 << 2;
const PERMANENT_IN_LOCKOUT = 1 << 9;

export function bytesOf(s: Secret | undefined): Uint8Array {
  if (s === undefined) return new Uint8Array(0);
  return typeof s === "string" ? utf8(s) : s;
}

const MAX_SEALED = 128;
/** Heads' DA parameters: 10 tries, one forgiven per hour, lockout recovery at the next boot. */
const DA_MAX_TRIES = 10;
const DA_RECOVERY_TIME = 3600;
const DA_LOCKOUT_RECOVERY = 0;

export class Tpm2Backend implements Tpm {
  readonly version = "2.0" as const;
  readonly pcrSize = 32;
  private srk?: LoadedPublic;

  private constructor(readonly cmd: Tpm2Commands) {}

  static async open(cmd: Tpm2Commands): Promise<Tpm2Backend> {
    const tpm = new Tpm2Backend(cmd);
    // Without a resource manager, whatever an earlier process left loaded is still there.
    if (cmd.transport.resourceManaged === false) await tpm.flushAll();
    return tpm;
  }

  /** Persistent handle for a Heads-style index (0x4d47 → 0x81004d47). */
  static persistentHandle(handle: number): number {
    if (handle >= 0 && handle <= 0xffffff) return (HR_PERSISTENT | handle) >>> 0;
    if ((handle & 0xff000000) >>> 0 === HR_PERSISTENT) return handle >>> 0;
    throw new TpmArgumentError(`0x${handle.toString(16)} is neither an index (≤ 0xffffff) nor a persistent handle (0x81xxxxxx)`);
  }

  async info(): Promise<TpmInfo> {
    const props = await this.cmd.getProperties(TPM_PT_MANUFACTURER, TPM_PT_FIRMWARE_VERSION_2 - TPM_PT_MANUFACTURER + 1);
    const word = (p: number) => u32be(props.get(p) ?? 0);
    const vendor = [0, 1, 2, 3].map((i) => ascii(word(TPM_PT_VENDOR_STRING_1 + i))).join("");
    const f1 = props.get(TPM_PT_FIRMWARE_VERSION_1) ?? 0;
    const f2 = props.get(TPM_PT_FIRMWARE_VERSION_2) ?? 0;
    return {
      version: "2.0",
      manufacturer: ascii(word(TPM_PT_MANUFACTURER)),
      firmware: `${f1 >>> 16}.${f1 & 0xffff}.${f2 >>> 16}.${f2 & 0xffff}`,
      vendorString: vendor || undefined,
    };
  }

  async pcrRead(indices: number[]): Promise<Map<number, Uint8Array>> {
    for (const i of indices) checkPcr(i);
    const values = await this.cmd.pcrRead(ALG.SHA256, indices, 32);
    return new Map([...values].sort((a, b) => a[0] - b[0]));
  }

  async extend(index: number, data: string | Uint8Array): Promise<Uint8Array> {
    return this.extendDigest(index, sha256(bytesOf(data)));
  }

  async extendDigest(index: number, digest: Uint8Array): Promise<Uint8Array> {
    checkPcr(index);
    if (digest.length !== 32) throw new TpmArgumentError(`a SHA-256 digest has 32 bytes, not ${digest.length}`);
    await this.cmd.pcrExtend(index, ALG.SHA256, digest);
    return (await this.cmd.pcrRead(ALG.SHA256, [index], 32)).get(index)!;
  }

  private async srkPublic(): Promise<LoadedPublic> {
    if (this.srk) return this.srk;
    try {
      this.srk = await this.cmd.readPublic(SRK_HANDLE);
    } catch (e) {
      if (e instanceof TpmResponseError && rcBase(e.rc) === RC.HANDLE)
        throw new TpmError("no storage root key at 0x81000000: the TPM must be reset (owned) first");
      throw e;
    }
    return this.srk;
  }

  /** Name of the persisted SRK: compare it with a stored copy to detect a swapped key (Heads' kexec_primhdl_hash). */
  async srkName(): Promise<Uint8Array> {
    return (await this.srkPublic()).name;
  }

  private async saltedSession(type: "hmac" | "policy"): Promise<Session> {
    const srk = await this.srkPublic();
    return this.cmd.startAuthSession(type, { handle: SRK_HANDLE, pub: srk.area });
  }

  /** Flush a session the TPM still holds (a command failed before it could close it). */
  private async release(session: Session | undefined): Promise<void> {
    if (!session) return;
    if (session.open) await this.cmd.flushContext(session.handle).catch(() => undefined);
    session.wipe();
  }

  policyDigest(pcrs: number[], values: Map<number, Uint8Array>, withPassphrase: boolean): Uint8Array {
    const calc = new PolicyCalculator().pcr(pcrs, values);
    if (withPassphrase) calc.authValue();
    return calc.digest;
  }

  async seal(secret: Uint8Array, options: SealOptions): Promise<void> {
    if (secret.length === 0 || secret.length > MAX_SEALED) throw new TpmArgumentError(`a sealed secret has 1 to ${MAX_SEALED} bytes, not ${secret.length}`);
    for (const p of options.pcrs) checkPcr(p);
    const handle = Tpm2Backend.persistentHandle(options.handle);
    const need = options.pcrs.filter((p) => !options.pcrValues?.has(p));
    const current = need.length ? await this.cmd.pcrRead(ALG.SHA256, need, 32) : new Map<number, Uint8Array>();
    const values = new Map([...current, ...(options.pcrValues ?? [])]);
    const passphrase = bytesOf(options.passphrase);
    const policy = this.policyDigest(options.pcrs, values, passphrase.length > 0);

    const session = await this.saltedSession("hmac");
    session.attributes = SESSION.decrypt; // the TPM flushes it after Create
    let blob: { private: Uint8Array; public: Uint8Array };
    try {
      blob = await this.cmd.create(SRK_HANDLE, session, passphrase, secret, sealedTemplate(policy));
    } finally {
      await this.release(session);
    }
    const loaded = await this.cmd.load(SRK_HANDLE, password(), blob.private, blob.public);
    try {
      const owner = password(bytesOf(options.ownerPassphrase));
      if (await this.exists(handle)) await this.cmd.evictControl(TPM_RH_OWNER, owner, handle, handle);
      await this.cmd.evictControl(TPM_RH_OWNER, owner, loaded.handle, handle);
    } finally {
      await this.cmd.flushContext(loaded.handle);
    }
  }

  /** The object's authPolicy is the PCR binding: PolicyPCR, with PolicyAuthValue when it also takes a passphrase. */
  async sealedObject(handle: number): Promise<SealedObject | null> {
    let authPolicy: Uint8Array;
    try {
      authPolicy = (await this.cmd.readPublic(Tpm2Backend.persistentHandle(handle))).area.authPolicy;
    } catch (e) {
      if (e instanceof TpmResponseError && rcBase(e.rc) === RC.HANDLE) return null;
      throw e;
    }
    return {
      boundTo: (pcrs, values) =>
        pcrs.every((p) => values.get(p)?.length === 32) && [false, true].some((passphrase) => equalBytes(this.policyDigest([...pcrs], new Map(values), passphrase), authPolicy)),
    };
  }

  private async exists(handle: number): Promise<boolean> {
    const list = await this.cmd.getHandles(handle);
    return list[0] === handle;
  }

  slotInUse(handle: number): Promise<boolean> {
    return this.exists(Tpm2Backend.persistentHandle(handle));
  }

  async unseal(options: UnsealOptions): Promise<Uint8Array> {
    for (const p of options.pcrs) checkPcr(p);
    const handle = Tpm2Backend.persistentHandle(options.handle);
    const passphrase = bytesOf(options.passphrase);
    const session = await this.saltedSession("policy");
    try {
      await this.cmd.policyPCR(session, [{ hash: ALG.SHA256, pcrs: options.pcrs }]);
      if (passphrase.length) {
        await this.cmd.policyAuthValue(session);
        session.authValue = passphrase.slice();
      }
      // The TPM checks the policy session's HMAC, whose cpHash holds the object's name.
      if (!this.cmd.knowsName(handle)) await this.cmd.readPublic(handle);
      session.attributes = SESSION.encrypt; // clear continueSession: the TPM flushes it after Unseal
      return await this.cmd.unseal(handle, session);
    } catch (e) {
      throw await this.explainUnsealFailure(e, handle, options.pcrs, passphrase.length > 0);
    } finally {
      await this.release(session);
    }
  }

  /** Turn a refusal into a TpmPolicyError that says whether the PCRs or the passphrase are at fault. */
  private async explainUnsealFailure(e: unknown, handle: number, pcrs: number[], withPassphrase: boolean): Promise<unknown> {
    if (!(e instanceof TpmResponseError)) return e;
    const base = rcBase(e.rc);
    if (base === RC.HANDLE && (e.command === "TPM2_Unseal" || e.command === "TPM2_ReadPublic")) return new TpmError(`nothing is sealed at 0x${handle.toString(16)}`);
    if (base === RC.AUTH_FAIL || base === RC.BAD_AUTH) return new TpmPolicyError("unseal refused: wrong passphrase", e, "passphrase");
    if (base === RC.LOCKOUT) return this.lockoutError(e);
    if (base !== RC.POLICY_FAIL) return e;
    try {
      const obj = await this.cmd.readPublic(handle);
      const now = await this.cmd.pcrRead(ALG.SHA256, pcrs, 32);
      if (equalBytes(this.policyDigest(pcrs, now, !withPassphrase), obj.area.authPolicy))
        return new TpmPolicyError(withPassphrase ? "unseal refused: this secret was sealed without a passphrase" : "unseal refused: this secret needs a passphrase", e, "passphrase");
    } catch {
      // The diagnosis is best effort; the refusal itself stands.
    }
    return new TpmPolicyError(`unseal refused: the PCR values (${pcrs.join(",")}) are not those the secret was sealed to, or the PCR list differs`, e, "pcr");
  }

  async lockoutState(): Promise<LockoutState> {
    // TPM_PT_PERMANENT (0x200) to TPM_PT_LOCKOUT_RECOVERY (0x211) in one GetCapability.
    const props = await this.cmd.getProperties(TPM_PT_PERMANENT, TPM_PT_LOCKOUT_RECOVERY - TPM_PT_PERMANENT + 1);
    const failures = props.get(TPM_PT_LOCKOUT_COUNTER) ?? 0;
    const maxTries = props.get(TPM_PT_MAX_AUTH_FAIL) ?? 0;
    return {
      inLockout: ((props.get(TPM_PT_PERMANENT) ?? 0) & PERMANENT_IN_LOCKOUT) !== 0,
      failures,
      maxTries,
      recoveryTime: props.get(TPM_PT_LOCKOUT_INTERVAL) ?? 0,
      lockoutRecovery: props.get(TPM_PT_LOCKOUT_RECOVERY) ?? 0,
    };
  }

  /** TPM_RC_LOCKOUT becomes a TpmLockoutError that says how long the lockout lasts. */
  private async lockoutError(e: TpmResponseError): Promise<TpmLockoutError> {
    return new TpmLockoutError(await this.lockoutState().catch(() => null), e);
  }

  private async explainLockout<T>(pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (e) {
      if (e instanceof TpmResponseError && rcBase(e.rc) === RC.LOCKOUT) throw await this.lockoutError(e);
      throw e;
    }
  }

  async destroy(handle: number, ownerPassphrase?: Secret): Promise<void> {
    const h = Tpm2Backend.persistentHandle(handle);
    await this.cmd.evictControl(TPM_RH_OWNER, password(bytesOf(ownerPassphrase)), h, h);
  }

  async counterCreate(options: CounterOptions = {}): Promise<number> {
    const owner = password(bytesOf(options.ownerPassphrase));
    for (let attempt = 0; attempt < 8; attempt++) {
      const r = this.cmd.random(3);
      const index = (0x01000000 | (r[0]! << 16) | (r[1]! << 8) | r[2]!) >>> 0;
      try {
        // noDA: the counter's authorization is empty, so dictionary-attack protection guards
        // nothing, while in lockout it would make the rollback check fail (Heads #2205).
        await this.cmd.nvDefineSpace(TPM_RH_OWNER, owner, new Uint8Array(0), {
          index,
          nameAlg: ALG.SHA256,
          attributes: NV.COUNTER | NV.OWNERREAD | NV.AUTHREAD | NV.AUTHWRITE | NV.NO_DA,
          authPolicy: new Uint8Array(0),
          dataSize: 8,
        });
        return index;
      } catch (e) {
        if (e instanceof TpmResponseError && rcBase(e.rc) === RC.NV_DEFINED) continue;
        throw e;
      }
    }
    throw new TpmError("could not find a free NV index for the counter");
  }

  async counters(): Promise<number[]> {
    const out: number[] = [];
    for (const index of await this.cmd.getHandles(HR_NV_INDEX)) {
      const { area } = await this.cmd.nvReadPublic(index);
      if ((area.attributes & NV.TPM_NT) === NV.COUNTER) out.push(index);
    }
    return out;
  }

  async counterRead(id: number): Promise<bigint> {
    const v = await this.explainLockout(this.cmd.nvRead(id, id, password(), 8));
    if (v.length !== 8) throw new TpmError(`counter 0x${id.toString(16)} returned ${v.length} bytes instead of 8`);
    return (BigInt(v[0]! * 0x1000000 + ((v[1]! << 16) | (v[2]! << 8) | v[3]!)) << 32n) | BigInt(((v[4]! << 24) | (v[5]! << 16) | (v[6]! << 8) | v[7]!) >>> 0);
  }

  async counterIncrement(id: number): Promise<bigint> {
    await this.explainLockout(this.cmd.nvIncrement(id, id, password()));
    return this.counterRead(id);
  }

  async nvDefine(index: number, size: number, options: NvDefineOptions = {}): Promise<void> {
    checkNvIndex(index);
    await this.cmd.nvDefineSpace(TPM_RH_OWNER, password(bytesOf(options.ownerPassphrase)), bytesOf(options.auth), {
      index,
      nameAlg: ALG.SHA256,
      attributes: NV.OWNERREAD | NV.OWNERWRITE | NV.AUTHREAD | NV.AUTHWRITE,
      authPolicy: new Uint8Array(0),
      dataSize: size,
    });
  }

  async nvRead(index: number, size?: number, auth?: Secret): Promise<Uint8Array> {
    checkNvIndex(index);
    const n = size ?? (await this.cmd.nvReadPublic(index)).area.dataSize;
    const out = new Uint8Array(n);
    // A TPM reads at most its NV buffer size (≥ 512 on swtpm) per command.
    for (let o = 0; o < n; o += 512) out.set(await this.explainLockout(this.cmd.nvRead(index, index, password(bytesOf(auth)), Math.min(512, n - o), o)), o);
    return out;
  }

  async nvWrite(index: number, data: Uint8Array, auth?: Secret): Promise<void> {
    checkNvIndex(index);
    // The data travels encrypted (AES-128-CFB) in a session salted with the SRK; an unowned
    // TPM has no SRK, and then only a password session is possible.
    let session: Session | undefined;
    try {
      session = await this.saltedSession("hmac");
    } catch (e) {
      if (!(e instanceof TpmError) || e instanceof TpmResponseError) throw e;
    }
    try {
      if (session) await this.cmd.nvReadPublic(index); // its name goes into the HMAC
      for (let o = 0; o < data.length; o += 512) {
        const chunk = data.subarray(o, Math.min(data.length, o + 512));
        if (!session) {
          await this.cmd.nvWrite(index, index, password(bytesOf(auth)), chunk, o);
          continue;
        }
        session.authValue = bytesOf(auth).slice();
        session.attributes = o + 512 < data.length ? SESSION.continueSession | SESSION.decrypt : SESSION.decrypt;
        await this.cmd.nvWrite(index, index, session, chunk, o);
        if (o + 512 < data.length) await this.cmd.nvReadPublic(index); // WRITTEN changed the name
      }
    } finally {
      await this.release(session);
    }
  }

  async nvUndefine(index: number, ownerPassphrase?: Secret): Promise<void> {
    checkNvIndex(index);
    await this.cmd.nvUndefineSpace(TPM_RH_OWNER, password(bytesOf(ownerPassphrase)), index);
  }

  async nvSize(index: number): Promise<number | null> {
    checkNvIndex(index);
    try {
      return (await this.cmd.nvReadPublic(index)).area.dataSize;
    } catch (e) {
      if (e instanceof TpmResponseError && rcBase(e.rc) === RC.HANDLE) return null;
      throw e;
    }
  }

  async reset(options: ResetOptions): Promise<void> {
    const owner = bytesOf(options.ownerPassphrase);
    if (owner.length === 0 || owner.length > 32) throw new TpmArgumentError("the owner passphrase has 1 to 32 bytes");
    await this.clearTpm(options.currentOwnerPassphrase);
    this.srk = undefined;
    const primary = await this.cmd.createPrimary(TPM_RH_OWNER, password(), srkTemplate(options.primaryKeyType ?? "rsa"));
    try {
      await this.cmd.evictControl(TPM_RH_OWNER, password(), primary.handle, SRK_HANDLE);
    } finally {
      await this.cmd.flushContext(primary.handle);
    }
    // New authorizations travel encrypted, in a session salted with the new SRK.
    const session = await this.saltedSession("hmac");
    try {
      session.attributes = SESSION.continueSession | SESSION.decrypt;
      await this.cmd.hierarchyChangeAuth(TPM_RH_OWNER, session, owner);
      session.authValue = new Uint8Array(0);
      await this.cmd.hierarchyChangeAuth(TPM_RH_ENDORSEMENT, session, owner);
      session.authValue = new Uint8Array(0);
      session.attributes = SESSION.continueSession;
      await this.cmd.dictionaryAttackParameters(TPM_RH_LOCKOUT, session, DA_MAX_TRIES, DA_RECOVERY_TIME, DA_LOCKOUT_RECOVERY);
      // Heads makes the lockout authorization random, as its firmware leaves the platform
      // hierarchy open for the next clear; where the firmware locks it (SeaBIOS), the lockout
      // hierarchy is the only way to clear again, so it takes the owner passphrase.
      session.attributes = SESSION.decrypt; // last use: the TPM flushes it
      await this.cmd.hierarchyChangeAuth(TPM_RH_LOCKOUT, session, owner.slice());
    } finally {
      await this.release(session);
    }
  }

  /** TPM2_Clear through the platform hierarchy (open in firmware), else through the lockout hierarchy. */
  private async clearTpm(currentOwner?: Secret): Promise<void> {
    const refusals: number[] = [RC.BAD_AUTH, RC.AUTH_FAIL, RC.HIERARCHY];
    const authFailure = (e: unknown) => e instanceof TpmResponseError && refusals.includes(rcBase(e.rc));
    try {
      await this.cmd.clearControl(TPM_RH_PLATFORM, password(), false);
      await this.cmd.clear(TPM_RH_PLATFORM, password());
      return;
    } catch (e) {
      if (!authFailure(e)) throw e;
    }
    // A wrong lockout authorization locks the lockout hierarchy until the next boot, so it is
    // tried only when the TPM says one is set, and then only with the passphrase given.
    const permanent = (await this.cmd.getProperties(TPM_PT_PERMANENT, 1)).get(TPM_PT_PERMANENT) ?? 0;
    const lockoutAuthSet = (permanent & PERMANENT_LOCKOUT_AUTH_SET) !== 0;
    if (lockoutAuthSet && currentOwner === undefined) {
      throw new TpmClearAuthError("the TPM's platform hierarchy is locked (by the firmware, or by finalize before a kexec) and the TPM has an owner: give the current TPM owner passphrase to clear it");
    }
    // Only the platform can undo a ClearControl(disable); lockout can clear while clearing is allowed.
    const auth = password(lockoutAuthSet ? bytesOf(currentOwner) : undefined);
    try {
      await this.cmd.clear(TPM_RH_LOCKOUT, auth);
    } catch (e) {
      if (authFailure(e)) throw new TpmClearAuthError("the current TPM owner passphrase was not accepted for clearing the TPM; the TPM refuses further tries until the next boot");
      throw e;
    }
  }

  async finalize(): Promise<void> {
    if (this.cmd.transport.resourceManaged === false) await this.flushAll();
    const platformAuth = this.cmd.random(32);
    let session: Session | undefined;
    const lockedAlready = (e: unknown) => e instanceof TpmResponseError && [RC.BAD_AUTH, RC.AUTH_FAIL].includes(rcBase(e.rc) as 0xa2 | 0x8e);
    try {
      session = await this.saltedSession("hmac");
      session.attributes = SESSION.decrypt;
      await this.cmd.hierarchyChangeAuth(TPM_RH_PLATFORM, session, platformAuth);
    } catch (e) {
      // The firmware (SeaBIOS) set its own platform password: the hierarchy is locked already, which is the point.
      if (lockedAlready(e)) return;
      // No SRK (an unowned TPM): lock the platform hierarchy anyway, auth in clear.
      if (!(e instanceof TpmError) || e instanceof TpmResponseError) throw e;
      try {
        await this.cmd.hierarchyChangeAuth(TPM_RH_PLATFORM, password(), platformAuth);
      } catch (e2) {
        if (!lockedAlready(e2)) throw e2;
      }
    } finally {
      await this.release(session);
      platformAuth.fill(0);
    }
  }

  /** Flush every transient object and session (for /dev/tpm0, where nobody else does). */
  async flushAll(): Promise<void> {
    for (const range of [HR_TRANSIENT, HR_HMAC_SESSION, HR_POLICY_SESSION])
      for (const h of await this.cmd.getHandles(range)) await this.cmd.flushContext(h);
  }

  async shutdown(): Promise<void> {
    await this.cmd.shutdown(TPM_SU_CLEAR);
  }

  close(): void {
    this.cmd.transport.close?.();
  }
}

function checkPcr(i: number): void {
  if (!Number.isInteger(i) || i < 0 || i > 23) throw new TpmArgumentError(`PCR ${i} is out of range 0-23`);
}

function checkNvIndex(i: number): void {
  if (!Number.isInteger(i) || (i & 0xff000000) >>> 0 !== 0x01000000) throw new TpmArgumentError(`0x${i.toString(16)} is not an NV index (0x01xxxxxx)`);
}
