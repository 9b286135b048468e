/** True on little-endian hosts (where typed-array scratch needs its bytes swapped). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
