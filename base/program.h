// What each of innsyn's programs does first, before it starts a thread.
//
// Debian's Abseil keeps its debug default for absl::Mutex: every Lock taken
// while another is held is checked for a lock-order cycle, in one graph
// shared by the whole process under one global lock, with a stack trace
// recorded for each new edge. In innsynd that check took about 3 % of its
// CPU under 64 unary clients (perf), and it makes every lock of every
// thread wait on that one global lock. innsyn's programs run with Abseil's
// release default, no check; the unit tests, which do not call this, keep
// it, so that a lock-order inversion still fails them.
#ifndef INNSYN_BASE_PROGRAM_H_
#define INNSYN_BASE_PROGRAM_H_

#include "absl/synchronization/mutex.h"

namespace innsyn {

inline void StartProgram() { absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore); }

}  // namespace innsyn

#endif  // INNSYN_BASE_PROGRAM_H_
