// What every flash driver is to its callers (the file-backed flash, flashrom): one face and one error.

export class FlashError extends Error {
  override readonly name = "FlashError";
}

export interface FlashDevice {
  /** What the user is told it is ("/dev/vdb"). */
  readonly name: string;
  read(): Promise<Uint8Array>;
  write(image: Uint8Array): Promise<void>;
}
