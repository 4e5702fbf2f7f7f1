// Test guest: grows memory until the host's limit stops it.
export function alloc(len: i32): usize {
  return heap.alloc(<usize>len);
}
export function handle(ptr: usize, len: i32): usize {
  while (memory.grow(16) >= 0) {}
  unreachable();
  return ptr + <usize>len;
}
