// TPM 2.0 constants (TCG TPM 2.0 Library, Part 2), with the spec's names.

export const TPM_ST_NO_SESSIONS = 0x8001;
export const TPM_ST_SESSIONS = 0x8002;

export const CC = {
  NV_UndefineSpaceSpecial: 0x11f,
  EvictControl: 0x120,
  HierarchyControl: 0x121,
  NV_UndefineSpace: 0x122,
  Clear: 0x126,
  ClearControl: 0x127,
  HierarchyChangeAuth: 0x129,
  NV_DefineSpace: 0x12a,
  CreatePrimary: 0x131,
  NV_Increment: 0x134,
  NV_Extend: 0x136,
  NV_Write: 0x137,
  DictionaryAttackLockReset: 0x139,
  DictionaryAttackParameters: 0x13a,
  PCR_Reset: 0x13d,
  SelfTest: 0x143,
  Startup: 0x144,
  Shutdown: 0x145,
  NV_Read: 0x14e,
  PolicySecret: 0x151,
  Create: 0x153,
  Load: 0x157,
  Quote: 0x158,
  Unseal: 0x15e,
  ContextLoad: 0x161,
  ContextSave: 0x162,
  FlushContext: 0x165,
  NV_ReadPublic: 0x169,
  PolicyAuthorize: 0x16a,
  PolicyAuthValue: 0x16b,
  PolicyCommandCode: 0x16c,
  PolicyOR: 0x171,
  ReadPublic: 0x173,
  StartAuthSession: 0x176,
  GetCapability: 0x17a,
  GetRandom: 0x17b,
  PCR_Read: 0x17e,
  PolicyPCR: 0x17f,
  PolicyRestart: 0x180,
  PCR_Extend: 0x182,
  PolicyGetDigest: 0x189,
  PolicyPassword: 0x18c,
} as const;

const ccNames = new Map<number, string>(Object.entries(CC).map(([k, v]) => [v, "TPM2_" + k]));
export function commandName(code: number): string {
  return ccNames.get(code) ?? `TPM2_CC_0x${code.toString(16)}`;
}

export const TPM_RH_OWNER = 0x40000001;
export const TPM_RH_NULL = 0x40000007;
export const TPM_RS_PW = 0x40000009;
export const TPM_RH_LOCKOUT = 0x4000000a;
export const TPM_RH_ENDORSEMENT = 0x4000000b;
export const TPM_RH_PLATFORM = 0x4000000c;

export const HR_TRANSIENT = 0x80000000;
export const HR_PERSISTENT = 0x81000000;
export const HR_NV_INDEX = 0x01000000;
export const HR_HMAC_SESSION = 0x02000000;
export const HR_POLICY_SESSION = 0x03000000;

export const ALG = {
  RSA: 0x0001,
  SHA1: 0x0004,
  HMAC: 0x0005,
  AES: 0x0006,
  KEYEDHASH: 0x0008,
  XOR: 0x000a,
  SHA256: 0x000b,
  NULL: 0x0010,
  OAEP: 0x0017,
  ECC: 0x0023,
  SYMCIPHER: 0x0025,
  CFB: 0x0043,
} as const;

export const TPM_ECC_NIST_P256 = 0x0003;

export const TPM_SE_HMAC = 0x00;
export const TPM_SE_POLICY = 0x01;
export const TPM_SE_TRIAL = 0x03;

export const TPM_SU_CLEAR = 0x0000;
export const TPM_SU_STATE = 0x0001;

export const TPM_CAP_HANDLES = 0x00000001;
export const TPM_CAP_PCRS = 0x00000005;
export const TPM_CAP_TPM_PROPERTIES = 0x00000006;

export const TPM_PT_MANUFACTURER = 0x105;
export const TPM_PT_VENDOR_STRING_1 = 0x106;
export const TPM_PT_FIRMWARE_VERSION_1 = 0x10b;
export const TPM_PT_FIRMWARE_VERSION_2 = 0x10c;
export const TPM_PT_PERMANENT = 0x200;
export const TPM_PT_STARTUP_CLEAR = 0x201;
export const TPM_PT_LOCKOUT_COUNTER = 0x20e;
export const TPM_PT_MAX_AUTH_FAIL = 0x20f;
export const TPM_PT_LOCKOUT_INTERVAL = 0x210;
export const TPM_PT_LOCKOUT_RECOVERY = 0x211;

/** TPMA_SESSION */
export const SESSION = {
  continueSession: 0x01,
  decrypt: 0x20,
  encrypt: 0x40,
} as const;

/** TPMA_OBJECT */
export const OBJECT = {
  fixedTPM: 0x2,
  stClear: 0x4,
  fixedParent: 0x10,
  sensitiveDataOrigin: 0x20,
  userWithAuth: 0x40,
  adminWithPolicy: 0x80,
  noDA: 0x400,
  restricted: 0x10000,
  decrypt: 0x20000,
  sign: 0x40000,
} as const;

/** TPMA_NV */
export const NV = {
  PPWRITE: 0x1,
  OWNERWRITE: 0x2,
  AUTHWRITE: 0x4,
  POLICYWRITE: 0x8,
  /** TPM_NT_COUNTER in the TPM_NT field (bits 7:4), which says what kind of index it is. */
  COUNTER: 0x10,
  TPM_NT: 0xf0,
  POLICY_DELETE: 0x400,
  WRITELOCKED: 0x800,
  WRITEALL: 0x1000,
  PPREAD: 0x10000,
  OWNERREAD: 0x20000,
  AUTHREAD: 0x40000,
  POLICYREAD: 0x80000,
  NO_DA: 0x2000000,
  WRITTEN: 0x20000000,
  PLATFORMCREATE: 0x40000000,
} as const;
