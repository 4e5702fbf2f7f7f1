// Test guest: tries to read what an earlier request left in memory. It returns the 16 bytes at a fixed
// address, then writes its own payload there. A host that leaked memory between requests would let the next
// request read this one's payload.
const SPOT: usize = 40000;

export function alloc(len: i32): usize {
  return heap.alloc(<usize>len);
}
export function handle(ptr: usize, len: i32): usize {
  const out = heap.alloc(4 + 16);
  store<i32>(out, 16);
  memory.copy(out + 4, SPOT, 16);
  memory.copy(SPOT, ptr, <usize>min(len, 16));
  return out;
}
