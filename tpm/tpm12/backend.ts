// The Tpm face on TPM 1.2, as Heads' tpmr and tpmtotp use one: SHA-1 PCRs, owner and SRK
// authorizations derived as tpmtotp derives them (SHA-1 of the passphrase; the SRK and
// unprotected data take the well-known 20 zero bytes), sealed blobs kept in NV in Heads'
// layout so a machine moves between Heads and bootward without re-sealing.
import { ascii, equalBytes } from "../../lib/bytes.ts";
import { TpmArgumentError, TpmDisabledError, TpmError, TpmLockoutError, TpmNvSpaceError, TpmOwnerAuthError, TpmPolicyError, TpmResponseError, TpmSrkAuthError } from "../errors.ts";
import type { CounterOptions, NvDefineOptions, ResetOptions, SealedObject, SealOptions, Secret, Tpm, TpmInfo, UnsealOptions } from "../face.ts";
import { sha1 } from "../crypto/hash.ts";
import { bytesOf } from "../tpm2/backend.ts";
import type { Tpm12Commands } from "./commands.ts";
import {
  RC12,
  TPM_AUTH_NEVER,
  TPM_ET_SRK,
  TPM_NV_PER_AUTHWRITE,
  TPM_NV_PER_OWNERREAD,
  TPM_NV_PER_OWNERWRITE,
  TPM_NV_PER_AUTHREAD,
  TPM_PHYSICAL_PRESENCE_CMD_ENABLE,
  TPM_PHYSICAL_PRESENCE_LOCK,
  TPM_PHYSICAL_PRESENCE_NOTPRESENT,
  TPM_PHYSICAL_PRESENCE_PRESENT,
  WELL_KNOWN_AUTH,
} from "./constants.ts";
import { type NvPublic, type StoredData, SEAL_SELECT_SIZE, compositeHash, nvDataPublic, parseStoredData, pcrInfo, srkParams } from "./structures.ts";

/** Heads' rollback counter label 3135106223, as tpmtotp's atoi leaves it in 32 bits. */
export const HEADS_COUNTER_LABEL = 0xbaddecaf;
const MAX_SEALED = 128;
/** NV bytes per read or write command: below every TPM 1.2's input buffer. */
const NV_CHUNK = 768;

/** tpmtotp's derivation of an authorization from a passphrase; no passphrase is the well-known secret. */
export function authOf(passphrase: Secret | undefined): Uint8Array {
  return passphrase === undefined ? WELL_KNOWN_AUTH.slice() : sha1(bytesOf(passphrase));
}

/** Heads' counters take an empty counter passphrase (tpmr counter_create -pwdc ''). */
const COUNTER_AUTH = sha1(new Uint8Array(0));

const COUNTER_IDS_PROBED = 8;

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
      out.set(i, await this.cmd.pcrRead(i).catch(refusal()));
    }
    return out;
  }

  extend(index: number, data: string | Uint8Array): Promise<Uint8Array> {
    return this.extendDigest(index, sha1(bytesOf(data)));
  }

  async extendDigest(index: number, digest: Uint8Array): Promise<Uint8Array> {
    checkPcr(index);
    if (digest.length !== 20) throw new TpmArgumentError(`a SHA-1 digest has 20 bytes, not ${digest.length}`);
    return this.cmd.extend(index, digest).catch(refusal());
  }

  /** TPM_Seal under the SRK to TPM_PCR_INFO, then the TPM_STORED_DATA into the NV index (as tpmr seal does). */
  async seal(secret: Uint8Array, options: SealOptions): Promise<void> {
    if (secret.length === 0 || secret.length > MAX_SEALED) throw new TpmArgumentError(`a sealed secret has 1 to ${MAX_SEALED} bytes, not ${secret.length}`);
    checkNvIndex(options.handle);
    const pcrs = sealPcrs(options.pcrs);
    const need = pcrs.filter((p) => !options.pcrValues?.has(p));
    const values = new Map([...(await this.pcrRead(need)), ...(options.pcrValues ?? [])]);
    const info = pcrs.length ? pcrInfo(pcrs, compositeHash(pcrs, values)) : new Uint8Array(0);
    const blob = await this.cmd.seal(WELL_KNOWN_AUTH, authOf(options.passphrase), info, secret).catch(refusal("srk"));
    await this.store(options.handle, blob, options.ownerPassphrase);
  }

  /**
   * Heads defines the sealed blob's index with no NV permission bits (tpmr: nv_definespace
   * -per 0), sized to the blob, so tpmtotp writes and wipes it without authorization; an index
   * of another size or with permissions is replaced.
   */
  private async store(index: number, blob: Uint8Array, ownerPassphrase?: Secret): Promise<void> {
    const pub = await this.cmd.nvPublic(index).catch(refusal());
    const reusable = pub && pub.size === blob.length && pub.permission === 0;
    if (!reusable) {
      const owner = authOf(ownerPassphrase);
      if (pub) await this.undefine(pub.index, owner);
      await this.cmd.nvDefineSpace(nvDataPublic({ index, permission: 0, size: blob.length }), WELL_KNOWN_AUTH, owner).catch(refusal("owner", index));
    }
    await this.writeChunks(index, blob);
  }

  private async writeChunks(index: number, data: Uint8Array, auth?: { kind: "owner" | "index"; value: Uint8Array }): Promise<void> {
    for (let o = 0; o < data.length; o += NV_CHUNK) await this.cmd.nvWrite(index, o, data.subarray(o, Math.min(data.length, o + NV_CHUNK)), auth).catch(refusal(auth?.kind));
  }

  private async readChunks(index: number, size: number, auth?: { kind: "owner" | "index"; value: Uint8Array }): Promise<Uint8Array> {
    const out = new Uint8Array(size);
    for (let o = 0; o < size; o += NV_CHUNK) {
      const part = await this.cmd.nvRead(index, o, Math.min(NV_CHUNK, size - o), auth).catch(refusal(auth?.kind));
      out.set(part, o);
    }
    return out;
  }

  private async undefine(index: number, ownerAuth: Uint8Array): Promise<void> {
    await this.cmd.nvDefineSpace(nvDataPublic({ index, permission: 0, size: 0 }), WELL_KNOWN_AUTH, ownerAuth).catch(refusal("owner", index));
  }

  /** Read the blob from NV (no authorization, as tpmtotp does), then TPM_Unseal with the SRK's and the data's authorization. */
  async unseal(options: UnsealOptions): Promise<Uint8Array> {
    const blob = await this.storedBlob(options.handle);
    const where = `NV index 0x${options.handle.toString(16)}`;
    if (blob === "none") throw new TpmError(`nothing is sealed at ${where}: generate a new secret`);
    if (blob === "wiped") throw new TpmError(`the secret at ${where} was wiped: generate a new secret`);
    try {
      return await this.cmd.unseal(WELL_KNOWN_AUTH, authOf(options.passphrase), blob.bytes);
    } catch (e) {
      if (e instanceof TpmResponseError && e.rc === RC12.AUTH2FAIL)
        throw new TpmPolicyError(options.passphrase === undefined ? "unseal refused: this secret needs a passphrase" : "unseal refused: wrong passphrase", e, "passphrase");
      if (e instanceof TpmResponseError && e.rc === RC12.WRONGPCRVAL) throw await this.pcrRefusal(e, blob.pcrs, blob.digestAtRelease, options);
      // TPM_ForceClear keeps NV indices without owner permissions, Heads' blob among them, but the SRK that sealed it is gone.
      if (e instanceof TpmResponseError && e.rc === RC12.NOTSEALED_BLOB) throw new TpmError(`the secret at ${where} was sealed before the TPM was last reset: generate a new secret`);
      throw refusal("srk")(e);
    }
  }

  private async storedBlob(handle: number): Promise<StoredData | "none" | "wiped"> {
    checkNvIndex(handle);
    const pub = await this.cmd.nvPublic(handle).catch(refusal());
    if (!pub) return "none";
    const raw = await this.readChunks(handle, pub.size);
    if (raw.every((b) => b === 0)) return "wiped";
    return parseStoredData(raw, `the sealed blob at NV index 0x${handle.toString(16)}`);
  }

  /** The blob in NV is public: its TPM_PCR_INFO names the PCRs and the composite digest they must reach. */
  async sealedObject(handle: number): Promise<SealedObject | null> {
    const blob = await this.storedBlob(handle);
    if (typeof blob === "string") return null;
    const digest = blob.digestAtRelease;
    return {
      boundTo: (pcrs, values) =>
        digest !== null &&
        [...new Set(pcrs)].sort((a, b) => a - b).join(",") === blob.pcrs.join(",") &&
        blob.pcrs.every((p) => values.get(p)?.length === 20) &&
        equalBytes(compositeHash(blob.pcrs, new Map(values)), digest),
    };
  }

  /** Name the PCRs that moved, when the values believed sealed are provably those of the blob. */
  private async pcrRefusal(e: TpmResponseError, sealed: number[], digest: Uint8Array | null, options: UnsealOptions): Promise<TpmPolicyError> {
    const asked = [...new Set(options.pcrs)].sort((a, b) => a - b);
    const listDiffers = asked.join(",") !== sealed.join(",");
    const believed = options.pcrValues;
    if (digest && believed && sealed.every((p) => believed.has(p)) && equalBytes(compositeHash(sealed, believed), digest)) {
      const now = await this.pcrRead(sealed);
      const moved = sealed.filter((p) => !equalBytes(now.get(p)!, believed.get(p)!));
      return new TpmPolicyError(`unseal refused: PCR ${moved.join(", ")} changed since the secret was sealed`, e, "pcr", moved);
    }
    const list = listDiffers ? ` (it is sealed to PCRs ${sealed.join(",")}, not ${asked.join(",")})` : "";
    return new TpmPolicyError(`unseal refused: the PCR values (${sealed.join(",")}) are not those the secret was sealed to${list}`, e, "pcr");
  }

  /**
   * Give the SRK the well-known authorization Heads seals and unseals with, keeping the
   * owner and everything sealed: the way out for a TPM owned by another tool (TrouSerS'
   * tpm_takeownership without -z, swtpm_setup) without clearing it.
   */
  async useWellKnownSrkAuth(ownerPassphrase: Secret): Promise<void> {
    await this.cmd.changeAuthOwner(authOf(ownerPassphrase), TPM_ET_SRK, WELL_KNOWN_AUTH).catch(refusal("owner"));
  }

  /**
   * With the owner passphrase the index is deleted; without it, it is overwritten with zeros
   * as Heads' tpmr destroy does (the blob's index needs no authorization to write).
   */
  async destroy(handle: number, ownerPassphrase?: Secret): Promise<void> {
    checkNvIndex(handle);
    const pub = await this.cmd.nvPublic(handle).catch(refusal());
    if (!pub) return;
    if (ownerPassphrase !== undefined) return this.undefine(handle, authOf(ownerPassphrase));
    await this.writeChunks(handle, new Uint8Array(pub.size));
  }

  async counterCreate(options: CounterOptions = {}): Promise<number> {
    return this.cmd.createCounter(authOf(options.ownerPassphrase), COUNTER_AUTH, HEADS_COUNTER_LABEL).catch(refusal("owner"));
  }

  async counterRead(id: number): Promise<bigint> {
    checkU32(id, "counter id");
    return this.cmd.readCounter(id).catch(refusal());
  }

  async counterIncrement(id: number): Promise<bigint> {
    checkU32(id, "counter id");
    return this.cmd.incrementCounter(id, COUNTER_AUTH).catch(refusal("counter"));
  }

  /**
   * Without an index passphrase writing needs the owner passphrase (TPM_NV_PER_OWNERWRITE);
   * with one, writing needs it (TPM_NV_PER_AUTHWRITE). Reading is free either way.
   */
  // TPM_CAP_HANDLE lists only the counter incremented this boot, so each id is probed:
  // TPM_ReadCounter needs no authorization and answers TPM_BAD_COUNTER for an unused id.
  // The spec's minimum is 4 counters; real parts and swtpm number them from 0.
  async counters(): Promise<number[]> {
    const found: number[] = [];
    for (let id = 0; id < COUNTER_IDS_PROBED; id++) {
      try {
        await this.cmd.readCounter(id);
        found.push(id);
      } catch (e) {
        if (!(e instanceof TpmResponseError) || e.rc !== RC12.BAD_COUNTER) throw refusal()(e);
      }
    }
    return found;
  }

  /** On 1.2 a slot is an NV index; defining one takes owner authorization. */
  async slotInUse(handle: number): Promise<boolean> {
    return (await this.cmd.nvPublic(handle)) !== null;
  }

  async nvDefine(index: number, size: number, options: NvDefineOptions = {}): Promise<void> {
    checkNvIndex(index);
    if (!Number.isInteger(size) || size < 1 || size > 0xffff) throw new TpmArgumentError(`an NV area has 1 to 65535 bytes, not ${size}`);
    const permission = options.auth !== undefined ? TPM_NV_PER_AUTHWRITE : TPM_NV_PER_OWNERWRITE;
    await this.cmd.nvDefineSpace(nvDataPublic({ index, permission, size }), authOf(options.auth), authOf(options.ownerPassphrase)).catch(refusal("owner", index));
  }

  /** `auth` is what the index asks for: its own passphrase, or the owner's when it is owner-protected. */
  async nvRead(index: number, size?: number, auth?: Secret): Promise<Uint8Array> {
    const pub = await this.existing(index);
    return this.readChunks(index, size ?? pub.size, accessAuth(pub, TPM_NV_PER_AUTHREAD, TPM_NV_PER_OWNERREAD, auth));
  }

  async nvWrite(index: number, data: Uint8Array, auth?: Secret): Promise<void> {
    const pub = await this.existing(index);
    await this.writeChunks(index, data, accessAuth(pub, TPM_NV_PER_AUTHWRITE, TPM_NV_PER_OWNERWRITE, auth));
  }

  private async existing(index: number): Promise<NvPublic> {
    checkNvIndex(index);
    const pub = await this.cmd.nvPublic(index).catch(refusal());
    if (!pub) throw new TpmError(`nothing is defined at NV index 0x${index.toString(16)}`);
    return pub;
  }

  async nvUndefine(index: number, ownerPassphrase?: Secret): Promise<void> {
    checkNvIndex(index);
    await this.undefine(index, authOf(ownerPassphrase));
  }

  async nvSize(index: number): Promise<number | null> {
    checkNvIndex(index);
    return (await this.cmd.nvPublic(index).catch(refusal()))?.size ?? null;
  }

  /**
   * tpmr reset on 1.2: physical presence by command, enable and activate, TPM_ForceClear,
   * enable again, then TakeOwnership with SHA-1(passphrase) as owner authorization and a
   * 2048-bit SRK with the well-known authorization and authDataUsage NEVER (tpmtotp's takeown).
   */
  async reset(options: ResetOptions): Promise<void> {
    const owner = bytesOf(options.ownerPassphrase);
    if (owner.length === 0) throw new TpmArgumentError("the owner passphrase cannot be empty");
    // The lifetime lock may forbid enabling the command; asserting presence then says so.
    await this.cmd.physicalPresence(TPM_PHYSICAL_PRESENCE_CMD_ENABLE).catch((e: unknown) => {
      if (!(e instanceof TpmResponseError)) throw e;
    });
    try {
      await this.cmd.physicalPresence(TPM_PHYSICAL_PRESENCE_PRESENT);
    } catch (e) {
      if (!(e instanceof TpmResponseError)) throw e;
      // SeaBIOS locks presence before the OS runs. An unowned, enabled and active TPM needs
      // none to take an owner; clearing an owned one does (TPM_OwnerClear would leave it
      // disabled and deactivated, which only presence undoes).
      if (await this.cmd.owned()) throw new TpmError("physical presence cannot be asserted by command on this TPM (the firmware locked it): clear the TPM in the firmware's setup, then reset it here");
      return this.takeOwnership(owner);
    }
    let done = false;
    try {
      await this.clearAndOwn(owner);
      done = true;
    } finally {
      // Presence stays asserted until the next TPM_Startup otherwise, and with it anyone could
      // clear the TPM; when the reset already failed, that first error is the one to report.
      await this.cmd.physicalPresence(TPM_PHYSICAL_PRESENCE_NOTPRESENT).catch((e: unknown) => {
        if (done) throw e;
      });
    }
  }

  private async clearAndOwn(owner: Uint8Array): Promise<void> {
    await this.cmd.physicalEnable();
    await this.cmd.physicalSetDeactivated(false);
    try {
      await this.cmd.forceClear();
    } catch (e) {
      // Deactivation is latched at TPM_Startup: clearing the permanent flag above acts only from the next start.
      if (e instanceof TpmResponseError && e.rc === RC12.DEACTIVATED)
        throw new TpmDisabledError("the TPM was deactivated; it will be active from the next start: restart the machine, then reset the TPM again", "deactivated");
      refusal()(e);
    }
    await this.cmd.physicalEnable();
    await this.cmd.physicalSetDeactivated(false);
    await this.takeOwnership(owner);
  }

  private async takeOwnership(owner: Uint8Array): Promise<void> {
    let ek: { modulus: Uint8Array; exponent: number };
    try {
      ek = await this.cmd.readPubek();
    } catch (e) {
      if (e instanceof TpmResponseError && e.rc === RC12.NO_ENDORSEMENT)
        throw new TpmError("the TPM has no endorsement key, so it cannot take an owner: have the firmware (or the TPM vendor's tool) create one");
      throw e;
    }
    await this.cmd.takeOwnership(ek, sha1(owner), WELL_KNOWN_AUTH, srkParams(TPM_AUTH_NEVER)).catch(refusal());
  }

  /**
   * Heads' kexec_finalize does nothing on 1.2. bootward locks physical presence off until the
   * next TPM_Startup, so the OS cannot assert it by command and clear, disable or deactivate
   * the TPM — the 1.2 counterpart of locking the 2.0 platform hierarchy.
   */
  async finalize(): Promise<void> {
    if ((await this.cmd.stclearFlags()).physicalPresenceLock) return;
    try {
      await this.cmd.physicalPresence(TPM_PHYSICAL_PRESENCE_NOTPRESENT | TPM_PHYSICAL_PRESENCE_LOCK);
    } catch (e) {
      if (!(e instanceof TpmResponseError)) throw e;
      // Without the command enabled for good, nobody can assert presence by command: nothing to lock.
      const f = await this.cmd.permanentFlags();
      if (f.physicalPresenceCMDEnable || !f.physicalPresenceLifetimeLock) throw e;
    }
  }

  async shutdown(): Promise<void> {
    await this.cmd.saveState();
  }

  close(): void {
    this.cmd.transport.close?.();
  }
}

function accessAuth(pub: NvPublic, authBit: number, ownerBit: number, auth?: Secret): { kind: "owner" | "index"; value: Uint8Array } | undefined {
  if (pub.permission & authBit) return { kind: "index", value: authOf(auth) };
  if (pub.permission & ownerBit) return { kind: "owner", value: authOf(auth) };
  return undefined;
}

/** Who authorized the command, so TPM_AUTHFAIL can say whose passphrase was wrong. */
type Authorizer = "owner" | "srk" | "counter" | "index";

/** Turn the return codes a user can act on into typed errors with the way out. */
function refusal(by?: Authorizer, nvIndex?: number): (e: unknown) => never {
  return (e: unknown): never => {
    if (!(e instanceof TpmResponseError)) throw e;
    switch (e.rc) {
      case RC12.DISABLED:
        throw new TpmDisabledError("the TPM is disabled: enable it in the firmware's setup, or reset it from the TPM menu (which asserts physical presence and enables it)", "disabled");
      case RC12.DEACTIVATED:
        throw new TpmDisabledError("the TPM is deactivated: activate it in the firmware's setup (or reset it from the TPM menu) and restart the machine", "deactivated");
      case RC12.NOSRK:
        throw new TpmError("the TPM has no owner (no storage root key): reset the TPM from the menu to take ownership");
      case RC12.NOSPACE:
        throw new TpmNvSpaceError(`the TPM has no NV space left${nvIndex === undefined ? "" : ` for index 0x${nvIndex.toString(16)}`}: remove an index that is no longer used, or reset the TPM`, e);
      case RC12.DEFEND_LOCK_RUNNING:
        // TPM 1.2 does not say how long its defence lasts: the sentence says so.
        throw new TpmLockoutError(null, e);
      case RC12.AUTHFAIL:
        if (by === "owner") throw new TpmOwnerAuthError("the TPM owner passphrase was not accepted: type it again; if nobody knows it, reset the TPM from the menu (this needs physical presence and erases its secrets)", e);
        if (by === "srk") throw new TpmSrkAuthError("the TPM's storage root key does not take the well-known authorization Heads uses (another tool took ownership): give the owner passphrase to set it, or reset the TPM from the menu", e);
        if (by === "counter") throw new TpmError("the counter does not take Heads' empty counter passphrase: reset the TPM from the menu and create a new counter");
        if (by === "index") throw new TpmPolicyError("the NV index's passphrase was not accepted", e, "passphrase");
    }
    throw e;
  };
}

function sealPcrs(pcrs: number[]): number[] {
  const out = [...new Set(pcrs)].sort((a, b) => a - b);
  for (const p of out) if (!Number.isInteger(p) || p < 0 || p >= SEAL_SELECT_SIZE * 8) throw new TpmArgumentError(`PCR ${p} cannot be sealed to on TPM 1.2 here: TPM_PCR_INFO selects PCRs 0-15, as Heads' sealfile2 does`);
  return out;
}

function checkPcr(i: number): void {
  if (!Number.isInteger(i) || i < 0 || i > 23) throw new TpmArgumentError(`PCR ${i} is out of range 0-23`);
}

function checkU32(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new TpmArgumentError(`${what} ${v} is not a 32-bit number`);
}

/** User NV indices on 1.2 (Heads: 0x4d47 for TOTP, 3 for the disk key); the top byte holds the T/P/U/D bits. */
function checkNvIndex(i: number): void {
  if (!Number.isInteger(i) || i < 1 || i > 0xffffff) throw new TpmArgumentError(`0x${i.toString(16)} is not a TPM 1.2 NV index here (0x1-0xffffff)`);
}
