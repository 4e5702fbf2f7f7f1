// Test guest: tries to read what an earlier message left in memory. It replies with the 16 bytes at a fixed
// address, then writes its own message body there. A host that leaked memory between messages would let the
// next message read this one's body.
import { done, Message, replyBytes } from "../lib/wit";
export { cabi_realloc } from "../lib/wit";

const SPOT: usize = 40000;

export function handle_message(sp: usize, sl: usize, bp: usize, bl: usize, hasReply: i32, rp: usize, rl: usize): usize {
  const msg = Message.lift(sp, sl, bp, bl, hasReply, rp, rl);
  const seen = new Uint8Array(16);
  memory.copy(seen.dataStart, SPOT, 16);
  memory.copy(SPOT, msg.body.dataStart, <usize>min(msg.body.length, 16));
  return done(replyBytes(msg, seen) ? null : "publish failed");
}
