// Base of every shared object view: a word index in a buffer, and the object's id.
export class KObj {
  constructor(
    /** the buffer's words */
    readonly a: Int32Array,
    /** word index of the object's first word */
    readonly i: number,
    /** object id (layout.ts) */
    readonly id: number,
  ) {}
}
