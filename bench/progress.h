// Progress: what a running benchmark tells the person waiting for it, on
// stderr (results go to stdout).
//
// On a terminal (isatty) a task draws one live line -- a bar, the ops/s so
// far and the ETA -- redrawn at most every 100 ms with "\r" and erased when
// the task ends. Anywhere else (CI logs, pipes) it writes a plain line every
// 2 seconds and never a control character. Every task ends with one plain
// summary line in both modes.
//
// Thread-compatible: one thread drives a Progress (Begin, Update, End).
#ifndef REVKV_BENCH_PROGRESS_H_
#define REVKV_BENCH_PROGRESS_H_

#include <cstdint>
#include <cstdio>
#include <string>

namespace revkv::bench {

class Progress {
 public:
  // `out` null: silent. `period_ns`: time between redraws; 0: the default
  // (100 ms on a terminal, 2 s otherwise).
  Progress(std::FILE* out, bool tty, uint64_t period_ns = 0);
  // stderr, as a terminal if isatty(2).
  static Progress Stderr();
  static Progress Silent() { return Progress(nullptr, false); }

  // Starts a task named `label`: `total_ops` operations (0: unknown) or,
  // time-boxed, `duration_s` seconds (0: unknown).
  void Begin(const std::string& label, uint64_t total_ops, double duration_s);
  // `done` operations have finished. Cheap: looks at the clock every 64th
  // call, or when `done` grew by 1,000 or more since it last looked.
  void Update(uint64_t done);
  // Ends the task, printing `summary` (if not empty) as a plain line.
  void End(const std::string& summary);
  // A plain message line.
  void Line(const std::string& text);

 private:
  void Draw(uint64_t done, uint64_t now_ns);
  void Clear();

  std::FILE* out_;
  bool tty_;
  std::string label_;
  uint64_t total_ = 0;
  double duration_s_ = 0;
  uint64_t period_ns_;
  uint64_t start_ns_ = 0;
  uint64_t next_ns_ = 0;
  uint32_t calls_ = 0;
  uint64_t last_done_ = 0;
  bool drawn_ = false;
};

// Nanoseconds on the steady clock.
uint64_t MonotonicNs();

}  // namespace revkv::bench

#endif  // REVKV_BENCH_PROGRESS_H_
