// `node:buffer`: ink only asks whether a key chunk is a Buffer; here none ever is.
export const Buffer = {
  isBuffer(_value: unknown): boolean {
    return false;
  },
};
export default { Buffer };
