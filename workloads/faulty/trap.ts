// Test guest: traps on every request.
export function alloc(len: i32): usize {
  return heap.alloc(<usize>len);
}
export function handle(ptr: usize, len: i32): usize {
  unreachable();
  return ptr + <usize>len;
}
