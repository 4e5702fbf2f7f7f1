// Test guest: asks `t.ask` with its message body (consumer.request, which blocks) and replies "asked:<answer>",
// or "error:<why>". The host cannot run a blocking call on its own thread: it must hand this guest to a worker.
import { done, lastError, Message, reply, request } from "../lib/wit";
export { cabi_realloc } from "../lib/wit";

export function handle_message(sp: usize, sl: usize, bp: usize, bl: usize, hasReply: i32, rp: usize, rl: usize): usize {
  const msg = Message.lift(sp, sl, bp, bl, hasReply, rp, rl);
  const answer = request("t.ask", msg.text(), 1000);
  const text = answer === null ? `error:${lastError!}` : `asked:${String.UTF8.decodeUnsafe(answer.dataStart, <usize>answer.length)}`;
  return done(reply(msg, text) ? null : "publish failed");
}
