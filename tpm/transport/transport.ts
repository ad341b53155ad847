// A Transport carries one complete command to the TPM and brings back one complete
// response. Everything above it is bytes in, bytes out.

export interface Transport {
  send(command: Uint8Array): Promise<Uint8Array>;
  close?(): void;
  /** True when a kernel resource manager (/dev/tpmrm0) flushes what we leave behind. */
  readonly resourceManaged?: boolean;
}

/** Size field of a TPM 1.2 or 2.0 header (tag u16, size u32, code u32). */
export function headerSize(header: Uint8Array): number {
  return ((header[2]! << 24) | (header[3]! << 16) | (header[4]! << 8) | header[5]!) >>> 0;
}

export const HEADER_LENGTH = 10;
/** No TPM answers more than this; a larger size field means a corrupted stream. */
export const MAX_RESPONSE = 64 * 1024;
