// TPM 1.2 ordinals, tags and the constants bootward uses (TPM Main Part 2 and 3, v1.2 rev 116).

/** With n authorizations a command's tag is TPM_TAG_RQU_COMMAND + n, its answer's TPM_TAG_RSP_COMMAND + n. */
export const TPM_TAG_RQU_COMMAND = 0x00c1;
export const TPM_TAG_RSP_COMMAND = 0x00c4;

export const ORD = {
  OIAP: 0x0a,
  OSAP: 0x0b,
  TakeOwnership: 0x0d,
  ChangeAuthOwner: 0x10,
  Extend: 0x14,
  PCRRead: 0x15,
  Seal: 0x17,
  Unseal: 0x18,
  GetRandom: 0x46,
  ForceClear: 0x5d,
  GetCapability: 0x65,
  PhysicalEnable: 0x6f,
  PhysicalSetDeactivated: 0x72,
  ReadPubek: 0x7c,
  SaveState: 0x98,
  Startup: 0x99,
  FlushSpecific: 0xba,
  NV_DefineSpace: 0xcc,
  NV_WriteValue: 0xcd,
  NV_WriteValueAuth: 0xce,
  NV_ReadValue: 0xcf,
  NV_ReadValueAuth: 0xd0,
  CreateCounter: 0xdc,
  IncrementCounter: 0xdd,
  ReadCounter: 0xde,
  PhysicalPresence: 0x4000000a,
} as const;

const names = new Map<number, string>(Object.entries(ORD).map(([k, v]) => [v, (v === ORD.PhysicalPresence ? "TSC_" : "TPM_") + k]));
export function ordinalName(ordinal: number): string {
  return names.get(ordinal) ?? `TPM_ORD_0x${ordinal.toString(16)}`;
}

export const TPM_ST_CLEAR = 0x0001;

export const TPM_CAP_FLAG = 0x04;
export const TPM_CAP_PROPERTY = 0x05;
export const TPM_CAP_NV_INDEX = 0x11;
export const TPM_CAP_VERSION_VAL = 0x1a;
export const TPM_CAP_PROP_PCR = 0x101;
export const TPM_CAP_PROP_MANUFACTURER = 0x103;
export const TPM_CAP_PROP_OWNER = 0x111;
export const TPM_CAP_FLAG_PERMANENT = 0x108;
export const TPM_CAP_FLAG_VOLATILE = 0x109;

export const TPM_ET_OWNER = 0x0002;
export const TPM_ET_SRK = 0x0004;
export const TPM_KH_SRK = 0x40000000;
export const TPM_KH_OWNER = 0x40000001;
export const TPM_RT_AUTH = 0x00000002;
export const TPM_PID_OWNER = 0x0005;
export const TPM_PID_ADCP = 0x0004;

export const TPM_PHYSICAL_PRESENCE_LOCK = 0x0004;
export const TPM_PHYSICAL_PRESENCE_PRESENT = 0x0008;
export const TPM_PHYSICAL_PRESENCE_NOTPRESENT = 0x0010;
export const TPM_PHYSICAL_PRESENCE_CMD_ENABLE = 0x0020;

export const TPM_TAG_COUNTER_VALUE = 0x000e;
export const TPM_TAG_NV_ATTRIBUTES = 0x0017;
export const TPM_TAG_NV_DATA_PUBLIC = 0x0018;
export const TPM_TAG_PERMANENT_FLAGS = 0x001f;
export const TPM_TAG_STCLEAR_FLAGS = 0x0020;

export const TPM_NV_PER_AUTHWRITE = 0x00000004;
export const TPM_NV_PER_OWNERWRITE = 0x00000002;
export const TPM_NV_PER_AUTHREAD = 0x00040000;
export const TPM_NV_PER_OWNERREAD = 0x00020000;

export const TPM_KEY_STORAGE = 0x0011;
export const TPM_AUTH_NEVER = 0x00;
export const TPM_ALG_RSA = 0x00000001;
export const TPM_ES_RSAESOAEP_SHA1_MGF1 = 0x0003;
export const TPM_SS_NONE = 0x0001;
export const TPM_LOC_ZERO = 0x01;

/** Return codes the library reacts to (Part 2, 16). */
export const RC12 = {
  AUTHFAIL: 0x01,
  BADINDEX: 0x02,
  BAD_PARAMETER: 0x03,
  DEACTIVATED: 0x06,
  DISABLED: 0x07,
  NOSPACE: 0x11,
  NOSRK: 0x12,
  NOTSEALED_BLOB: 0x13,
  OWNER_SET: 0x14,
  WRONGPCRVAL: 0x18,
  AUTH2FAIL: 0x1d,
  NO_ENDORSEMENT: 0x23,
  INVALID_POSTINIT: 0x26,
  BAD_PRESENCE: 0x2d,
  BAD_COUNTER: 0x45,
  RETRY: 0x800,
  DEFEND_LOCK_RUNNING: 0x803,
} as const;

export const TPM_INVALID_POSTINIT = RC12.INVALID_POSTINIT;
export const TPM_RETRY = RC12.RETRY;

/** The TSS "well-known secret": the authorization Heads gives the SRK and unprotected data. */
export const WELL_KNOWN_AUTH = new Uint8Array(20);
