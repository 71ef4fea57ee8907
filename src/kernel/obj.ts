// Base of every shared object view: a word index in a buffer, and the object's id.
export class KObj {
  // Declared, not class fields: a field is first defined as undefined and then assigned, and the
  // driver makes these views at every step (Words.at, chain_obj), so the constructor only assigns.
  /** the buffer's words */
  declare readonly a: Int32Array;
  /** word index of the object's first word */
  declare readonly i: number;
  /** object id (layout.ts) */
  declare readonly id: number;
  constructor(a: Int32Array, i: number, id: number) {
    (this as { a: Int32Array }).a = a;
    (this as { i: number }).i = i;
    (this as { id: number }).id = id;
  }
}
