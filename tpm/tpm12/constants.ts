// TPM 1.2 ordinals and tags (TPM Main Part 2 and 3, v1.2 rev 116).

export const TPM_TAG_RQU_COMMAND = 0x00c1;
export const TPM_TAG_RSP_COMMAND = 0x00c4;

export const ORD = {
  OIAP: 0x0a,
  OSAP: 0x0b,
  Extend: 0x14,
  PCRRead: 0x15,
  GetRandom: 0x46,
  GetCapability: 0x65,
  SaveState: 0x98,
  Startup: 0x99,
} as const;

const names = new Map<number, string>(Object.entries(ORD).map(([k, v]) => [v, "TPM_" + k]));
export function ordinalName(ordinal: number): string {
  return names.get(ordinal) ?? `TPM_ORD_0x${ordinal.toString(16)}`;
}

export const TPM_ST_CLEAR = 0x0001;

export const TPM_CAP_PROPERTY = 0x05;
export const TPM_CAP_VERSION_VAL = 0x1a;
export const TPM_CAP_PROP_PCR = 0x101;
export const TPM_CAP_PROP_MANUFACTURER = 0x103;

export const TPM_INVALID_POSTINIT = 0x26;
export const TPM_RETRY = 0x800;
