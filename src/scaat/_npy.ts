/**
 * A minimal .npy (NumPy format 1.0) writer for 1-D float32 arrays, internal to scaat/ until the
 * shared `io/npy.ts` lands (then this file is deleted and `writeIrrelevantRatios` uses that one).
 *
 *   "\x93NUMPY" 1 0 | uint16 LE header length | "{'descr': '<f4', 'fortran_order': False, 'shape': (N,), }"
 *   padded with spaces and a final "\n" to a multiple of 64 bytes | N little-endian float32
 */

/** The bytes of a .npy file holding `data` as a 1-D little-endian float32 array. */
export function encodeNpyFloat32(data: Float32Array): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${data.length},), }`;
  const unpadded = 10 + dict.length + 1;
  const headerLen = dict.length + 1 + ((64 - (unpadded % 64)) % 64);
  const header = dict.padEnd(headerLen - 1, ' ') + '\n';
  const out = new Uint8Array(10 + headerLen + 4 * data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY v1.0
  const view = new DataView(out.buffer);
  view.setUint16(8, headerLen, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const base = 10 + headerLen;
  for (let i = 0; i < data.length; i++) view.setFloat32(base + 4 * i, data[i]!, true);
  return out;
}
