// AdaptiveMutex moved to base/mutex.h (annotated for the thread-safety
// analysis, with AdaptiveMutexLock); this name stays for the code that still
// spells it backend::AdaptiveMutex (mvcc/store.h).
#ifndef REVKV_BACKEND_ADAPTIVE_MUTEX_H_
#define REVKV_BACKEND_ADAPTIVE_MUTEX_H_

#include "base/mutex.h"

namespace revkv::backend {

using AdaptiveMutex = base::AdaptiveMutex;

}  // namespace revkv::backend

#endif  // REVKV_BACKEND_ADAPTIVE_MUTEX_H_
