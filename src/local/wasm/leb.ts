/** Reading and writing the WebAssembly binary format's integers (LEB128) and names, shared by its readers. */

/** An unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** A cursor over a binary; `truncated` makes the error for reading past its end. */
export class Reader {
  constructor(
    readonly b: Uint8Array,
    public at = 0,
    private readonly truncated: () => Error = () => new Error("unexpected end of the binary"),
  ) {}
  byte(): number {
    if (this.at >= this.b.length) throw this.truncated();
    return this.b[this.at++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const x = this.byte();
      result += (x & 0x7f) * 2 ** shift;
      if ((x & 0x80) === 0) return result;
      shift += 7;
    }
  }
  /** Skip a LEB128 of any signedness and width. */
  skipLeb(): void {
    while (this.byte() & 0x80);
  }
  skip(n: number): void {
    this.at += n;
  }
  name(): string {
    const n = this.u32();
    const s = new TextDecoder().decode(this.b.subarray(this.at, this.at + n));
    this.at += n;
    return s;
  }
}
